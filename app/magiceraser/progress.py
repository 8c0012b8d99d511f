"""A plain-text progress bar on stderr: redrawn in place on a terminal, one line per step otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None, width: int = 24):
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.perf_counter()
        self.live = self.stream.isatty()

    def _bar(self) -> str:
        filled = self.width * self.done // max(1, self.total)
        return "[" + "#" * filled + "-" * (self.width - filled) + "]"

    def step(self, label: str, status: str = "ok") -> None:
        """Count one item as finished (``status`` ok or a short failure note) and redraw."""
        self.done += 1
        elapsed = time.perf_counter() - self.started
        line = f"{self._bar()} {self.done}/{self.total} {elapsed:6.1f}s {label}: {status}"
        if self.live:
            self.stream.write("\r\033[K" + line + ("\n" if self.done == self.total or status != "ok" else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
