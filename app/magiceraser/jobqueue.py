"""One inference at a time, a few waiting in arrival order, everyone else told to come back.

LaMa at photo size can take most of an 8 GB laptop's memory; two at once would push it into
swap or the OOM killer. So requests take a numbered ticket and run strictly in ticket order
(FIFO); when ``max_waiting`` requests are already waiting the next one is refused at once.
The web server also admits at most ``max_waiting + 1`` requests before parsing their bodies
(``admit``), so a burst of clients is refused without decoding a single upload.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import QueueFull


class InferenceQueue:
    def __init__(self, max_waiting: int = 2):
        if max_waiting < 0:
            raise ValueError("max_waiting must be >= 0")
        self.max_waiting = max_waiting
        self._cond = threading.Condition()
        self._next_ticket = 0
        self._now_serving = 0
        self._running = False
        self._admitted = 0
        self._last_seconds = 1.0
        # Housekeeping turns in line or running: never counted as requests, so none is refused for them.
        self._chores = 0

    def _waiting(self) -> int:
        return self._next_ticket - self._now_serving - (1 if self._running else 0) - self._chores

    @property
    def waiting(self) -> int:
        """Requests holding a ticket that have not started yet."""
        with self._cond:
            return self._waiting()

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._running

    def _refusal(self, waiting: int) -> QueueFull:
        return QueueFull(waiting, max(1, math.ceil(self._last_seconds * (waiting + 1))))

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Hold one of ``max_waiting + 1`` places for a whole request, or raise QueueFull at once."""
        with self._cond:
            if self._admitted > self.max_waiting:
                raise self._refusal(self._admitted - 1)
            self._admitted += 1
        try:
            yield
        finally:
            with self._cond:
                self._admitted -= 1

    @contextmanager
    def turn(self) -> Iterator[float]:
        """Wait for this request's turn; yields the seconds spent waiting. Raises QueueFull."""
        with self._in_line(chore=False) as waited:
            yield waited

    @contextmanager
    def housekeeping(self) -> Iterator[float]:
        """A turn for the service's own work (the BLAS measurement): it waits its turn like a
        request, but is never refused and does not count toward the retry estimate."""
        with self._in_line(chore=True) as waited:
            yield waited

    @contextmanager
    def _in_line(self, chore: bool) -> Iterator[float]:
        arrived = time.perf_counter()
        with self._cond:
            waiting = self._waiting()
            if not chore and self._next_ticket > self._now_serving and waiting >= self.max_waiting:
                raise self._refusal(waiting)
            ticket = self._next_ticket
            self._next_ticket += 1
            if chore:
                self._chores += 1
            while ticket != self._now_serving or self._running:
                self._cond.wait()
            self._running = True
        started = time.perf_counter()
        try:
            yield started - arrived
        finally:
            with self._cond:
                if chore:
                    self._chores -= 1
                else:
                    self._last_seconds = time.perf_counter() - started
                self._running = False
                self._now_serving += 1
                self._cond.notify_all()
