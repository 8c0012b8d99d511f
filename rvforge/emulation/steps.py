"""A run of named checks that keeps going after a failure and ends with ``N passed, N failed``.

Long emulated runs are expensive: one failing step must not hide what the others would
have shown, but a step whose prerequisite failed is reported as failed, not run."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from rvforge.errors import ForgeError
from rvforge.log import format_duration, info, step


@dataclass
class Outcome:
    name: str
    passed: bool
    seconds: float
    detail: str = ""


@dataclass
class StepRun:
    outcomes: list[Outcome] = field(default_factory=list)

    def passed(self, name: str) -> bool:
        return any(o.name == name and o.passed for o in self.outcomes)

    def run(self, name: str, action: Callable[[], object], needs: Sequence[str] = ()) -> bool:
        """Run ``action`` as a timed step; a ForgeError or failed command marks it failed."""
        missing = [need for need in needs if not self.passed(need)]
        if missing:
            info(f"<!! {name} not run: needs '{missing[0]}'")
            self.outcomes.append(Outcome(name, False, 0.0, f"needs {missing[0]}"))
            return False
        start = time.monotonic()
        try:
            with step(name):
                action()
        except (ForgeError, subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as err:
            info(f"    {err}")
            self.outcomes.append(Outcome(name, False, time.monotonic() - start, str(err).splitlines()[0]))
            return False
        self.outcomes.append(Outcome(name, True, time.monotonic() - start))
        return True

    def add(self, outcomes: Sequence[Outcome]) -> None:
        self.outcomes.extend(outcomes)

    @property
    def failed(self) -> int:
        return sum(not o.passed for o in self.outcomes)

    def table(self) -> str:
        return "\n".join(f"  {'ok  ' if o.passed else 'FAIL'} {format_duration(o.seconds):>9}  {o.name}"
                         for o in self.outcomes)

    def summary(self) -> str:
        return f"{len(self.outcomes) - self.failed} passed, {self.failed} failed"
