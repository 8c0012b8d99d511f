"""What a cross build targets: the profile's compiler pins plus the Debian root that holds the
cross compiler, the build Python and the target's headers, libraries and Python.

The compiler pins (gcc major, ``-march``, ``-mabi``) come from the profile, so a recipe never
carries its own copy. The root is Debian multiarch: ``riscv64`` packages (``:riscv64``) sit
beside the amd64 build tools, so headers, .pc files and the target Python's sysconfigdata come
from Debian packages without emulation.
"""

from __future__ import annotations

from dataclasses import dataclass

from rvforge.errors import ConfigError
from rvforge.host.profiles import Profile, all_profiles

#: Profiles a cross root can be made for: Debian arch, GNU triplet, suite and target Python.
#: The suite must carry a cross gcc of the profile's major and the target's Python X.Y.
_DEBIAN_TARGETS = {"debian-riscv64": ("riscv64", "riscv64-linux-gnu", "forky", "3.14")}


@dataclass(frozen=True)
class CrossTarget:
    """A profile that can be cross-built for, with the Debian root that does it."""

    profile: Profile
    arch: str  # Debian architecture of the target, e.g. riscv64
    triplet: str  # GNU triplet, e.g. riscv64-linux-gnu
    suite: str  # Debian suite of the cross root
    python: str  # X.Y of the target's Python (and of the build Python)

    @property
    def gcc(self) -> str:
        """The cross C compiler: same major as the target's own gcc."""
        return f"{self.triplet}-gcc-{self.profile.gcc}"

    @property
    def gxx(self) -> str:
        return f"{self.triplet}-g++-{self.profile.gcc}"

    @property
    def flags(self) -> tuple[str, ...]:
        """Pinned target flags: every object must run on the target, whatever the compiler's
        default -march is."""
        return self.profile.pinned_flags

    @property
    def multiarch_libdir(self) -> str:
        return f"/usr/lib/{self.triplet}"

    @property
    def target_python(self) -> str:
        """Where the root keeps the target's python binary (unpacked, never installed: it
        cannot sit beside the build Python of the same name)."""
        return f"/opt/rvforge/target-python/usr/bin/python{self.python}"

    @property
    def sysconfigdata(self) -> str:
        return f"/usr/lib/python{self.python}/_sysconfigdata__linux_{self.triplet}.py"

    @property
    def python_include(self) -> str:
        return f"/usr/include/python{self.python}"

    def build_packages(self) -> list[str]:
        """amd64 packages of the root: cross compilers, build Python, build tools (make and the
        build machine's own gcc and C library headers for library recipes, whose builds compile and
        run helper programs such as OpenBLAS's getarch), and distcc (the compile helper runs in the root where this
        machine's distro lacks the cross gcc)."""
        return [f"gcc-{self.profile.gcc}-{self.triplet}", f"g++-{self.profile.gcc}-{self.triplet}",
                f"binutils-{self.triplet}", f"python{self.python}", f"python{self.python}-venv",
                "meson", "ninja-build", "pkgconf", "make", "gcc", "libc6-dev", "ca-certificates", "distcc"]

    def target_packages(self) -> list[str]:
        """The target's development packages, as multiarch ``:ARCH`` packages (and the OpenMP
        runtime the OpenBLAS recipe's smoke test loads as target code)."""
        names = [f"libpython{self.python}-dev", "libc6-dev", "libstdc++6", "libgomp1", "zlib1g-dev", "libjpeg-dev",
                 "libopenblas-dev"]
        return [f"{name}:{self.arch}" for name in names]

    def python_debs(self) -> list[str]:
        """Unpacked into the root (not installed) to run the target's Python under qemu."""
        return [f"python{self.python}-minimal:{self.arch}"]


def cross_target(name: str | None) -> CrossTarget:
    """The target of ``--cross-target NAME``; an unknown profile or one without a cross root
    is one ConfigError naming the ones that work."""
    profiles = all_profiles()
    usable = ", ".join(sorted(_DEBIAN_TARGETS))
    if not name or name not in profiles:
        raise ConfigError(f"--cross-target: unknown profile '{name or ''}'", hint=f"use one of: {usable}")
    if name not in _DEBIAN_TARGETS:
        raise ConfigError(f"--cross-target: no cross root is known for profile '{name}'",
                          hint=f"use one of: {usable}")
    profile = profiles[name]
    if not profile.gcc:
        raise ConfigError(f"--cross-target: profile {name} names no gcc major",
                          hint=f"set gcc: in {profile.path}")
    return CrossTarget(profile, *_DEBIAN_TARGETS[name])
