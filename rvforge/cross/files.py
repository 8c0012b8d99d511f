"""The files and variables that point each build system at the cross compiler and the
target's libraries, generated from the profile's pins so no recipe carries its own copy:
setuptools reads ``CC``/``LDSHARED``, meson a cross file (plus a native file for tools that
run on the build machine), CMake a toolchain file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Mapping, Sequence

from rvforge.cross.target import CrossTarget
from rvforge.host.sysroot import under
from rvforge.ontarget.wheeltags import project_name


@dataclass(frozen=True)
class ArchFacts:
    cpu_family: str  # meson's name
    endian: str
    longdouble: str  # numpy's longdouble_format: else it compiles and runs a probe
    qemu: str  # qemu-user binary that runs this machine's programs


ARCHES = {"riscv64": ArchFacts("riscv64", "little", "IEEE_QUAD_LE", "qemu-riscv64-static")}


@dataclass(frozen=True)
class CrossFiles:
    """Where the generated files are, as paths inside the cross root."""

    meson_cross: str
    meson_native: str
    cmake_toolchain: str


def _sysroot(sysroot: str) -> Path | None:
    return None if sysroot in ("", "/") else Path(sysroot)


def pkg_config_libdir(target: CrossTarget, sysroot: str | None = None, libraries: Sequence[str] = ()) -> list[str]:
    """The target's .pc dirs, after those of the library wheels a build links (``libraries``:
    their fallback prefixes, as the root sees them)."""
    sysroot = target.target_root if sysroot is None else sysroot
    return [*(f"{prefix}/lib/pkgconfig" for prefix in libraries),
            *(str(under(_sysroot(sysroot), d)) for d in target.profile.pkgconfig_dirs)]


def compiler_env(target: CrossTarget, sysroot: str | None = None, libraries: Sequence[str] = ()) -> dict[str, str]:
    """Variables setuptools and pkg-config read; the compilers carry the profile's pins."""
    sysroot = target.target_root if sysroot is None else sysroot
    cc = " ".join([target.gcc, *target.compile_flags])
    cxx = " ".join([target.gxx, *target.compile_flags])
    env = {"CC": cc, "CXX": cxx, "LDSHARED": f"{cc} -shared", "LDCXXSHARED": f"{cxx} -shared",
           "AR": f"{target.triplet}-ar", "RANLIB": f"{target.triplet}-ranlib",
           "PKG_CONFIG_LIBDIR": ":".join(pkg_config_libdir(target, sysroot, libraries))}
    if _sysroot(sysroot):
        env["PKG_CONFIG_SYSROOT_DIR"] = sysroot
    return env


def _meson_value(value: str | list[str] | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_meson_value(item) for item in value) + "]"
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ini(sections: dict[str, dict[str, str | list[str] | bool]]) -> str:
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {_meson_value(value)}" for key, value in values.items()]
        lines.append("")
    return "\n".join(lines)


def climb_out_of_sysroot(target: CrossTarget, pc_dirs: Sequence[tuple[Path, str]]) -> None:
    """With ``--sysroot``, pkg-config puts the sysroot in front of every ``-I``/``-L`` path, a library
    wheel's too (its ``${pcfiledir}`` included), although the wheel lies outside it. Rewrite those
    ``.pc`` files (``pc_dirs``: each dir as this machine and as the root sees it) so the path
    climbs out of the sysroot again: ``/opt/rvforge/sysroot`` + ``/../../../work/...``."""
    if not target.sysroot:
        return
    escape = "/.." * (len(PurePosixPath(target.target_root).parts) - 1)
    for host_dir, inside_dir in pc_dirs:
        for pc in host_dir.glob("*.pc"):
            pc.write_text(pc.read_text().replace("${pcfiledir}", f"{escape}{inside_dir}"))


#: Meson cross-file properties naming a Python package's include dir, which a project otherwise
#: asks the package itself for by running Python (scipy's ``numpy-include-dir`` and
#: ``pythran-include-dir``): the target's numpy (its headers and ``npymath`` are target code),
#: the build machine's pythran (run at build time). Candidate paths, newest layout first.
_TARGET_INCLUDE_DIRS = {"numpy-include-dir": ("numpy/_core/include", "numpy/core/include")}
_BUILD_INCLUDE_DIRS = {"pythran-include-dir": "pythran"}


