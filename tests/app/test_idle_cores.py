"""Adaptive threads: each request gets the cores other programs left idle just before it (real
/proc/stat, real busy processes beside it); a fixed --threads keeps sleeping waits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from magiceraser.threads import ADAPTIVE_WAIT, FIXED_WAIT, SAMPLE_S, IdleCores, available_cores, threads_for


@pytest.mark.parametrize(("others", "expected"), [
    (0.0, 4),  # quiet: every core
    (1.0, 3),  # one core's worth of other work
    (7.0, 1),  # more than the machine: still one thread
    (0.4, 4),  # under half a core busy rounds to idle
])
def test_threads_follow_the_idle_cores(others: float, expected: int) -> None:
    assert threads_for(4, 4, others) == expected


def test_the_ceiling_is_never_passed() -> None:
    assert threads_for(2, 8, 0.0) == 2


def _settled(idle: IdleCores) -> float:
    """Other programs' load now (this process asleep): the background the assertions allow for."""
    time.sleep(3 * SAMPLE_S)
    return idle.others


@pytest.mark.skipif(available_cores() < 2 or not os.path.exists("/proc/stat"), reason="needs 2 cores and /proc")
def test_busy_cores_beside_the_service_leave_one_thread_until_they_stop() -> None:
    cores = available_cores()
    idle = IdleCores()
    background = _settled(idle)
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores - 1)]
    try:
        time.sleep(4 * SAMPLE_S)
        assert idle.choose(cores) == 1, f"{idle.others:.2f} cores busy elsewhere"
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    after = _settled(idle)
    idle.close()
    assert after < background + 0.5, f"the hogs stopped, yet {after:.2f} cores count (background {background:.2f})"


def test_this_process_own_work_does_not_count_as_busy() -> None:
    idle = IdleCores()
    background = _settled(idle)
    end = time.monotonic() + 4 * SAMPLE_S
    while time.monotonic() < end:  # this process computing (a request's decode, the last pass)
        pass
    idle.close()
    assert idle.others < background + 0.5, (f"this process's own core counted as another program's: "
                                            f"{idle.others:.2f} cores (background {background:.2f})")


def _wait_settings(threads: str) -> dict[str, str | None]:
    script = ("import json, os, sys; from magiceraser.threads import prepare_environment; "
              "prepare_environment(int(sys.argv[1]) or None); "
              "print(json.dumps({k: os.environ.get(k) for k in ('OMP_WAIT_POLICY', 'GOMP_SPINCOUNT')}))")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    out = subprocess.run([sys.executable, "-c", script, threads], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout)


def test_fixed_threads_sleep_and_adaptive_ones_spin_briefly() -> None:
    assert _wait_settings("2") == {"GOMP_SPINCOUNT": None, **FIXED_WAIT}
    assert _wait_settings("0") == {"OMP_WAIT_POLICY": None, **ADAPTIVE_WAIT}
