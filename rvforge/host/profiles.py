"""Distro profiles (configs/profiles/*.yaml): package names, library layout, install command.

A profile is data: ``ProfileFile`` is the file's shape, which the config loader validates, and
``Profile`` the flat view the checks and the build read. This module loads and selects one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rvforge import REPO_ROOT
from rvforge.config import Invalid, load_file
from rvforge.errors import ConfigError
from rvforge.host.facts import Host

PROFILES_DIR = REPO_ROOT / "configs" / "profiles"
TorchProvider = Literal["wheelhouse", "system"]
BlasSource = Literal["system", "recipe"]


@dataclass(frozen=True)
class Match:
    """Which hosts the profile is picked for (unless ``--profile`` names one)."""

    os_ids: tuple[str, ...] = field(default=(), metadata={"doc": "ID or ID_LIKE of os-release"})
    machines: tuple[str, ...] = field(default=(), metadata={"doc": "uname -m, e.g. riscv64"})


@dataclass(frozen=True)
class Layout:
    """Where the distro puts libraries, headers and .pc files (absolute, under the sysroot)."""

    lib_dirs: tuple[str, ...] = ()
    include_dirs: tuple[str, ...] = ()
    pkgconfig_dirs: tuple[str, ...] = ()
    openblas_include_subdirs: tuple[str, ...] = field(default=("",), metadata={
        "doc": "relative to the include dirs, searched in order; '' is the dir itself"})


@dataclass(frozen=True)
class ProfileFile:
    """One profile file (configs/profiles/*.yaml)."""

    name: str
    description: str
    match: Match
    install_command: str = field(metadata={"doc": "e.g. 'sudo dnf install -y {packages}'"})
    packages: dict[str, str] = field(metadata={"doc": "logical requirement -> distro package"})
    layout: Layout
    python: str = field(metadata={"pattern": r"[0-9]+(\.[0-9]+)?",
                                  "doc": "the system Python builds are for, quoted: '3.11'"})
    torch_provider: TorchProvider = field(default="wheelhouse", metadata={
        "doc": "where a deploy takes torch from by default"})
    gcc: str = field(default="", metadata={"pattern": r"([0-9]+)?",
                                           "doc": "major version of the distro's gcc, quoted: '12'"})
    march: str = field(default="", metadata={"doc": "-march that objects for this target must use"})
    mabi: str = field(default="", metadata={"doc": "-mabi that objects for this target must use"})
    distcc: str = field(default="", metadata={
        "doc": "compile helpers (HOST[:PORT][/SLOTS],...) builds use unless --distcc says otherwise"})
    blas: BlasSource = field(default="system", metadata={
        "doc": "where builds needing a BLAS get it: the distro's OpenBLAS (system) or the openblas "
               "recipe's wheel with vector kernels chosen by self-test (recipe); --blas overrides"})

    def __post_init__(self) -> None:
        try:
            self.install_command.format(packages="")
        except (KeyError, IndexError, ValueError):  # another {name} or a stray brace
            usable = False
        else:
            usable = "{packages}" in self.install_command
        if not usable:
            raise Invalid(f"'{self.install_command}' must contain {{packages}} and no other braces",
                          field="install_command",
                          hint="write the command with {packages} where the package names go")


@dataclass(frozen=True)
class Profile:
    """A loaded profile, flat, as the checks and the build use it."""

    name: str
    description: str
    os_ids: tuple[str, ...]
    machines: tuple[str, ...]
    install_command: str  # e.g. "dnf install -y {packages}"
    packages: dict[str, str]  # logical requirement -> distro package name
    lib_dirs: tuple[str, ...]  # absolute, searched in order (under the sysroot)
    include_dirs: tuple[str, ...]
    pkgconfig_dirs: tuple[str, ...]  # where the distro's .pc files live
    openblas_include_subdirs: tuple[str, ...]  # relative to include dirs: "", "openblas"
    python: str  # system Python the laptop builds for, e.g. "3.11"
    torch_provider: TorchProvider  # default deploy provider
    gcc: str = ""  # major version of the distro's gcc ("" unknown)
    march: str = ""  # pinned -march for this target ("" keeps the compiler's default)
    mabi: str = ""
    distcc: str = ""  # default compile helpers
    blas: BlasSource = "system"  # where builds needing a BLAS get it
    path: Path | None = None

    @property
    def pinned_flags(self) -> tuple[str, ...]:
        """``-march``/``-mabi`` on every compile for this target, wherever it runs (here, on a
        compile helper, in a cross root): objects must be made for the same CPU and ABI."""
        return tuple(flag for flag in (f"-march={self.march}" if self.march else "",
                                       f"-mabi={self.mabi}" if self.mabi else "") if flag)

    def install_hint(self, *requirements: str) -> str:
        """The exact command that installs the distro packages for these requirements."""
        names = []
        for req in requirements:
            name = self.packages.get(req, req)
            if name not in names:
                names.append(name)
        return self.install_command.format(packages=" ".join(names))


def load_profile_file(path: Path) -> Profile:
    spec = load_file(ProfileFile, path)
    return Profile(
        name=spec.name, description=spec.description, os_ids=spec.match.os_ids,
        machines=spec.match.machines, install_command=spec.install_command, packages=spec.packages,
        lib_dirs=spec.layout.lib_dirs, include_dirs=spec.layout.include_dirs,
        pkgconfig_dirs=spec.layout.pkgconfig_dirs,
        openblas_include_subdirs=spec.layout.openblas_include_subdirs, python=spec.python,
        torch_provider=spec.torch_provider, gcc=spec.gcc, march=spec.march, mabi=spec.mabi,
        distcc=spec.distcc, blas=spec.blas, path=path)


def all_profiles(directory: Path = PROFILES_DIR) -> dict[str, Profile]:
    profiles = {}
    for path in sorted(directory.glob("*.yaml")):
        profile = load_profile_file(path)
        profiles[profile.name] = profile
    return profiles


def select(host: Host, name: str | None = None, directory: Path = PROFILES_DIR) -> Profile:
    """``--profile NAME`` (or a path to a profile .yaml) wins; otherwise the profile whose os id
    (or ID_LIKE) and machine match."""
    if name and (Path(name).suffix in (".yaml", ".yml") or "/" in name):
        return load_profile_file(Path(name).expanduser())
    profiles = all_profiles(directory)
    if name:
        if name not in profiles:
            raise ConfigError(
                f"unknown profile '{name}'",
                hint=f"use one of: {', '.join(sorted(profiles))} or a path to a profile .yaml",
            )
        return profiles[name]
    ids = (host.os_id, *host.os_like)
    for os_id in ids:
        for profile in profiles.values():
            if os_id in profile.os_ids and host.machine in profile.machines:
                return profile
    raise ConfigError(
        f"no profile matches this host (os '{host.os_id}', machine '{host.machine}')",
        hint=f"pass --profile with one of: {', '.join(sorted(profiles))}",
    )
