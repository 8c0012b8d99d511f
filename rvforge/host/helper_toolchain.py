"""What a compile helper needs to compile for a target profile: distcc and a gcc of the
target's major version for the target's machine, and wrappers that pin the target's flags.

distccd runs whatever compiler name a client sends. A client that says ``gcc`` (which
``CC="ccache gcc"`` does, as ``/usr/bin/gcc``) would get the helper's own x86_64 gcc, and ccache
would then cache x86_64 objects. The helper therefore maps every name a client may send (``gcc``,
``g++``, ``cc``, ``c++`` and the triplet names) to wrappers that run the target's compiler with
``-march``/``-mabi`` appended, so no client flag can override them; ``DISTCC_CMDLIST`` lists those
wrappers and nothing else.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from rvforge.common import write_atomic
from rvforge.errors import CheckFailed, ConfigError
from rvforge.host.profiles import Profile

#: Triplets clients name their gcc by (``gcc -dumpmachine``): Debian's first (the helper's own
#: drivers), then the GNU canonical one and the RPM distros' vendor triplets (openEuler, Fedora).
_TRIPLETS = {"riscv64": ("riscv64-linux-gnu", "riscv64-unknown-linux-gnu", "riscv64-openEuler-linux",
                         "riscv64-openEuler-linux-gnu", "riscv64-redhat-linux"),
             "x86_64": ("x86_64-linux-gnu", "x86_64-pc-linux-gnu", "x86_64-redhat-linux")}
#: A plain compiler name a client may send -> the driver kind it stands for.
_DRIVERS = {"gcc": "gcc", "g++": "g++", "cc": "gcc", "c++": "g++"}


@dataclass(frozen=True)
class HelperCompiler:
    """The compilers a helper runs for one target profile."""

    machine: str  # the target's machine, e.g. riscv64
    major: str  # the target's gcc major, e.g. "12"
    flags: tuple[str, ...]  # pinned after the client's own flags

    @property
    def triplet(self) -> str:
        """The GNU triplet of the helper's own drivers (Debian's), e.g. riscv64-linux-gnu."""
        return _TRIPLETS.get(self.machine, (f"{self.machine}-linux-gnu",))[0]

    def driver(self, kind: str) -> str:
        """``riscv64-linux-gnu-gcc-12``: the versioned driver Debian installs."""
        return f"{self.triplet}-{_DRIVERS[kind]}-{self.major}"

    def packages(self) -> list[str]:
        """Debian package names: ``gcc-12-riscv64-linux-gnu`` across machines, ``gcc-12`` natively."""
        if self.machine == platform.machine():
            return [f"gcc-{self.major}", f"g++-{self.major}"]
        suffix = self.triplet.replace("_", "-")
        return [f"gcc-{self.major}-{suffix}", f"g++-{self.major}-{suffix}"]

    def client_names(self) -> dict[str, str]:
        """Every compiler name a client may send -> the driver kind it stands for."""
        names = dict(_DRIVERS)
        for triplet in _TRIPLETS.get(self.machine, (self.triplet,)):
            for kind in ("gcc", "g++"):
                names[f"{triplet}-{kind}"] = kind
                names[f"{triplet}-{kind}-{self.major}"] = kind
        return names


def for_profile(profile: Profile) -> HelperCompiler:
    """The helper compiler of a target profile; the profile must name its gcc major."""
    if not profile.gcc:
        raise ConfigError(f"profile {profile.name} does not say which gcc its distro has",
                          hint=f"add gcc: \"NN\" (the major version) to {profile.path or 'the profile'}")
    machine = profile.machines[0] if profile.machines else platform.machine()
    return HelperCompiler(machine, profile.gcc, profile.pinned_flags)


def apt_candidate(package: str) -> str | None:
    """The version apt would install (None: this distro does not have the package)."""
    if not shutil.which("apt-cache"):
        return None
    out = subprocess.run(["apt-cache", "policy", package], capture_output=True, text=True,
                         check=False).stdout
    for line in out.splitlines():
        key, _, value = line.strip().partition(":")
        if key == "Candidate":
            return None if value.strip() in ("", "(none)") else value.strip()
    return None


def missing_tools(compiler: HelperCompiler, root: Path | None = None) -> list[str]:
    """Programs the helper lacks: distccd and the two target drivers (here, or in ``root``)."""
    wanted = ["distccd", compiler.driver("gcc"), compiler.driver("g++")]
    if root is not None:
        return [name for name in wanted if not (root / "usr/bin" / name).is_file()]
    return [name for name in wanted if shutil.which(name) is None]


def install_command(compiler: HelperCompiler) -> str:
    """The exact command that installs what the helper needs on this (Debian-like) host, or a
    ConfigError saying plainly that this distro has no gcc of the target's major."""
    packages = ["distcc", *compiler.packages()]
    if shutil.which("apt-get") is None:
        raise CheckFailed(f"install distcc and a {compiler.machine} gcc {compiler.major} "
                          f"({compiler.driver('gcc')}) with this distro's package manager",
                          hint="the helper's gcc must have the target's major version")
    absent = [name for name in packages if apt_candidate(name) is None]
    if absent:
        raise CheckFailed(
            f"this distro has no {', '.join(absent)}: the target's gcc is {compiler.major}, and a "
            f"helper must compile with the same major",
            hint=f"use a helper running a release that packages gcc {compiler.major} for "
                 f"{compiler.machine} (Debian forky/sid has riscv64 cross gcc 12 to 16; bookworm only 12)")
    prefix = "" if _is_root() else "sudo "
    return f"{prefix}apt-get install -y --no-install-recommends {' '.join(packages)}"


def _is_root() -> bool:
    return os.geteuid() == 0


def write_wrappers(compiler: HelperCompiler, directory: Path, inside: Path | None = None) -> Path:
    """Wrapper scripts for every client name and the ``DISTCC_CMDLIST`` file listing them; with
    ``inside``, as a daemon in another root sees them (``directory`` mounted there, the drivers
    in that root's /usr/bin)."""
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    flags = " ".join(compiler.flags)
    for name, kind in compiler.client_names().items():
        real = (None if inside else shutil.which(compiler.driver(kind))) or f"/usr/bin/{compiler.driver(kind)}"
        write_atomic(bin_dir / name, f'#!/bin/sh\nexec {real} "$@" {flags}'.rstrip() + "\n", mode=0o755)
    cmdlist = directory / "cmdlist"
    seen = (inside or directory) / "bin"
    write_atomic(cmdlist, "".join(f"{seen / name}\n" for name in sorted(compiler.client_names())),
                 mode=0o644)
    return cmdlist
