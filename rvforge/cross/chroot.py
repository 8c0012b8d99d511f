"""Run a command inside the cross root: chroot when this process is root, proot otherwise.

Under chroot every mount (``/proc``, ``/dev``, the caller's binds) is made in a private mount
namespace of the one command (``unshare --mount``), so the mounts vanish with it, whether it
succeeds, fails or is killed: nothing is ever left mounted on this machine. The root is an
amd64 tree, so no emulator is involved; riscv64 programs run through qemu-user explicitly.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from rvforge.common import last_lines
from rvforge.emulation.userland import SCRIPTS
from rvforge.errors import CheckFailed

#: The environment every command starts from inside the root (nothing of the caller's leaks in).
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": "/root", "LANG": "C.UTF-8",
            "DEBIAN_FRONTEND": "noninteractive", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


@dataclass(frozen=True)
class Bind:
    """A host path seen at ``inside`` (an absolute path in the root)."""

    host: Path
    inside: str


def _mount_script(root: Path, binds: Sequence[Bind]) -> str:
    """Shell lines that mount what the command needs, then exec it (argv is "$@")."""
    lines = [f"mount -t proc proc {shlex.quote(str(root / 'proc'))}",
             f"mount --rbind /dev {shlex.quote(str(root / 'dev'))}"]
    for bind in binds:
        target = root / bind.inside.lstrip("/")
        make = "mkdir -p" if bind.host.is_dir() else "touch"
        lines += [f"{make} {shlex.quote(str(target))}",
                  f"mount --bind {shlex.quote(str(bind.host))} {shlex.quote(str(target))}"]
    lines.append(f'exec chroot {shlex.quote(str(root))} "$@"')
    return " && ".join(lines)


def use_chroot() -> bool:
    """Root may chroot (and mount); anyone else goes through proot."""
    return os.geteuid() == 0


def argv(root: Path, command: Sequence[str], env: Mapping[str, str] | None = None,
         binds: Sequence[Bind] = (), cwd: str = "/") -> list[str]:
    """The host command line that runs ``command`` in ``root`` with exactly ``env`` (on top of
    BASE_ENV), in ``cwd`` inside the root."""
    full_env = {**BASE_ENV, **(env or {})}
    inner = ["env", "-i", *(f"{k}={v}" for k, v in sorted(full_env.items())),
             "sh", "-c", 'cd "$0" && exec "$@"', cwd, *command]
    if use_chroot():
        tool = shutil.which("unshare")
        if tool is None:
            raise CheckFailed("unshare is missing (the cross root's mounts need it)",
                              hint="apt-get install util-linux")
        return [tool, "--mount", "--propagation", "private", "--", "sh", "-c",
                _mount_script(root, binds), "mount-and-chroot", *inner]
    proot = shutil.which("proot")
    if proot is None:
        raise CheckFailed("proot is missing (it runs the cross root without root rights)",
                          hint="apt-get install proot")
    extra = [f"--bind={bind.host}:{bind.inside}" for bind in binds]
    return [_statx_launcher(), proot, "-0", "-r", str(root), "-b", "/proc", "-b", "/dev", *extra, "-w", "/",
            *inner]


def _statx_launcher() -> str:
    """proot does not translate statx here, so a path that exists only inside the root looks
    missing; the emulated userland's seccomp launcher makes statx fail over to stat."""
    proc = subprocess.run(["bash", "-c", f". {SCRIPTS}/lib.sh && rv_launcher"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise CheckFailed(f"cannot build the statx launcher proot needs: {last_lines(proc.stderr)}",
                          hint="apt-get install gcc libseccomp-dev")
    return proc.stdout.strip()
