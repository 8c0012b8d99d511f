"""pkg-config search paths for builds, the tool-owned .pc directory, and real pkg-config queries.

Builds see ``PKG_CONFIG_PATH`` = tool-owned dir, then the profile's pkgconfig dirs (under the
sysroot), then whatever the user had. The tool-owned dir lives under ``rvforge.paths.cache_dir()``:
the tool never writes to /usr or any other system path.

With a sysroot the .pc files the tool writes hold absolute paths *inside* the tree, so the build
env never sets ``PKG_CONFIG_SYSROOT_DIR`` (pkg-config would prefix those paths a second time),
and sets ``PKG_CONFIG_LIBDIR`` to the tree's pkgconfig dirs so the real host's .pc files
(e.g. Debian's own openblas.pc) cannot leak into a fixture.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from rvforge.host import sysroot as sr
from rvforge.host.profiles import Profile
from rvforge.host.toolchain import which
from rvforge.paths import cache_dir


def tool_pkgconfig_dir(profile_name: str, sysroot: Path | None = None) -> Path:
    """Directory for .pc files the tool synthesizes (stable interface).

    One per profile; a sysroot gets its own (keyed by its path) so a fixture tree can never
    replace the .pc the real host builds with. The directory may not exist yet."""
    base = cache_dir() / "pkgconfig"
    if sysroot is None:
        return base / profile_name
    tag = hashlib.sha256(str(sysroot).encode()).hexdigest()[:12]
    return base / f"{profile_name}-sysroot-{tag}"


def profile_dirs(profile: Profile, sysroot: Path | None) -> list[Path]:
    """The distro's own pkgconfig dirs, as seen under the sysroot."""
    return sr.dirs_under(sysroot, profile.pkgconfig_dirs)


def split_path(value: str | None) -> list[str]:
    """The non-empty entries of a colon-separated search path."""
    return [part for part in (value or "").split(os.pathsep) if part]


def build_pkg_config_path(profile: Profile, sysroot: Path | None,
                          env: Mapping[str, str] | None = None, *, with_tool_dir: bool = True) -> str:
    """``PKG_CONFIG_PATH`` for builds (stable interface): the tool-owned dir first, then the
    profile's pkgconfig dirs under the sysroot, then the entries of the user's own
    ``PKG_CONFIG_PATH`` (``env``, default ``os.environ``). Duplicates are dropped, order kept;
    ``with_tool_dir=False`` gives the distro's view (used to judge the distro's own .pc)."""
    env = os.environ if env is None else env
    tool_dir = str(tool_pkgconfig_dir(profile.name, sysroot))
    parts = [tool_dir] if with_tool_dir else []
    parts += [str(p) for p in profile_dirs(profile, sysroot)]
    # An env that is already a build env carries the tool dir: it goes only where asked for.
    parts += [p for p in split_path(env.get("PKG_CONFIG_PATH")) if p.rstrip("/") != tool_dir]
    return os.pathsep.join(dict.fromkeys(parts))


def build_env(profile: Profile, sysroot: Path | None, env: Mapping[str, str] | None = None,
              *, with_tool_dir: bool = True) -> dict[str, str]:
    """``env`` with the pkg-config variables a build (or a doctor query) must run with."""
    result = dict(os.environ if env is None else env)
    result["PKG_CONFIG_PATH"] = build_pkg_config_path(profile, sysroot, result,
                                                      with_tool_dir=with_tool_dir)
    result.pop("PKG_CONFIG_SYSROOT_DIR", None)
    if sysroot is not None:
        result["PKG_CONFIG_LIBDIR"] = os.pathsep.join(str(p) for p in profile_dirs(profile, sysroot))
    return result


def pkg_config_command(env: Mapping[str, str]) -> Path | None:
    """The pkg-config a build will run: ``$PKG_CONFIG`` (as Meson honours it), else pkg-config
    or pkgconf on PATH."""
    for name in (env.get("PKG_CONFIG"), "pkg-config", "pkgconf"):
        if name:
            found = which(name, env)
            if found:
                return found
    return None


def _query(pkg_config: Path, env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run pkg-config; one that cannot run counts as "not found" (the pkg-config check says why)."""
    command = [str(pkg_config), *args]
    try:
        return subprocess.run(command, env=dict(env), capture_output=True, text=True, timeout=30,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(command, 127, "", str(exc))


def default_search_path(env: Mapping[str, str]) -> list[str]:
    """pkg-config's compiled-in search path (``pc_path``), or [] when pkg-config is missing."""
    pkg_config = pkg_config_command(env)
    if pkg_config is None:
        return []
    proc = _query(pkg_config, env, "--variable=pc_path", "pkg-config")
    return split_path(proc.stdout.strip()) if proc.returncode == 0 else []


@dataclass(frozen=True)
class Module:
    """A module as the real pkg-config reports it (system -I/-L included, not filtered)."""

    pc_dir: Path
    version: str
    libdir: str
    includedir: str
    lib_dirs: tuple[Path, ...]  # -L
    libs: tuple[str, ...]  # -l names
    include_dirs: tuple[Path, ...]  # -I


def describe(module: str, env: Mapping[str, str]) -> Module | None:
    """Ask the real pkg-config about ``module`` with ``env``; None when it is not found."""
    pkg_config = pkg_config_command(env)
    if pkg_config is None:
        return None
    query_env = {**env, "PKG_CONFIG_ALLOW_SYSTEM_LIBS": "1", "PKG_CONFIG_ALLOW_SYSTEM_CFLAGS": "1"}
    version = _query(pkg_config, query_env, "--modversion", module)
    if version.returncode != 0:
        return None
    flags = _query(pkg_config, query_env, "--cflags", "--libs", module)
    if flags.returncode != 0:
        return None

    def variable(name: str) -> str:
        return _query(pkg_config, query_env, f"--variable={name}", module).stdout.strip()

    words = shlex.split(flags.stdout)
    return Module(
        pc_dir=Path(variable("pcfiledir")),
        version=version.stdout.strip(),
        libdir=variable("libdir"),
        includedir=variable("includedir"),
        lib_dirs=tuple(Path(w[2:]) for w in words if w.startswith("-L")),
        libs=tuple(w[2:] for w in words if w.startswith("-l")),
        include_dirs=tuple(Path(w[2:]) for w in words if w.startswith("-I")),
    )
