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
import time
from pathlib import Path
from typing import Sequence

from rvforge import REPO_ROOT
from rvforge.common import process_stat
from rvforge.errors import EmulationError, GuestLingered

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


#: How long a guest session may go on once its command has written its result file. proot
#: waits for every guest process, so one the command left behind (a service's stuck child) would
#: otherwise hold the session, and whatever waits for it, open until the overall timeout.
LINGER = 60.0
POLL = 1.0


def run_in_guest(rootfs: Path, argv: Sequence[str], cwd: str = GUEST_SRC, timeout: float | None = None,
                 done_file: Path | None = None) -> None:
    """Run ``argv`` as riscv64 code; output streams through. Raises EmulationError on failure.

    The whole proot session is one process group, killed as a group on timeout, or LINGER seconds
    after ``done_file`` appeared (GuestLingered names the processes that were left)."""
    code = run_session(guest_argv(rootfs, argv, cwd), timeout, done_file)
    if code != 0:
        raise EmulationError(f"guest command failed with exit code {code}: {' '.join(argv)}")


def run_session(argv: Sequence[str], timeout: float | None = None, done_file: Path | None = None) -> int:
    """Run ``argv`` as its own process group and return its exit code; the group is killed on
    timeout, on any exception, or LINGER seconds after ``done_file`` appeared."""
    proc = subprocess.Popen(argv, start_new_session=True)
    try:
        code = _wait(proc, timeout, done_file)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    return code


def _wait(proc: subprocess.Popen[bytes], timeout: float | None, done_file: Path | None) -> int:
    started = time.monotonic()
    done_at: float | None = None
    while True:
        try:
            return proc.wait(timeout=POLL)
        except subprocess.TimeoutExpired:
            now = time.monotonic()
        if timeout is not None and now - started > timeout:
            raise subprocess.TimeoutExpired(proc.args, timeout)
        if done_at is None and done_file is not None and done_file.exists():
            done_at = now
        if done_at is not None and now - done_at > LINGER:
            left = session_processes(proc.pid)
            raise GuestLingered(f"the guest command finished, but its session still ran {LINGER:.0f} s later; "
                                "killed: " + "; ".join(left or ["(no process listed)"]))


def session_processes(group: int) -> list[str]:
    """``pid: command line`` of every live process in process group ``group``, proot's own included."""
    found = []
    for pid in sorted(int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()):
        fields = process_stat(pid)
        if not fields or fields[0] == "Z" or int(fields[2]) != group:
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile
        found.append(f"{pid}: {cmdline.strip()}")
    return found
