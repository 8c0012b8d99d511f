"""Step logger: one line per step with its duration, so long runs stay legible."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Iterator, TextIO


def _fmt(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def info(message: str, stream: TextIO | None = None) -> None:
    print(message, file=stream or sys.stdout, flush=True)


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


@contextmanager
def step(name: str, stream: TextIO | None = None) -> Iterator[None]:
    """Print ``==> name`` then ``<== name (12.3s)`` or ``<!! name failed (12.3s)``."""
    out = stream or sys.stdout
    print(f"==> {name}", file=out, flush=True)
    start = time.monotonic()
    try:
        yield
    except BaseException:
        print(f"<!! {name} failed ({_fmt(time.monotonic() - start)})", file=out, flush=True)
        raise
    print(f"<== {name} ({_fmt(time.monotonic() - start)})", file=out, flush=True)


format_duration = _fmt
