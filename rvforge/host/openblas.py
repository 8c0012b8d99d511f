"""Find the distro's OpenBLAS (library, cblas.h, version) and give builds a correct openblas.pc.

scipy finds OpenBLAS only through pkg-config or CMake (``dependency(['openblas', 'OpenBLAS'])``),
and openEuler's openblas-devel ships no openblas.pc; hand-made or ``make install`` ones often
carry a wrong libdir. So the tool checks what pkg-config reports against the files really on
disk and, when they disagree, writes its own .pc into the tool-owned pkgconfig dir, which comes
first on the build ``PKG_CONFIG_PATH``.
"""

from __future__ import annotations

import mmap
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from rvforge.common import write_atomic
from rvforge.errors import CheckFailed
from rvforge.host import pkgconfig
from rvforge.host import sysroot as sr
from rvforge.host.profiles import Profile

LIBRARY = "libopenblas.so"  # the development link the linker needs for -lopenblas
LINK_NAME = "openblas"
HEADERS = ("cblas.h", "openblas_config.h")
_VERSION = re.compile(r'#\s*define\s+OPENBLAS_VERSION\s+"\s*OpenBLAS\s+([0-9][^\s"]*)')


@dataclass(frozen=True)
class Installation:
    """What is on disk; any field is None when that part is missing."""

    library: Path | None
    include_dir: Path | None  # holds cblas.h and openblas_config.h
    version: str | None  # OPENBLAS_VERSION from openblas_config.h

    @property
    def missing(self) -> list[str]:
        """Human names of the missing parts; empty when the installation is complete."""
        parts = []
        if self.library is None:
            parts.append(LIBRARY)
        if self.include_dir is None:
            parts.append(" + ".join(HEADERS))
        elif self.version is None:
            parts.append("OPENBLAS_VERSION in openblas_config.h")
        return parts


def read_version(config_header: Path) -> str | None:
    """The release number in ``#define OPENBLAS_VERSION " OpenBLAS 0.3.26 "``."""
    try:
        match = _VERSION.search(config_header.read_text(errors="replace"))
    except OSError:
        return None
    return match.group(1) if match else None


def _include_dir(profile: Profile, sysroot: Path | None) -> Path | None:
    """The first include dir (with the profile's subdirs) holding both headers together."""
    for directory in sr.dirs_under(sysroot, profile.include_dirs):
        for subdir in profile.openblas_include_subdirs:
            candidate = directory / subdir if subdir else directory
            if all((candidate / header).is_file() for header in HEADERS):
                return candidate
    return None


def find(profile: Profile, sysroot: Path | None) -> Installation:
    """Look for OpenBLAS in the profile's library and include dirs under the sysroot."""
    library = sr.find_first(sr.dirs_under(sysroot, profile.lib_dirs), [LIBRARY])
    include_dir = _include_dir(profile, sysroot)
    version = read_version(include_dir / "openblas_config.h") if include_dir else None
    return Installation(library, include_dir, version)


def _needs_gfortran_runtime(library: Path) -> bool:
    """Whether the library was linked against libgfortran (its NEEDED name is in the file), so
    static links must add -lgfortran."""
    try:
        with open(library, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return data.find(b"libgfortran.so") != -1
    except (OSError, ValueError):
        return False


def render_pc(found: Installation) -> str:
    """openblas.pc in the shape OpenBLAS's ``make install`` writes, with absolute paths to where
    the files really are (inside the sysroot when there is one)."""
    if found.missing:
        raise ValueError(f"incomplete OpenBLAS installation: {', '.join(found.missing)}")
    assert found.library is not None and found.include_dir is not None  # else found.missing is not empty
    libdir, includedir = found.library.parent, found.include_dir
    prefix = os.path.commonpath([libdir, includedir])
    extralib = "-lm -lpthread" + (" -lgfortran" if _needs_gfortran_runtime(found.library) else "")
    return (
        "# Written by rvforge (invoke doctor --fix): the distro ships no correct openblas.pc.\n"
        f"prefix={prefix}\n"
        f"libdir={libdir}\n"
        f"includedir={includedir}\n"
        f"version={found.version}\n"
        f"extralib={extralib}\n"
        "\n"
        "Name: openblas\n"
        "Description: OpenBLAS is an optimized BLAS library based on GotoBLAS2 1.13 BSD version\n"
        "Version: ${version}\n"
        f"Libs: -L${{libdir}} -l{LINK_NAME}\n"
        "Libs.private: ${extralib}\n"
        "Cflags: -I${includedir}\n"
    )


def _unique(paths: list[Path]) -> list[Path]:
    return list(dict.fromkeys(Path(os.path.normpath(p)) for p in paths))


def problems(module: pkgconfig.Module, found: Installation) -> list[str]:
    """Where what pkg-config reports disagrees with the files on disk; [] when it is correct."""
    issues = []
    if found.version and module.version != found.version:
        issues.append(f"version {module.version} but openblas_config.h says {found.version}")
    names = [name for name in module.libs if "openblas" in name]
    lib_dirs = _unique([*module.lib_dirs, *([Path(module.libdir)] if module.libdir else [])])
    if not names:
        issues.append("Libs has no -lopenblas")
    elif not any((d / f"lib{name}.so").exists() for d in lib_dirs for name in names):
        shown = ", ".join(str(d) for d in lib_dirs) or "(none)"
        issues.append(f"lib{names[0]}.so is not in its library dir(s) {shown}")
    include_dirs = _unique([*module.include_dirs, *([Path(module.includedir)] if module.includedir else [])])
    if not any((d / "cblas.h").is_file() for d in include_dirs):
        shown = ", ".join(str(d) for d in include_dirs) or "(none)"
        issues.append(f"cblas.h is not in its include dir(s) {shown}")
    return issues


def tool_pc_file(profile: Profile, sysroot: Path | None) -> Path:
    return pkgconfig.tool_pkgconfig_dir(profile.name, sysroot) / "openblas.pc"


def ensure_pc(profile: Profile, sysroot: Path | None,
              env: Mapping[str, str] | None = None) -> Path | None:
    """Make ``pkg-config openblas`` correct on the build path (stable interface; build-wheels
    calls it before building).

    Returns the tool-owned openblas.pc when the distro lacks a correct one (written or rewritten
    here), or None when the distro's own .pc is correct (a stale tool copy is then removed so it
    cannot shadow it). Raises CheckFailed, naming the install command, when OpenBLAS itself or
    pkg-config is missing. Never writes outside the tool-owned directory."""
    env = os.environ if env is None else env
    found = find(profile, sysroot)
    if found.missing:
        raise CheckFailed(f"OpenBLAS is not installed completely (missing {', '.join(found.missing)})",
                          hint=profile.install_hint("openblas"))
    if pkgconfig.pkg_config_command(env) is None:
        raise CheckFailed("pkg-config is not installed", hint=profile.install_hint("pkg-config"))
    target = tool_pc_file(profile, sysroot)
    distro = pkgconfig.describe("openblas", pkgconfig.build_env(profile, sysroot, env, with_tool_dir=False))
    if distro is not None and not problems(distro, found):
        target.unlink(missing_ok=True)
        return None
    text = render_pc(found)
    if not target.is_file() or target.read_text() != text:
        write_atomic(target, text)
    written = pkgconfig.describe("openblas", pkgconfig.build_env(profile, sysroot, env))
    issues = ["pkg-config does not find it"] if written is None else problems(written, found)
    if issues:
        raise CheckFailed(f"the openblas.pc written to {target} is not usable: {'; '.join(issues)}",
                          hint=f"remove {target} and run: invoke doctor --fix")
    return target
