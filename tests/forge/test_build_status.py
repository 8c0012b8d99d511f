"""``build-wheels --status`` against a real build running in the background (the meson-python
fixture, compiling slowly): it names the holder of the cache, the recipe, k/N, percent and time
left from the progress journal while the build runs, and says no build runs once it is done."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import mesonfixture as fx
import pytest
from conftest import REPO, invoke

from rvforge.build import progress, progress_log


def _status(home: Path, *extra: str) -> str:
    return invoke("build-wheels", "--status", *extra, env={"RVFORGE_HOME": str(home)}, check=True).stdout


def test_latest_record_comes_from_the_recipe_being_built(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    numpy = progress_log.Journal(logs / "numpy-2.2.6.progress.jsonl", "numpy")
    numpy.record(300, 310, 600.0, 20.0)
    record = progress_log.latest(logs)
    assert record is not None and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record.pop("ts"))
    assert record == {"recipe": "numpy", "done": 300, "total": 310, "percent": 96, "elapsed_s": 600.0,
                      "eta_s": 20.0}
    time.sleep(0.05)
    scipy = progress_log.Journal(logs / "scipy-1.15.3.progress.jsonl", "scipy")
    assert progress_log.latest(logs) is None  # scipy is still fetching: numpy's record is not its progress
    scipy.record(None, None, 180.0, None)
    with scipy.path.open("a") as handle:
        handle.write('{"recipe": "scipy", "do')  # a record cut short by a kill
    assert progress_log.latest(logs)["elapsed_s"] == 180.0


@pytest.mark.slow
def test_status_follows_a_running_build(tmp_path: Path) -> None:
    source = fx.write_package(tmp_path / "pkg")
    ctl = tmp_path / "ctl"
    recipes = fx.write_recipe(tmp_path / "recipes", source, ctl)
    # a compiler slow enough that the build outlasts the first progress line (MIN_GAP seconds)
    (ctl / "slow").write_text(str(2.5 * progress.MIN_GAP / (fx.FILES / 2)))
    home = tmp_path / "home"
    assert _status(home).strip() == f"no build running in {home}"
    journal = home / "logs" / f"{fx.NAME}-1.0.progress.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "invoke", "build-wheels", "--recipes", str(recipes),
                             "--wheelhouse", str(tmp_path / "wh"), "--profile", "debian-x86_64", "--jobs", "2"],
                            cwd=REPO, env={**os.environ, "RVFORGE_HOME": str(home)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            if journal.exists() and journal.read_text().strip():
                break
            time.sleep(0.2)
        assert proc.poll() is None, f"the build ended before its first progress record:\n{proc.communicate()[0]}"
        text = _status(home)
        data = json.loads(_status(home, "--json"))
    finally:
        out = proc.communicate(timeout=300)[0]
    assert proc.returncode == 0, out
    assert text.startswith(f"building in {home}: pid {proc.pid} "), text
    record = data["progress"]
    assert data["running"] is True and str(proc.pid) in data["holder"]
    assert set(record) == {"recipe", "done", "total", "percent", "elapsed_s", "eta_s", "ts"}
    assert record["recipe"] == fx.NAME and 0 < record["done"] < record["total"]
    assert record["percent"] == 100 * record["done"] // record["total"] and record["eta_s"] > 0
    assert re.search(rf"^  {fx.NAME}: {record['done']}/{record['total']} \({record['percent']}%\), "
                     r"\S+ elapsed, about \S+ left \(as of \d{4}-\d\d-\d\dT", text, re.M), text
    # every progress line the terminal got is one record in the journal, in the same order
    said = [line for line in out.splitlines() if line.startswith(f"    compile {fx.NAME} 1.0: ")]
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    assert len(records) == len(said) >= 1
    assert [f"{r['done']}/{r['total']} ({r['percent']}%)" for r in records] == \
           [line.split(": ", 1)[1].split(",")[0] for line in said]
    assert _status(home).strip() == f"no build running in {home}"
    assert json.loads(_status(home, "--json"))["running"] is False
    # the manifest keeps the build's cost, and the next plan takes it as this machine's measure
    entry = json.loads((tmp_path / "wh" / "manifest.json").read_text())["wheels"][fx.NAME]
    assert entry["build_seconds"] > progress.MIN_GAP and entry["cpu_seconds"] > 0
    assert entry["peak_work_dir_bytes"] > 1_000_000  # the build venv alone is more
    plan = invoke("build-wheels", "--dry-run", "--force", "--recipes", str(recipes), "--wheelhouse",
                  str(tmp_path / "wh"), "--profile", "debian-x86_64", env={"RVFORGE_HOME": str(home)},
                  check=True).stdout
    assert re.search(rf"^\s+1\. {fx.NAME} 1\.0 .*\(~\S+, \d+ MB disk, measured here\)$", plan, re.M), plan
