"""Find an OpenBLAS and read what it says about itself through ctypes.

Three places matter: the library a build links (a path the caller gives, e.g. from pkg-config),
the one this process actually loaded (``/proc/self/maps`` after ``import numpy, torch``), and the
system's default. Builds differ in their symbol names: plain (``openblas_get_corename``), the
numpy/scipy wheels' prefixed ILP64 copy (``scipy_openblas_get_corename64_``); the suffix ``64_``
also means the integer arguments are 64-bit.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

MAPS = Path("/proc/self/maps")
_PREFIXES = ("", "scipy_")
_SUFFIXES = ("", "64_")
_VERSION = re.compile(r"OpenBLAS\s+([0-9][0-9A-Za-z.+-]*)")


class NotOpenBLAS(Exception):
    """The file cannot be loaded, or is not an OpenBLAS (no openblas_get_corename)."""


@dataclass
class OpenBLAS:
    """A loaded OpenBLAS and its symbol naming."""

    path: str
    handle: ctypes.CDLL
    prefix: str
    suffix: str

    def symbol(self, name: str) -> ctypes._CFuncPtr:  # type: ignore[name-defined]
        """``name`` as this build spells it (``cblas_sgemm`` -> ``scipy_cblas_sgemm64_``)."""
        return getattr(self.handle, f"{self.prefix}{name}{self.suffix}")

    @property
    def int_type(self) -> type[ctypes.c_int] | type[ctypes.c_int64]:
        """The C type of BLAS integer arguments: 64-bit in ILP64 builds."""
        return ctypes.c_int64 if self.suffix == "64_" else ctypes.c_int

    def _text(self, name: str) -> str:
        function = self.symbol(name)
        function.restype = ctypes.c_char_p
        return (function() or b"").decode(errors="replace").strip()

    @property
    def config(self) -> str:
        return self._text("openblas_get_config")

    @property
    def corename(self) -> str:
        return self._text("openblas_get_corename")

    @property
    def version(self) -> str | None:
        """The release number from the config string (``OpenBLAS 0.3.21 DYNAMIC_ARCH ...``)."""
        match = _VERSION.search(self.config)
        return match.group(1) if match else None

    @property
    def threads(self) -> int | None:
        try:
            function = self.symbol("openblas_get_num_threads")
        except AttributeError:
            return None
        function.restype = ctypes.c_int
        return int(function())


def open_library(path: str | Path) -> OpenBLAS:
    """Load ``path`` and find its naming; NotOpenBLAS when it is no OpenBLAS."""
    try:
        handle = ctypes.CDLL(str(path))
    except OSError as exc:
        raise NotOpenBLAS(f"cannot load {path}: {exc}") from None
    for prefix in _PREFIXES:
        for suffix in _SUFFIXES:
            name = f"{prefix}openblas_get_corename{suffix}"
            if hasattr(handle, name):
                return OpenBLAS(file_of(getattr(handle, name)) or str(path), handle, prefix, suffix)
    raise NotOpenBLAS(f"{path} is not an OpenBLAS (no openblas_get_corename)")


class _DlInfo(ctypes.Structure):
    _fields_ = [("fname", ctypes.c_char_p), ("fbase", ctypes.c_void_p), ("sname", ctypes.c_char_p),
                ("saddr", ctypes.c_void_p)]


def file_of(function: ctypes._CFuncPtr) -> str | None:  # type: ignore[name-defined]
    """The real file a loaded function lives in (dladdr), so a bare ``libopenblas.so.0`` becomes a path."""
    info = _DlInfo()
    try:
        found = ctypes.CDLL(None).dladdr(ctypes.cast(function, ctypes.c_void_p), ctypes.byref(info))
    except (AttributeError, OSError):
        return None
    return os.path.normpath(info.fname.decode(errors="replace")) if found and info.fname else None


def loaded(maps: Path = MAPS) -> list[str]:
    """OpenBLAS files mapped into this process (a distro's libblas.so.3 counts when it lives in an
    openblas directory), in load order."""
    try:
        text = maps.read_text()
    except OSError:
        return []
    paths = [line.split(None, 5)[5] for line in text.splitlines() if len(line.split(None, 5)) == 6]
    return list(dict.fromkeys(visible(p) for p in paths if p.startswith("/")
                              and "blas" in p.rsplit("/", 1)[-1].lower() and "openblas" in p.lower()))


def visible(path: str) -> str:
    """``path`` as this process can open it. Under proot (or in some containers) the maps file
    names the file by its path outside the root this process sees; the longest tail of that
    path which exists here is the same file."""
    if os.path.exists(path):
        return path
    parts = path.split("/")
    for start in range(2, len(parts) - 1):
        tail = "/" + "/".join(parts[start:])
        if os.path.exists(tail):
            return tail
    return path


def in_directory(directory: Path) -> list[Path]:
    """Candidate OpenBLAS files in one directory (development link first)."""
    if not directory.is_dir():
        return []
    return sorted(directory.glob("libopenblas*.so*"), key=lambda p: (len(p.name), p.name))


def system_default() -> str | None:
    """What the dynamic linker finds for ``-lopenblas`` (ldconfig's cache)."""
    return ctypes.util.find_library("openblas")
