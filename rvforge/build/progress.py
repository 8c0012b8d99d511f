"""Progress of a long compile step on the terminal: percent done and time left from the build
tool's own counters, or the elapsed time when it prints none.

ninja (meson, and CMake's Ninja generator under torch's setup.py) prints ``[k/N]`` per finished
job; CMake's Makefiles print ``[ 42%]``. A torch build has ~1,500 jobs over hours, so a line goes
out every 5 % or every few minutes, never more than one per ``MIN_GAP`` seconds; the full output
stays in the build log. Each line also goes to the recipe's progress journal (``progress_log``),
which ``build-wheels --status`` reads.

Jobs differ in cost by orders of magnitude (torch compiles small C libraries first, its
operator kernels later), so a pace taken from the jobs done so far promises a 2-hour build in
half an hour. A finished run therefore leaves its ``Pace`` - when each job count was reached -
and the next build of the same recipe and version estimates from that shape, scaled by how fast
this run goes over the same stretch.
"""

from __future__ import annotations

import json
import re
import time
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rvforge.build.progress_log import Journal
from rvforge.common import write_atomic
from rvforge.log import format_duration, info

_NINJA = re.compile(r"^\s*\[(\d+)/(\d+)\]")
_MAKE = re.compile(r"^\[\s*(\d+)%\]")
#: A line every STEP_PERCENT percent, or every HEARTBEAT seconds while nothing else was said.
STEP_PERCENT = 5
HEARTBEAT = 180.0
MIN_GAP = 10.0
#: Counts of fewer jobs are a preparatory step (torch generates its sources as "[1/4]"): a
#: percentage of it would read as the build's, so it counts as a silent step.
MIN_COUNTED = 10
#: Points kept of a finished run's pace (evenly spread over its jobs).
PACE_POINTS = 200


@dataclass(frozen=True)
class Pace:
    """When a finished run reached each job count: ``points`` of (done, seconds since it began)."""

    total: int
    points: tuple[tuple[int, float], ...]

    def seconds_at(self, done: int) -> float:
        """Seconds the run took to reach ``done`` jobs (linear between the points kept)."""
        counts = [count for count, _ in self.points]
        index = bisect_left(counts, done)
        if index == 0:
            return self.points[0][1] * done / max(self.points[0][0], 1)
        if index == len(counts):
            return self.points[-1][1]
        (c0, t0), (c1, t1) = self.points[index - 1], self.points[index]
        return t0 + (t1 - t0) * (done - c0) / max(c1 - c0, 1)

    def save(self, path: Path) -> None:
        write_atomic(path, json.dumps({"total": self.total, "points": self.points}) + "\n")

    @staticmethod
    def load(path: Path) -> Pace | None:
        """The pace saved at ``path``; None when there is none or it cannot be read."""
        try:
            data = json.loads(path.read_text())
            points = tuple((int(done), float(seconds)) for done, seconds in data["points"])
            return Pace(int(data["total"]), points) if points else None
        except (OSError, ValueError, KeyError, TypeError):
            return None


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
                 emit: Callable[[str], None] = info, journal: Journal | None = None,
                 pace: Pace | None = None, resumed: bool = False) -> None:
        self.label, self.clock, self.emit, self.journal, self.pace = label, clock, emit, journal, pace
        self.resumed = resumed  # in a kept tree: its counts cover only the jobs left
        self.start = self.last_said = clock()
        self.last_percent = -STEP_PERCENT
        self.count: tuple[int, int] | None = None
        self.phase_start = self.start
        self.phase_done = 0
        self.phase_points: list[tuple[int, float]] = []

    def line(self, text: str) -> None:
        count = parse_count(text)
        if count is None or count[1] < MIN_COUNTED:
            return
        done, total = count
        now = self.clock()
        if self.count is None or total != self.count[1] or done < self.count[0]:
            self.phase_start, self.phase_done, self.last_percent = now, done, -STEP_PERCENT
            self.phase_points = []
        self.count = count
        self.phase_points.append((done, now - self.phase_start))
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
        """Time left: from an earlier run's pace when there is one (a resumed run's jobs are the
        last ones of it), else at this phase's pace so far; None before there is a pace to go by."""
        assert self.count is not None
        done, total = self.count
        spent, advanced = now - self.phase_start, done - self.phase_done
        if advanced <= 0 or spent <= 0:
            return None
        if self.pace is not None and self.pace.total >= total:
            offset = self.pace.total - total
            before = self.pace.seconds_at(offset + done) - self.pace.seconds_at(offset + self.phase_done)
            if before > 0:
                rest = self.pace.seconds_at(self.pace.total) - self.pace.seconds_at(offset + done)
                return rest * spent / before
        return (total - done) * spent / advanced

    def finished_pace(self) -> Pace | None:
        """This run's pace, when it built the whole tree in one phase, start to end."""
        if self.count is None or not self.phase_points or self.resumed:
            return None
        done, total = self.count
        if done != total or self.phase_done > max(1, total // 100):
            return None
        step = max(1, len(self.phase_points) // PACE_POINTS)
        kept = self.phase_points[::step]
        if kept[-1] != self.phase_points[-1]:
            kept.append(self.phase_points[-1])
        return Pace(total, tuple(kept))
