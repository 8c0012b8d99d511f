"""The compile helper the riscv64 check runs on this machine for the guest's distcc build:
``invoke build-helper --profile debian-riscv64`` on 127.0.0.1, in the foreground as a user runs
it (inside the tool's cross root where this distro has no riscv64 gcc 16), ended by its own pid.

The emulated userland shares this machine's network, so the guest reaches it at 127.0.0.1. Jobs
are counted from the helper's log: only lines written after this start count.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from rvforge import REPO_ROOT
from rvforge.common import free_port
from rvforge.errors import CheckFailed
from rvforge.host.helper_daemon import compile_jobs, default_files
from rvforge.log import info

PROFILE = "debian-riscv64"
#: The first start may create the cross root (a few minutes).
START_TIMEOUT = 900
READY = "distccd listening"


@dataclass
class RunningHelper:
    """The started helper: its address for the guest and the jobs its log shows since the start."""

    port: int
    slots: int
    log: Path
    before: int  # COMPILE_OK lines already in the log

    @property
    def address(self) -> str:
        """As ``--distcc`` takes it."""
        return f"127.0.0.1:{self.port}/{self.slots}"

    def jobs_done(self) -> int:
        return compile_jobs(self.log) - self.before

    def require_jobs(self) -> None:
        """Fail when the guest's build sent no compile job: distcc falls back silently."""
        done = self.jobs_done()
        if done <= 0:
            raise CheckFailed(f"the helper's log {self.log} shows no compile job from the guest",
                              hint="the guest's build compiled everything itself; see its distcc warnings")
        info(f"    the helper compiled {done} jobs (COMPILE_OK in {self.log})")


@contextmanager
def running(slots: int) -> Iterator[RunningHelper]:
    """A helper listening on 127.0.0.1 for the block; stopped (SIGTERM to the task, which ends
    its daemon) afterwards, whatever happened."""
    port = free_port()
    log = default_files().log
    before = compile_jobs(log)
    proc = subprocess.Popen([sys.executable, "-m", "invoke", "build-helper", "--profile", PROFILE, "--install",
                             "--port", str(port), "--jobs", str(slots)], cwd=REPO_ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_ready(proc)
        yield RunningHelper(port, slots, log, before)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(proc: subprocess.Popen[str]) -> None:
    """Until the task says it listens; its output is read on a thread (which keeps draining it),
    so a task that hangs silently still fails at the deadline."""
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_forward, args=(proc, lines), daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    said: list[str] = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:  # the task ended before it listened
            break
        info(f"    helper: {line.rstrip()}")
        said.append(line.strip())
        if READY in line:
            return
    raise CheckFailed(f"invoke build-helper --profile {PROFILE} did not start: "
                      f"{said[-1] if said else 'no output'}", hint=f"run it by hand: invoke build-helper "
                      f"--profile {PROFILE} --install")


def _forward(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    """Every output line of the task into ``lines``, then None at its end."""
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.put(line)
    lines.put(None)
