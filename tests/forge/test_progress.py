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
