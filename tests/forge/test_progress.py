"""Progress of long compile steps: percent and time left from ninja's and make's counters at a
readable rate, elapsed time for silent steps, and the watched run that feeds them (log unchanged)."""

from __future__ import annotations

import sys

import pytest

from rvforge.build import buildenv, progress
from rvforge.build.progress import Progress, parse_count
from rvforge.errors import BuildFailed


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def watched() -> tuple[Progress, Clock, list[str]]:
    clock, said = Clock(), []
    return Progress("compile torch 2.6.0", clock=clock, emit=said.append), clock, said


def test_counts_of_ninja_and_make() -> None:
    assert parse_count("  [812/1504] Building CXX object caffe2/CMakeFiles/x.o") == (812, 1504)
    assert parse_count("[ 45%] Building C object foo.o") == (45, 100)
    assert parse_count("-- Configuring done (31.2s)") is None
    assert parse_count("error: a[1/2] = 3") is None


def test_a_line_every_five_percent_with_time_left(watched) -> None:
    bar, clock, said = watched
    for done in range(1, 1001):
        clock.now += 12.0  # 12 s per job: a 1000-job build takes 3h20m
        bar.line(f"[{done}/1000] Building CXX object o{done}.o")
    assert len(said) == 21  # the first count (the size of the build), then 5 %, 10 %, ... 100 %
    assert said[0] == "    compile torch 2.6.0: 1/1000 (0%), 12.0s elapsed"
    assert said[1] == "    compile torch 2.6.0: 50/1000 (5%), 10m00s elapsed, about 3h10m00s left"
    assert said[-1].startswith("    compile torch 2.6.0: 1000/1000 (100%), 3h20m00s elapsed")


def test_never_more_than_one_line_per_gap(watched) -> None:
    bar, clock, said = watched
    for done in range(1, 41):
        clock.now += 0.5  # a fast build: 40 jobs in 20 s
        bar.line(f"[{done}/40] Compiling C object f{done}.c.o")
    assert 1 <= len(said) <= 20 / progress.MIN_GAP


def test_silent_step_shows_elapsed_time(watched) -> None:
    bar, clock, said = watched
    bar.line("-- Configuring torch")
    clock.now += progress.HEARTBEAT - 1
    bar.tick()
    assert said == []
    clock.now += 1
    bar.tick()
    assert said == ["    compile torch 2.6.0: 3m00s elapsed"]


def test_a_long_link_repeats_the_last_count(watched) -> None:
    bar, clock, said = watched
    clock.now += 100
    bar.line("[1503/1504] Building CXX object last.o")
    clock.now += progress.HEARTBEAT
    bar.tick()
    assert said[-1].startswith("    compile torch 2.6.0: 1503/1504 (99%), 4m40s elapsed")


def test_a_new_ninja_run_estimates_from_its_own_pace(watched) -> None:
    bar, clock, said = watched
    for done in range(1, 11):
        clock.now += 1
        bar.line(f"[{done}/10] fast step")
    said.clear()
    clock.now += 60
    bar.line("[1/100] slow step")
    for done in range(2, 11):
        clock.now += 10
        bar.line(f"[{done}/100] slow step")
    assert said[-1] == "    compile torch 2.6.0: 6/100 (6%), 2m00s elapsed, about 15m40s left"


def test_watched_run_keeps_the_log_and_sees_every_line(tmp_path) -> None:
    class Lines:
        def __init__(self) -> None:
            self.seen: list[str] = []
            self.ticks = 0

        def line(self, text: str) -> None:
            self.seen.append(text)

        def tick(self) -> None:
            self.ticks += 1

    # UTF-8 split across two writes, a pause with no output, a last line without a newline.
    script = ("import sys, time; out = sys.stdout.buffer\n"
              "out.write(b'[1/2] caf\\xc3'); out.flush(); time.sleep(1.5)\n"
              "out.write(b'\\xa9\\n[2/2] done\\nno newline'); out.flush()\n")
    watcher = Lines()
    with (tmp_path / "log").open("w") as log:
        buildenv.run([sys.executable, "-c", script], log, {}, watcher=watcher)
    assert watcher.seen == ["[1/2] café", "[2/2] done", "no newline"]
    assert watcher.ticks >= 2
    assert (tmp_path / "log").read_text().endswith("[1/2] café\n[2/2] done\nno newline")
    with (tmp_path / "log").open("w") as log, pytest.raises(BuildFailed, match=r"the step failed \(exit 3\)"):
        buildenv.run([sys.executable, "-c", "raise SystemExit(3)"], log, {}, what="the step", watcher=Lines())



