"""What a cross build targets: the profile's compiler pins plus the Debian root that holds the
cross compiler, the build Python and the target's headers, libraries and Python.

The compiler pins (gcc major, ``-march``, ``-mabi``) come from the profile, so a recipe never
carries its own copy. The root is Debian multiarch: ``riscv64`` packages (``:riscv64``) sit
beside the amd64 build tools, so headers, .pc files and the target Python's sysconfigdata come
from Debian packages without emulation.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from rvforge.errors import ConfigError
from rvforge.host.profiles import Profile, all_profiles
from rvforge.host.sysroot import resolve

#: Profiles a cross root can be made for: Debian arch, GNU triplet, suite and target Python.
#: The suite must carry a cross gcc of the profile's major and a build Python of the target's X.Y.
_DEBIAN_TARGETS = {"debian-riscv64": ("riscv64", "riscv64-linux-gnu", "forky", "3.14"),
                   "openeuler-riscv64": ("riscv64", "riscv64-linux-gnu", "bookworm", "3.11")}
#: Targets whose files no Debian suite has as ``:ARCH`` packages: ``--sysroot`` must bring them
#: (for the RVBook, a copy of the laptop's ``/usr``).
_SYSROOT_ONLY = {"openeuler-riscv64"}
#: Where a build sees ``--sysroot DIR`` inside the cross root.
SYSROOT_INSIDE = "/opt/rvforge/sysroot"


@dataclass(frozen=True)
class CrossTarget:
    """A profile that can be cross-built for, with the Debian root that does it."""

    profile: Profile
    arch: str  # Debian architecture of the target, e.g. riscv64
    triplet: str  # GNU triplet, e.g. riscv64-linux-gnu
    suite: str  # Debian suite of the cross root
    python: str  # X.Y of the target's Python (and of the build Python)
    #: ``--sysroot``: the target's headers, libraries and Python come from this tree (seen at
    #: SYSROOT_INSIDE) instead of the root's ``:ARCH`` packages.
    sysroot: Path | None = None
    sysconfig_name: str = ""  # the sysroot's _sysconfigdata file (its name varies by distro)
    start_files: str = ""  # the sysroot's dir holding crti.o, when the profile names one

    @property
    def options(self) -> str:
        """The command-line options that name this target (for the fix commands errors print)."""
        return f"--cross-target {self.profile.name}" + (f" --sysroot {self.sysroot}" if self.sysroot else "")

    @property
    def target_root(self) -> str:
        """Where the target's files are, as the cross root sees them."""
        return SYSROOT_INSIDE if self.sysroot else "/"

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
    def compile_flags(self) -> tuple[str, ...]:
        """The pins, and ``--sysroot`` where the target's headers and libraries are elsewhere, with
        ``-B`` for the sysroot's dir of the C library's start files and ``libc.so``. Without it,
        Debian's cross gcc silently takes its own cross libc (``/usr/riscv64-linux-gnu/lib``)
        before the sysroot's, and never looks in openEuler's ``/usr/lib64`` at all."""
        if not self.sysroot:
            return self.flags
        extra = [f"-B{SYSROOT_INSIDE}{self.start_files.rstrip('/')}/"] if self.start_files else []
        return (*self.flags, f"--sysroot={SYSROOT_INSIDE}", *extra)

    @property
    def multiarch_libdir(self) -> str:
        return f"/usr/lib/{self.triplet}"

    @property
    def target_python(self) -> str:
        """The target's python binary: the sysroot's, or the one the root keeps unpacked (never
        installed: it cannot sit beside the build Python of the same name)."""
        if self.sysroot:
            return f"{SYSROOT_INSIDE}/usr/bin/python{self.python}"
        return f"/opt/rvforge/target-python/usr/bin/python{self.python}"

    @property
    def sysconfigdata(self) -> str:
        if self.sysroot:
            return f"{SYSROOT_INSIDE}/{self.sysconfig_name}"
        return f"/usr/lib/python{self.python}/_sysconfigdata__linux_{self.triplet}.py"

    @property
    def python_include(self) -> str:
        return f"{SYSROOT_INSIDE if self.sysroot else ''}/usr/include/python{self.python}"

    def build_packages(self) -> list[str]:
        """amd64 packages of the root: cross compilers (C, C++, Fortran), build Python, build tools (make and the
        build machine's own gcc and C library headers for library recipes, whose builds compile and
        run helper programs such as OpenBLAS's getarch), and distcc (the compile helper runs in the root where this
        machine's distro lacks the cross gcc)."""
        return [f"gcc-{self.profile.gcc}-{self.triplet}", f"g++-{self.profile.gcc}-{self.triplet}",
                f"gfortran-{self.profile.gcc}-{self.triplet}", f"binutils-{self.triplet}", f"python{self.python}",
                f"python{self.python}-venv", "meson", "ninja-build", "pkgconf", "make", "gcc", "libc6-dev",
                "ca-certificates", "distcc"]

    def target_packages(self) -> list[str]:
        """The target's development packages, as multiarch ``:ARCH`` packages (and the OpenMP and
        Fortran runtimes that smoke tests load as target code)."""
        if self.sysroot:
            return []
        names = [f"libpython{self.python}-dev", "libc6-dev", "libstdc++6", "libgomp1", "libgfortran5", "zlib1g-dev",
                 "libjpeg-dev", "libopenblas-dev"]
        return [f"{name}:{self.arch}" for name in names]

    def python_debs(self) -> list[str]:
        """Unpacked into the root (not installed) to run the target's Python under qemu."""
        return [] if self.sysroot else [f"python{self.python}-minimal:{self.arch}"]


