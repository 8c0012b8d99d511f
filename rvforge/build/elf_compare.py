"""Two relocatable ELF objects compared section by section, and why they differ.

``.comment`` holds the compiler's identification string, which differs between a distro's
native gcc and its cross gcc of the same release ("12.2.0-14" vs "12.2.0-13cross1") without any
code difference; it is compared for the gcc version only. Every other section (code, data,
relocations, symbols, ``.riscv.attributes`` with the ISA string) must be byte-identical.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

#: ELF ``e_machine`` numbers -> the machine names used here.
MACHINES = {3: "i386", 40: "arm", 62: "x86_64", 183: "aarch64", 243: "riscv64"}
_NOBITS = 8
_GCC = re.compile(rb"GCC: \([^)]*\) ([0-9]+)\.([0-9]+)\.([0-9]+)")
_ISA = re.compile(rb"rv(?:32|64)[a-z0-9_]+")


def machine_of(header: bytes) -> str | None:
    """The machine of an ELF header ("riscv64", "x86_64", "machine-N"), None when not ELF."""
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    order = "<" if header[5] == 1 else ">"
    number = struct.unpack_from(f"{order}H", header, 18)[0]
    return MACHINES.get(number, f"machine-{number}")


@dataclass(frozen=True)
class ElfObject:
    """An object's machine and its sections, as far as the comparison needs them."""

    machine: str
    sections: tuple[tuple[str, bytes], ...]  # in file order; NOBITS as their size

    def section(self, name: str) -> bytes:
        """Every section of that name, concatenated (C++ objects repeat names such as ``.group``)."""
        return b"".join(data for key, data in self.sections if key == name)


@dataclass(frozen=True)
class SectionHeader:
    name: str
    kind: int
    offset: int  # in the file
    size: int


def section_headers(data: bytes, label: str) -> list[SectionHeader]:
    """The section headers of a little-endian ELF64 file (what every target here produces), in
    file order; a file that is not one is a ValueError naming it (``label``)."""
    if machine_of(data[:64]) is None or data[4] != 2 or data[5] != 1:
        raise ValueError(f"{label} is not a little-endian ELF64 object")
    try:
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
        headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
        names_off = headers[shstrndx][4]
        sections = []
        for name_idx, kind, _flags, _addr, offset, size, *_ in headers[1:]:
            start = names_off + name_idx
            name = data[start:data.index(b"\0", start)].decode(errors="replace")
            sections.append(SectionHeader(name, kind, offset, size))
    except (struct.error, IndexError, ValueError):
        raise ValueError(f"{label} is a truncated or malformed ELF object") from None
    return sections


def read_object(path: Path) -> ElfObject:
    """The sections of a little-endian ELF64 object; a file that is not one is a ValueError naming it."""
    data = path.read_bytes()
    machine = machine_of(data[:64])
    sections = tuple((s.name, str(s.size).encode() if s.kind == _NOBITS else data[s.offset:s.offset + s.size])
                     for s in section_headers(data, path.name))
    assert machine is not None  # section_headers refused anything else
    return ElfObject(machine, sections)


def gcc_version(obj: ElfObject) -> str | None:
    """``X.Y.Z`` of the gcc named in ``.comment``, None when none is."""
    match = _GCC.search(obj.section(".comment"))
    return ".".join(part.decode() for part in match.groups()) if match else None


def isa(obj: ElfObject) -> str | None:
    """The RISC-V ISA string of ``.riscv.attributes`` (what ``-march`` chose), None elsewhere."""
    match = _ISA.search(obj.section(".riscv.attributes"))
    return match.group(0).decode() if match else None


def difference(local: ElfObject, remote: ElfObject) -> str | None:
    """None when the objects are the same code from the same gcc major, else the reason."""
    if local.machine != remote.machine:
        return (f"the helper compiled for {remote.machine}, this build is for {local.machine}: "
                "its compiler mapping targets another machine")
    ours, theirs = gcc_version(local), gcc_version(remote)
    major_differs = bool(ours and theirs and ours.split(".")[0] != theirs.split(".")[0])
    if major_differs:
        return f"compiler version mismatch: gcc {ours} here, gcc {theirs} on the helper"
    if isa(local) != isa(remote):
        return f"different -march: {isa(local)} here, {isa(remote)} on the helper"
    code = [s for s in local.sections if s[0] != ".comment"]
    other = [s for s in remote.sections if s[0] != ".comment"]
    if code == other:
        return None
    names = sorted({name for name, _ in (*code, *other)})
    differing = [name for name in names if local.section(name) != remote.section(name)]
    where = ", ".join(differing[:4]) or "the order of their sections"
    if ours != theirs:
        return f"compiler version mismatch: gcc {ours} here, gcc {theirs} on the helper (objects differ in {where})"
    return f"objects differ in {where}: the helper's compiler or its defaults differ from this machine's"


_DT_NEEDED, _DT_SONAME = 1, 14


def dynamic_names(obj: ElfObject) -> tuple[list[str], list[str]]:
    """A shared object's ``DT_NEEDED`` names and its ``DT_SONAME`` (empty for a relocatable object)."""
    dynamic, strings = obj.section(".dynamic"), obj.section(".dynstr")
    needed: list[str] = []
    soname: list[str] = []
    for offset in range(0, len(dynamic) - 15, 16):
        tag, value = struct.unpack_from("<qQ", dynamic, offset)
        if tag in (_DT_NEEDED, _DT_SONAME) and value < len(strings):
            name = strings[value:strings.find(b"\0", value)].decode(errors="replace")
            (needed if tag == _DT_NEEDED else soname).append(name)
    return needed, soname
