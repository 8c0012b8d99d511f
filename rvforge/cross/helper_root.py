"""The compile helper run inside the tool's cross root, for a target whose gcc major this
machine's distro does not package (Debian bookworm has riscv64 gcc 12 only; debian-riscv64 needs
16): the root is a Debian release that has it, and distcc is among its packages.

distccd runs there through the same ``chroot.argv`` every cross build uses, so its mounts live in
a private namespace that ends with the daemon; the helper's directory is bound at ``INSIDE``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from rvforge.cross import chroot, root
from rvforge.cross.target import cross_target
from rvforge.errors import CheckFailed, ConfigError
from rvforge.host.helper_daemon import Confinement

#: Where the daemon sees the helper's directory (wrappers, cmdlist, log, temp dir).
INSIDE = Path("/opt/rvforge/distcc-helper")


def has_root(profile: str) -> bool:
    """Whether a cross root is known for this profile."""
    try:
        cross_target(profile)
    except ConfigError:
        return False
    return True


def confinement(profile: str, helper_dir: Path, install: bool, why: CheckFailed) -> tuple[Confinement, Path]:
    """The cross root to run the helper in (created with ``install``), or ``why`` with the way to
    create it added."""
    target = cross_target(profile)
    path = root.default_path(target)
    if not root.is_ready(path):
        if not install:
            raise CheckFailed(why.message, hint=f"{why.hint}; or let the helper run in the tool's cross "
                              f"root (Debian {target.suite}, {target.gcc}): add --install to create it "
                              "once (a few minutes, root rights)")
        path = root.ensure(target)
    binds = (chroot.Bind(helper_dir, str(INSIDE)),)

    def wrap(command: Sequence[str], env: Mapping[str, str]) -> list[str]:
        return chroot.argv(path, command, env=env, binds=binds)

    return Confinement(wrap, INSIDE, path / "etc/passwd"), path