def include_dirs(target_site: Path, target_site_inside: str, build_site: str,
                 build_requires: Sequence[str]) -> dict[str, str]:
    """The include-dir properties for what a build has: packages unpacked into ``target_site``
    (seen as ``target_site_inside``) and its build requirements, installed in ``build_site``."""
    found = {}
    for key, candidates in _TARGET_INCLUDE_DIRS.items():
        present = [sub for sub in candidates if (target_site / sub).is_dir()]
        if present:
            found[key] = f"{target_site_inside}/{present[0]}"
    required = {project_name(req) for req in build_requires}
    for key, package in _BUILD_INCLUDE_DIRS.items():
        if package in required:
            found[key] = f"{build_site}/{package}"
    return found


def meson_cross(target: CrossTarget, sysroot: str | None = None, libraries: Sequence[str] = (),
                extra: Mapping[str, str] | None = None, python: str = "") -> str:
    """The cross file; ``python`` is crossenv's target-configured interpreter, which a meson run by
    the build Python (scipy's build requirement) must take for the target's extension suffix."""
    sysroot = target.target_root if sysroot is None else sysroot
    facts = ARCHES[target.arch]
    flags = list(target.compile_flags)
    properties: dict[str, str | list[str] | bool] = {
        "pkg_config_libdir": pkg_config_libdir(target, sysroot, libraries),
        "longdouble_format": facts.longdouble, "needs_exe_wrapper": True, **(extra or {})}
    if _sysroot(sysroot):
        properties["sys_root"] = sysroot
    return _ini({
        "binaries": {"c": [target.gcc, *flags], "cpp": [target.gxx, *flags],
                     "fortran": [f"{target.triplet}-gfortran-{target.profile.gcc}", *flags],
                     "ar": f"{target.triplet}-ar", "strip": f"{target.triplet}-strip",
                     "pkg-config": "pkg-config", "exe_wrapper": [facts.qemu, "-L", sysroot or "/"],
                     **({"python": python} if python else {})},
        "properties": properties,
        "host_machine": {"system": "linux", "cpu_family": facts.cpu_family, "cpu": target.arch,
                         "endian": facts.endian}})


def meson_native(cython: str) -> str:
    """meson also looks for a project's languages on the build machine: cython runs there."""
    return _ini({"binaries": {"cython": cython}})


def _cmake_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cmake_toolchain(target: CrossTarget, sysroot: str | None = None) -> str:
    sysroot = target.target_root if sysroot is None else sysroot
    facts = ARCHES[target.arch]
    flags = _cmake_quote(" ".join(target.flags))
    emulator = _cmake_quote(";".join([facts.qemu, "-L", sysroot or "/"]))  # a CMake list
    lines = ["set(CMAKE_SYSTEM_NAME Linux)", f"set(CMAKE_SYSTEM_PROCESSOR {target.arch})",
             f"set(CMAKE_C_COMPILER {target.gcc})", f"set(CMAKE_CXX_COMPILER {target.gxx})",
             f"set(CMAKE_C_FLAGS_INIT {flags})", f"set(CMAKE_CXX_FLAGS_INIT {flags})",
             f"set(CMAKE_LIBRARY_ARCHITECTURE {target.triplet})",
             f"set(CMAKE_CROSSCOMPILING_EMULATOR {emulator})"]
    if _sysroot(sysroot):
        lines += [f"set(CMAKE_SYSROOT {_cmake_quote(sysroot)})",
                  f"set(CMAKE_FIND_ROOT_PATH {_cmake_quote(sysroot)})",
                  "set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)",
                  "set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)",
                  "set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)",
                  "set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)"]
    return "\n".join(lines) + "\n"


def write_all(target: CrossTarget, host_dir: Path, inside_dir: str, cython: str,
              sysroot: str | None = None, libraries: Sequence[str] = (),
              properties: Mapping[str, str] | None = None, python: str = "") -> CrossFiles:
    """Write the three files into ``host_dir`` (seen as ``inside_dir`` in the root)."""
    host_dir.mkdir(parents=True, exist_ok=True)
    texts = {"cross.ini": meson_cross(target, sysroot, libraries, properties, python),
             "native.ini": meson_native(cython), "toolchain.cmake": cmake_toolchain(target, sysroot)}
    for name, text in texts.items():
        (host_dir / name).write_text(text)
    return CrossFiles(f"{inside_dir}/cross.ini", f"{inside_dir}/native.ini", f"{inside_dir}/toolchain.cmake")
