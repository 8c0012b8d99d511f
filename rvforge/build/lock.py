"""One build at a time per cache: two runs would build into the same work dirs and race on a
wheelhouse manifest. The lock is the kernel's (``flock``), so a killed run never leaves a
stale one; the file only says who holds it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from rvforge.common import exclusive_lock

LOCK_NAME = ".rvforge-build.lock"


@contextmanager
def _one(directory: Path) -> Iterator[None]:
    with exclusive_lock(directory / LOCK_NAME, " ".join(sys.argv[-4:]), str(directory),
                        hint="wait for that build to finish (or stop it), then run the command again"):
        yield


@contextmanager
def exclusive(*directories: Path) -> Iterator[None]:
    """Hold the build lock of every directory, or raise ``Busy`` naming who holds one."""
    with ExitStack() as stack:
        for directory in directories:
            stack.enter_context(_one(directory))
        yield
