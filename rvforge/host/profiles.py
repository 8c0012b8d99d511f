"""Distro profiles (configs/profiles/*.yaml): package names, library layout, install command.

A profile is data; this module loads, validates and selects one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rvforge import REPO_ROOT
from rvforge.errors import ConfigError
from rvforge.host.facts import Host

PROFILES_DIR = REPO_ROOT / "configs" / "profiles"


@dataclass(frozen=True)
class Profile:
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
    torch_provider: str  # default deploy provider: wheelhouse | system
    extra: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def install_hint(self, *requirements: str) -> str:
        """The exact command that installs the distro packages for these requirements."""
        names = []
        for req in requirements:
            name = self.packages.get(req, req)
            if name not in names:
                names.append(name)
        return self.install_command.format(packages=" ".join(names))


_REQUIRED = ("name", "description", "match", "install_command", "packages", "layout", "python")


def load_profile_file(path: Path) -> Profile:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read profile: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a profile must be a mapping")
    for key in _REQUIRED:
        if key not in data:
            raise ConfigError(f"{path}: missing field '{key}'")
    match, layout = data["match"], data["layout"]
    known = {f for f in _REQUIRED} | {"torch_provider", "extra"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{path}: unknown field(s) {', '.join(sorted(unknown))}")
    return Profile(
        name=str(data["name"]),
        description=str(data["description"]),
        os_ids=tuple(match.get("os_ids", ())),
        machines=tuple(match.get("machines", ())),
        install_command=str(data["install_command"]),
        packages={str(k): str(v) for k, v in data["packages"].items()},
        lib_dirs=tuple(layout.get("lib_dirs", ())),
        include_dirs=tuple(layout.get("include_dirs", ())),
        pkgconfig_dirs=tuple(layout.get("pkgconfig_dirs", ())),
        openblas_include_subdirs=tuple(layout.get("openblas_include_subdirs", ("",))),
        python=str(data["python"]),
        torch_provider=str(data.get("torch_provider", "wheelhouse")),
        extra=dict(data.get("extra") or {}),
        path=path,
    )


def all_profiles(directory: Path = PROFILES_DIR) -> dict[str, Profile]:
    profiles = {}
    for path in sorted(directory.glob("*.yaml")):
        profile = load_profile_file(path)
        profiles[profile.name] = profile
    return profiles


def select(host: Host, name: str | None = None, directory: Path = PROFILES_DIR) -> Profile:
    """``--profile NAME`` wins; otherwise the profile whose os id (or ID_LIKE) and machine match."""
    profiles = all_profiles(directory)
    if name:
        if name not in profiles:
            raise ConfigError(
                f"unknown profile '{name}'",
                hint=f"use one of: {', '.join(sorted(profiles))}",
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
