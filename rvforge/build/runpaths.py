"""A built wheel names no directory of the build: run-time search paths into the build's work
directory are dropped from its shared objects.

CMake adds every directory a library was linked from, outside the project's build tree, to the
installed ``RUNPATH`` when the project asks for it (torch sets ``CMAKE_INSTALL_RPATH_USE_LINK_PATH``).
Built against the openblas wheel in its build venv, torch's libraries would then search the build
machine's cache at run time: on the laptop that directory does not exist, on the build machine it
may hold a stale copy of the library, loaded instead of the flavour the library wheel's loader
chose. The loader provides the library by its soname, so such entries are not needed.

The edit is made in place: the shortened string stays where the linker put it in ``.dynstr``,
padded with NULs, and nothing else in the file moves. An empty search path would mean the
current directory to the dynamic loader, so a path left with no entries becomes ``$ORIGIN``.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path, PurePosixPath
from typing import Sequence

from rvforge.build.elf_compare import section_headers
from rvforge.build.wheelhouse import normalize_wheel

_DT_RPATH, _DT_RUNPATH = 15, 29
_SEARCH_TAGS = (_DT_RPATH, _DT_RUNPATH)


def _inside(entry: str, directories: Sequence[str]) -> bool:
    path = PurePosixPath(entry)
    return any(path == PurePosixPath(d) or PurePosixPath(d) in path.parents for d in directories)


def drop_entries(data: bytes, directories: Sequence[str], label: str) -> tuple[bytes, list[str]]:
    """``data`` (an ELF shared object) without search-path entries inside ``directories``, and the
    entries dropped; ``data`` itself when there are none. Not ELF64: a ValueError naming ``label``."""
    sections = {s.name: s for s in section_headers(data, label)}
    dynamic, strings = sections.get(".dynamic"), sections.get(".dynstr")
    if dynamic is None or strings is None:
        return data, []
    edits: list[tuple[int, bytes]] = []
    dropped: list[str] = []
    for at in range(dynamic.offset, dynamic.offset + dynamic.size - 15, 16):
        tag, value = struct.unpack_from("<qQ", data, at)
        if tag not in _SEARCH_TAGS or value >= strings.size:
            continue
        start = strings.offset + value
        old = data[start:data.index(b"\0", start)]
        entries = old.decode(errors="surrogateescape").split(":")
        kept = [entry for entry in entries if not _inside(entry, directories)]
        if len(kept) == len(entries):
            continue
        dropped += [entry for entry in entries if entry not in kept]
        new = (":".join(kept) or "$ORIGIN").encode(errors="surrogateescape")
        if len(new) > len(old):
            raise ValueError(f"{label}: no room for the search path {new.decode(errors='replace')!r}")
        edits.append((start, new + b"\0" * (len(old) - len(new))))
    if not edits:
        return data, []
    edited = bytearray(data)  # copied only when needed: torch's libraries are hundreds of MB
    for start, replacement in edits:
        edited[start:start + len(replacement)] = replacement
    return bytes(edited), dropped


def drop_from_wheel(wheel: Path, directories: Sequence[Path | str], epoch: int) -> list[str]:
    """Rewrite ``wheel`` without search paths into ``directories`` (the build's own); one line per
    member changed, naming what was dropped. An unchanged wheel is left as it is."""
    names = [str(d) for d in directories]
    changed: dict[str, bytes] = {}
    report = []
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            base = member.filename.rsplit("/", 1)[-1]
            if ".so" not in base or member.is_dir():
                continue
            try:
                edited, dropped = drop_entries(archive.read(member), names, member.filename)
            except ValueError:
                continue  # not an ELF64 object (a linker script, another machine's file): nothing to edit
            if dropped:
                changed[member.filename] = edited
                report.append(f"{member.filename}: dropped {', '.join(dropped)}")
        if not changed:
            return []
        raw = wheel.with_name(f"raw-{wheel.name}")
        with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as out:
            for member in archive.infolist():
                out.writestr(member, changed.get(member.filename) or archive.read(member))
    normalize_wheel(raw, wheel, epoch)
    raw.unlink()
    return report