def _run_through(bar: Progress, clock: Clock, seconds_per_job, total: int, first: int = 1,
                 last: int | None = None) -> None:
    """Jobs ``first``..``last`` of a ``total``-job build, counted the way ninja counts them: a
    run that starts at job 601 (a resumed build) prints [1/400] for it."""
    for done in range(first, (last or total) + 1):
        clock.now += seconds_per_job(done)
        bar.line(f"[{done - first + 1}/{total - first + 1}] job {done}")


def _cheap_then_dear(done: int) -> float:
    """Jobs of rising cost, like torch's small C libraries first and its operator kernels last:
    500 s, then 1,500 s, then 6,000 s."""
    return 1.0 if done <= 500 else 5.0 if done <= 800 else 30.0


def _said_at(said: list[str], count: str) -> str:
    return next(line for line in said if f": {count} (" in line)


def test_a_finished_runs_pace_shapes_the_next_estimate(tmp_path) -> None:
    clock = Clock()
    first = Progress("compile torch 2.6.0", clock=clock, emit=lambda text: None)
    _run_through(first, clock, _cheap_then_dear, 1000)
    pace = first.finished_pace()
    assert pace is not None and pace.total == 1000 and len(pace.points) <= progress.PACE_POINTS + 1
    pace.save(tmp_path / "torch.pace.json")
    assert progress.Pace.load(tmp_path / "torch.pace.json") == pace
    for given, left in ((None, "about 23m20s left"), (pace, "about 4h16m40s left")):
        clock, said = Clock(), []
        bar = Progress("compile torch 2.6.0", clock=clock, emit=said.append, pace=given)
        _run_through(bar, clock, lambda done: 2 * _cheap_then_dear(done), 1000, last=300)
        # Twice as slow as the recorded run, 7,700 recorded seconds to go: 15,400 s, not 1,400.
        assert _said_at(said, "300/1000").endswith(left)


def test_a_resumed_run_is_placed_at_the_end_of_the_pace() -> None:
    clock = Clock()
    first = Progress("compile torch 2.6.0", clock=clock, emit=lambda text: None)
    _run_through(first, clock, _cheap_then_dear, 1000)
    for given, left in ((None, "about 31m40s left"), (first.finished_pace(), "about 1h55m00s left")):
        clock, said = Clock(), []
        bar = Progress("compile torch 2.6.0", clock=clock, emit=said.append, pace=given, resumed=True)
        # ninja counts only the 400 jobs left after the restart: jobs 601..1000 of the first run.
        _run_through(bar, clock, _cheap_then_dear, 1000, first=601, last=620)
        assert _said_at(said, "20/400").endswith(left)
    _run_through(bar, clock, _cheap_then_dear, 1000, first=601)
    assert bar.finished_pace() is None  # a resumed run does not replace the pace


def test_an_unreadable_pace_is_ignored(tmp_path) -> None:
    (tmp_path / "bad.pace.json").write_text("{not json")
    assert progress.Pace.load(tmp_path / "bad.pace.json") is None
    assert progress.Pace.load(tmp_path / "missing.pace.json") is None


def test_a_few_preparatory_jobs_are_not_a_percentage(watched) -> None:
    bar, clock, said = watched
    clock.now += 30
    bar.line("  [1/4] Generating ATen sources")
    clock.now += progress.HEARTBEAT
    bar.tick()
    assert said == ["    compile torch 2.6.0: 3m30s elapsed"]
