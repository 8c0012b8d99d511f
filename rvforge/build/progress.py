"""Progress of a long compile step on the terminal: percent done and time left from the build
tool's own counters, or the elapsed time when it prints none.

ninja (meson, and CMake's Ninja generator under torch's setup.py) prints ``[k/N]`` per finished
job; CMake's Makefiles print ``[ 42%]``. A torch build has ~1,500 jobs over hours, so a line goes
out every 5 % or every few minutes, never more than one per ``MIN_GAP`` seconds; the full output
stays in the build log. Each line also goes to the recipe's progress journal (``progress_log``),
which ``build-wheels --status`` reads.
"""

from __future__ import annotations

import re
import time
from typing import Callable

from rvforge.build.progress_log import Journal
from rvforge.log import format_duration, info

_NINJA = re.compile(r"^\s*\[(\d+)/(\d+)\]")
_MAKE = re.compile(r"^\[\s*(\d+)%\]")
#: A line every STEP_PERCENT percent, or every HEARTBEAT seconds while nothing else was said.
STEP_PERCENT = 5
HEARTBEAT = 180.0
MIN_GAP = 10.0


def parse_count(line: str) -> tuple[int, int] | None:
    """(done, total) from a ninja ``[k/N]`` or make ``[ p%]`` line, else None."""
    match = _NINJA.match(line)
    if match:
        return int(match.group(1)), int(match.group(2))
    match = _MAKE.match(line)
    return (int(match.group(1)), 100) if match else None


class Progress:
    """Turns the lines of one step's output into occasional ``label: k/N (p%), ...`` lines.

    Each run of the build tool (a new total, or a count that starts again) is a new phase: its
    rate, and so the estimate, starts from zero, which also makes a resumed ninja run (which
    counts only the jobs left) estimate from its own pace."""

    def __init__(self, label: str, clock: Callable[[], float] = time.monotonic,
                 emit: Callable[[str], None] = info, journal: Journal | None = None) -> None:
        self.label, self.clock, self.emit, self.journal = label, clock, emit, journal
        self.start = self.last_said = clock()
        self.last_percent = -STEP_PERCENT
        self.count: tuple[int, int] | None = None
        self.phase_start = self.start
        self.phase_done = 0

    def line(self, text: str) -> None:
        count = parse_count(text)
        if count is None:
            return
        done, total = count
        now = self.clock()
        if self.count is None or total != self.count[1] or done < self.count[0]:
            self.phase_start, self.phase_done, self.last_percent = now, done, -STEP_PERCENT
        self.count = count
        percent = 100 * done // max(total, 1)
        if percent >= self.last_percent + STEP_PERCENT and now - self.last_said >= MIN_GAP:
            self._say(now)

    def tick(self) -> None:
        """Called while the step runs, lines or not: keeps a silent step visibly alive."""
        now = self.clock()
        if now - self.last_said >= HEARTBEAT:
            self._say(now)

    def _say(self, now: float) -> None:
        self.last_said = now
        elapsed = f"{format_duration(now - self.start)} elapsed"
        if self.count is None:
            self.emit(f"    {self.label}: {elapsed}")
            if self.journal:
                self.journal.record(None, None, now - self.start, None)
            return
        done, total = self.count
        self.last_percent = 100 * done // max(total, 1)
        left = self._left(now)
        if self.journal:
            self.journal.record(done, total, now - self.start, left)
        self.emit(f"    {self.label}: {done}/{total} ({self.last_percent}%), {elapsed}"
                  + (f", about {format_duration(left)} left" if left is not None else ""))

    def _left(self, now: float) -> float | None:
        """Time left at this phase's pace so far; None before there is a pace to go by."""
        assert self.count is not None
        done, total = self.count
        spent, advanced = now - self.phase_start, done - self.phase_done
        if advanced <= 0 or spent <= 0:
            return None
        return (total - done) * spent / advanced
