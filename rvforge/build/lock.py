"""One build at a time per cache: two runs would build into the same work dirs and race on a
wheelhouse manifest. The lock is the kernel's (``flock``), so a killed run never leaves a
stale one; the file only says who holds it."""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

from rvforge.errors import Busy

LOCK_NAME = ".rvforge-build.lock"


@contextmanager
def _one(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOCK_NAME
    handle: IO[str] = path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise Busy(f"{directory} is in use by {holder}",
                       hint="wait for that build to finish (or stop it), then run the command again") from None
        handle.seek(0)
        handle.truncate()
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
        handle.write(f"pid {os.getpid()} ({' '.join(sys.argv[-4:])}), started {started}\n")
        handle.flush()
        yield
    finally:
        handle.close()


@contextmanager
def exclusive(*directories: Path) -> Iterator[None]:
    """Hold the build lock of every directory, or raise ``Busy`` naming who holds one."""
    with ExitStack() as stack:
        for directory in directories:
            stack.enter_context(_one(directory))
        yield
