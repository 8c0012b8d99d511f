"""What keeps a deploy that dies part-way from losing anything: one deploy per prefix at a time,
the debris of a killed one cleared, a staged server that dies with its deploy, and a switch that
runs in its own session, so it completes (or switches back) even if the deploy is killed.

Standard library only (runs on the target).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import rvforge
from rvforge.common import exclusive_lock, lock_holder, note_holder
from rvforge.errors import DeployError
from rvforge.log import info
from rvforge.ontarget import release as rel

LOCK_NAME = "deploy.lock"
_PR_SET_PDEATHSIG = 1


@contextmanager
def exclusive(layout: rel.Layout, what: str) -> Iterator[int]:
    """Hold the prefix's deploy lock; yields its fd so a detached switch can keep holding it."""
    with exclusive_lock(layout.run / LOCK_NAME, what, str(layout.prefix),
                        hint="wait for that deploy or rollback to finish, then run the command again") as fd:
        yield fd


def holder(layout: rel.Layout) -> str | None:
    """Who holds the deploy lock now, or None when nobody does."""
    return lock_holder(layout.run / LOCK_NAME)


def debris(layout: rel.Layout) -> list[Path]:
    """Release dirs a killed deploy left behind: never completed (no release.json), not current."""
    if not layout.releases.is_dir():
        return []
    current = rel.current_release(layout)
    return sorted(p for p in layout.releases.iterdir()
                  if p.is_dir() and not (p / "release.json").is_file() and p != current)


def clear_debris(layout: rel.Layout) -> None:
    """Called under the lock, so no other deploy is writing what is removed."""
    for path in debris(layout):
        shutil.rmtree(path, ignore_errors=True)
        info(f"    removed {path.name}, left incomplete by an interrupted deploy")


def die_with_parent() -> None:
    """preexec_fn: the kernel kills the child when the deploy that started it dies (Linux)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the staged server outlives a killed deploy until stopped by hand


def detached_switch(layout: rel.Layout, settings_json: str, release: Path, lock_fd: int) -> None:
    """Run ``python -m rvforge.ontarget switch`` in its own session holding the lock; wait for it and
    relay what it printed. Killing this process leaves the switch running to its end."""
    layout.log_dir.mkdir(parents=True, exist_ok=True)
    log_path = layout.log_dir / f"switch-{release.name}.log"
    tool_root = str(Path(rvforge.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (tool_root, os.environ.get("PYTHONPATH"))))}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "rvforge.ontarget", "switch", "--settings", settings_json,
                                 "--release", str(release)], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, env=env, pass_fds=(lock_fd,))
    note_holder(lock_fd, proc.pid, f"switch to {release.name} for pid {os.getpid()}")
    code = proc.wait()
    text = log_path.read_text(errors="replace").rstrip()
    before, marker, message = ("\n" + text).rpartition("\nerror: ")
    shown = before.strip() if marker else text
    if shown:
        info(shown)
    if code != 0:
        raise DeployError(message if marker else f"the switch to {release.name} failed (exit {code}); see {log_path}")
