"""Host side of the emulated riscv64 userland: find or create it, copy the checkout in, run
commands inside it.

The scripts in ci/riscv64 own the userland itself (debootstrap, proot, the seccomp launcher,
the clean guest environment); this module drives them so a check is one Python command.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Sequence

from rvforge import REPO_ROOT
from rvforge.errors import EmulationError

SCRIPTS = REPO_ROOT / "ci" / "riscv64"
#: Guest path of the checkout copy: guest writes (venv, egg-info, wheels) never reach the host tree.
GUEST_SRC = "/src"
#: Host-side things a guest must not see or overwrite in its copy of the checkout.
COPY_EXCLUDES = (".git", ".venv", "__pycache__", "*.egg-info", "/wheelhouse/", "/build/", "/dist/",
                 ".pytest_cache")


def _script(name: str, *args: str) -> list[str]:
    return ["bash", str(SCRIPTS / name), *args]


def default_rootfs() -> Path:
    """Where the cached userland for the current suite and package list lives."""
    proc = subprocess.run(_script("create-rootfs.sh", "--print-path"), capture_output=True, text=True)
    if proc.returncode != 0:
        raise EmulationError(f"cannot work out the riscv64 userland path: {proc.stderr.strip()}")
    return Path(proc.stdout.strip())


def ensure_rootfs(rootfs: Path | None) -> Path:
    """Return a ready userland, creating it (about 15 minutes) when it is missing."""
    root = rootfs or default_rootfs()
    if subprocess.run(_script("create-rootfs.sh", "--rootfs", str(root))).returncode != 0:
        raise EmulationError(f"creating the riscv64 userland at {root} failed (see the output above)",
                             hint="run ci/riscv64/create-rootfs.sh alone to see the failing step")
    return root


def copy_checkout(rootfs: Path) -> Path:
    """Mirror the checkout into ROOTFS/src (rsync --delete, keeping guest-made build files)."""
    if shutil.which("rsync") is None:
        raise EmulationError("rsync is missing", hint="apt-get install rsync")
    dest = rootfs / GUEST_SRC.lstrip("/")
    dest.mkdir(parents=True, exist_ok=True)
    excludes = [f"--exclude={pattern}" for pattern in COPY_EXCLUDES]
    subprocess.run(["rsync", "-a", "--delete", *excludes, f"{REPO_ROOT}/", f"{dest}/"], check=True)
    return dest


def guest_argv(rootfs: Path, argv: Sequence[str], cwd: str = GUEST_SRC) -> list[str]:
    return _script("run.sh", "--rootfs", str(rootfs), "--cwd", cwd, "--", *argv)


def run_in_guest(rootfs: Path, argv: Sequence[str], cwd: str = GUEST_SRC, timeout: float | None = None) -> None:
    """Run ``argv`` as riscv64 code; output streams through. Raises EmulationError on failure.

    The whole proot session is one process group, killed as a group on timeout: proot
    waits for every guest process, so a stray guest daemon would otherwise hang it."""
    proc = subprocess.Popen(guest_argv(rootfs, argv, cwd), start_new_session=True)
    try:
        code = proc.wait(timeout=timeout)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    if code != 0:
        raise EmulationError(f"guest command failed with exit code {code}: {' '.join(argv)}")
