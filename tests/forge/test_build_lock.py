"""Two build-wheels runs never share a cache; a killed holder leaves no stale lock."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from conftest import invoke

from rvforge.build import lock
from rvforge.errors import Busy

HOLD = ("import sys, time; from pathlib import Path; from rvforge.build import lock\n"
        "with lock.exclusive(Path(sys.argv[2])):\n"
        "    print('held', flush=True); time.sleep(120)\n")


@pytest.fixture
def holder(tmp_path):
    house, cache = tmp_path / "wheelhouse", tmp_path / "cache"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(house), str(cache)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield proc, house, cache
    proc.kill()
    proc.wait()


def test_a_second_build_is_refused_naming_the_holder(holder):
    proc, house, cache = holder
    run = invoke("build-wheels", "--only", "pillow", "--wheelhouse", str(house), env={"RVFORGE_HOME": str(cache)})
    assert run.returncode == Busy.exit_code and "Traceback" not in run.stderr
    assert run.stderr.startswith(f"error: {cache} is in use by pid {proc.pid}")
    assert "fetch pillow" not in run.stdout  # refused before any work


def test_a_dry_run_reads_while_a_build_holds_the_lock(holder):
    _, house, cache = holder
    run = invoke("build-wheels", "--dry-run", "--wheelhouse", str(house), env={"RVFORGE_HOME": str(cache)})
    assert run.returncode == 0, run.stderr


def test_a_killed_holder_leaves_no_stale_lock(holder):
    proc, house, cache = holder
    with pytest.raises(Busy, match=f"pid {proc.pid}"):
        with lock.exclusive(cache):
            pass
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with lock.exclusive(cache):
        assert (cache / lock.LOCK_NAME).read_text().startswith("pid ")
    assert not house.exists()  # the wheelhouse holds wheels and the manifest only
