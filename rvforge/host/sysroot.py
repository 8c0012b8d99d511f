"""Path lookups under an optional sysroot.

Every lookup of a library, header or .pc file goes through here, so ``--sysroot DIR`` can present
another distro's layout (an openEuler tree on a Debian machine, in tests) without touching the
rest of the code. Tools (compilers, pkg-config) always come from the real PATH.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from rvforge.errors import ConfigError


def resolve(sysroot: str | Path | None) -> Path | None:
    """Validate ``--sysroot``: an existing directory, made absolute, or None for the real root."""
    if sysroot is None or str(sysroot) == "":
        return None
    path = Path(sysroot).expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(f"sysroot {sysroot} is not a directory",
                          hint="pass --sysroot with an existing directory, or leave it out")
    return path


def under(sysroot: Path | None, path: str | Path) -> Path:
    """An absolute distro path (``/usr/lib64``) as seen inside the sysroot."""
    path = Path(path)
    if sysroot is None:
        return path
    return sysroot / path.relative_to(path.anchor) if path.is_absolute() else sysroot / path


def dirs_under(sysroot: Path | None, paths: Iterable[str]) -> list[Path]:
    """Distro directories mapped under the sysroot, order kept."""
    return [under(sysroot, p) for p in paths]


def find_first(directories: Iterable[Path], names: Iterable[str],
               subdirs: Iterable[str] = ("",)) -> Path | None:
    """First existing ``dir/subdir/name``: directories outrank subdirs, which outrank names."""
    names, subdirs = list(names), list(subdirs)
    for directory in directories:
        for subdir in subdirs:
            for name in names:
                candidate = directory / subdir / name if subdir else directory / name
                if candidate.is_file():
                    return candidate
    return None
