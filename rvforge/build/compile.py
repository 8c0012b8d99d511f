"""The compile step: the backend's build with progress on the terminal, and one retry with half
the jobs when the OOM killer took a compiler.

Jobs are derived from RAM + swap, but torch's biggest units can still outgrow it when other
work runs beside the build. A killed compiler is then the machine's limit, not a bug: the same
build tree (kept by ``resume``) is built again with fewer jobs, so ninja redoes only what was
lost. Once only: a second kill fails the step with the diagnosis (add swap, fewer --jobs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, TextIO

from rvforge.build import buildenv, diagnose
from rvforge.build.progress import Pace, Progress
from rvforge.build.progress_log import Journal, pace_path
from rvforge.errors import BuildFailed
from rvforge.log import info, step

#: The command and environment of a build with this many jobs.
Command = Callable[[int], tuple[list[str], dict[str, str]]]


class _Watch:
    """Progress lines for the terminal, and the first line saying a compiler was killed."""

    def __init__(self, label: str, journal: Journal | None, resumed: bool) -> None:
        pace = Pace.load(pace_path(journal.path)) if journal else None
        self.progress = Progress(label, journal=journal, pace=pace, resumed=resumed)
        self.killed: str | None = None

    def line(self, text: str) -> None:
        self.progress.line(text)
        if self.killed is None and diagnose.compiler_killed(text):
            self.killed = text.strip()

    def tick(self) -> None:
        self.progress.tick()


def _jobs(count: int) -> str:
    return f"{count} job{'s' if count > 1 else ''}"


def _attempt(label: str, command: Command, jobs: int, log: TextIO, cwd: Path,
             what: str, journal: Journal | None, resumed: bool) -> tuple[BuildFailed, str] | None:
    """None when the build succeeded; (the failure, the kill line) when a compiler was killed.
    Any other failure raises. A complete, uninterrupted build leaves its pace for the next one."""
    watch = _Watch(label, journal, resumed)
    args, env = command(jobs)
    try:
        with step(f"{label} ({_jobs(jobs)})"):
            buildenv.run(args, log, env, cwd=cwd, what=what, watcher=watch)
    except BuildFailed as exc:
        if watch.killed is None:
            raise
        return exc, watch.killed
    pace = watch.progress.finished_pace()
    if journal and pace:
        pace.save(pace_path(journal.path))
    return None


def compile_step(label: str, command: Command, jobs: int, log: TextIO, cwd: Path, what: str,
                 journal: Journal | None = None, resumed: bool = False) -> None:
    """Run the build; if a compiler is killed and more than one job ran, once more with half.
    Progress lines also go to ``journal`` (machine form) when given; ``resumed``: the build
    continues in a kept tree."""
    killed = _attempt(label, command, jobs, log, cwd, what, journal, resumed)
    if killed is None:
        return
    failure, line = killed
    fewer = max(1, jobs // 2)
    if fewer == jobs:
        raise failure
    info(f"    a compiler was killed, most likely out of memory ({line}): building again, once, "
         f"with {_jobs(fewer)} instead of {jobs}, in the same build tree")
    again = _attempt(label, command, fewer, log, cwd, what, journal, resumed=True)
    if again is not None:
        raise again[0]