def _with_sysroot(target: CrossTarget, given: str) -> CrossTarget:
    """The target with ``--sysroot``: its Python must be the X.Y the root's build Python is, with
    headers, sysconfig and interpreter; anything missing is one ConfigError naming the fix."""
    sysroot = resolve(given)
    assert sysroot is not None
    py = target.python
    found = sorted(p.parent.name for p in sysroot.glob("usr/include/python3*/Python.h"))
    if not found:
        raise ConfigError(f"--sysroot {sysroot} has no Python headers (usr/include/python3.X/Python.h)",
                          hint="install the target's Python development package into it (openEuler: python3-devel, "
                               "Debian: libpython3-dev)")
    if f"python{py}" not in found:
        versions = ", ".join(f.removeprefix("python") for f in found)
        raise ConfigError(f"--sysroot {sysroot} has {versions} headers; the cross target {target.profile.name} "
                          f"builds for Python {py}",
                          hint=f"use a sysroot with Python {py}, or build on the target itself")
    configs = sorted(sysroot.glob(f"usr/lib*/python{py}/_sysconfigdata_*.py"),
                     key=lambda c: (target.arch not in c.name, c.name))
    if not configs:
        raise ConfigError(f"--sysroot {sysroot} has no usr/lib*/python{py}/_sysconfigdata_*.py "
                          "(the target's sysconfig)",
                          hint="install the target's Python (python3) into the sysroot")
    interpreter = sysroot / f"usr/bin/python{py}"
    if not (interpreter.is_symlink() or interpreter.exists()):
        raise ConfigError(f"--sysroot {sysroot} has no usr/bin/python{py} (the smoke tests run it as target code)",
                          hint="install the target's Python (python3) into the sysroot")
    start_files = [d for d in target.profile.lib_dirs if (sysroot / d.lstrip("/") / "crti.o").is_file()]
    return dataclasses.replace(target, sysroot=sysroot, sysconfig_name=str(configs[0].relative_to(sysroot)),
                               start_files=start_files[0] if start_files else "")


def cross_target(name: str | None, sysroot: str | None = None) -> CrossTarget:
    """The target of ``--cross-target NAME [--sysroot DIR]``; an unknown profile, one without a
    cross root or an unusable sysroot is one ConfigError naming what works."""
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
    target = CrossTarget(profile, *_DEBIAN_TARGETS[name])
    if sysroot:
        return _with_sysroot(target, sysroot)
    if name in _SYSROOT_ONLY:
        raise ConfigError(f"--cross-target {name} needs --sysroot DIR: the target's headers, libraries and "
                          f"Python {target.python} come from a copy of its root filesystem",
                          hint="copy the target's /usr into DIR (docs/riscv64.md shows the rsync command)")
    return target
