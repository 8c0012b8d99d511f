"""The plan's outlook: each build's expected time and disk on this machine, from the manifest's
record of an earlier build here or from the recipe's own estimate, their total, and a warning
when the cache's disk cannot hold the largest work dir."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from pathlib import Path

from conftest import REPO, invoke

from rvforge.build import estimates
from rvforge.build.recipes import load_recipe_file
from rvforge.log import format_duration

PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"


def torch_recipe():
    return load_recipe_file(REPO / "recipes" / "torch.yaml", PYTHON)


def test_recipe_estimate_is_scaled_by_machine_and_jobs() -> None:
    recipe = torch_recipe()
    assert recipe.estimate is not None and recipe.estimate.cpu_hours > 1
    here = estimates.expected(recipe, None, "x86_64", 2)
    laptop = estimates.expected(recipe, None, "riscv64", 4)
    assert here is not None and laptop is not None
    assert here.seconds == recipe.estimate.cpu_hours * 3600 / 2
    assert laptop.seconds == recipe.estimate.cpu_hours * 3600 * 10 / 4  # a C910 core is ~10x slower
    assert here.disk_bytes == int(recipe.estimate.disk_gb * 1e9) and here.basis == "recipe estimate"


def test_a_build_measured_here_wins_over_the_estimate() -> None:
    recipe = torch_recipe()
    entry = {"version": recipe.version, "machine": "x86_64", "build_seconds": 9000.0,
             "peak_work_dir_bytes": 7_000_000_000}
    measured = estimates.expected(recipe, entry, "x86_64", 2)
    assert measured == estimates.Expected(9000.0, 7_000_000_000, "measured here")
    # another version, or the same one built on another machine, says nothing about this build
    for other in ({**entry, "version": "2.5.1"}, {**entry, "machine": "riscv64"}):
        assert estimates.expected(recipe, other, "x86_64", 2).basis == "recipe estimate"
    assert estimates.expected(dataclasses.replace(recipe, estimate=None), None, "x86_64", 2) is None


def test_the_estimate_and_cross_note_are_not_part_of_the_recipe_digest(tmp_path: Path) -> None:
    text = (REPO / "recipes" / "torchvision.yaml").read_text()
    changed = tmp_path / "a" / "torchvision.yaml"
    changed.parent.mkdir()
    changed.write_text(re.sub(r"cpu_hours: [0-9.]+", "cpu_hours: 99",
                              re.sub(r"^cross_blocked: .*$", 'cross_blocked: "another reason"', text, flags=re.M)))
    assert load_recipe_file(changed, PYTHON).estimate.cpu_hours == 99
    assert load_recipe_file(changed, PYTHON).cross_blocked == "another reason"
    assert load_recipe_file(changed, PYTHON).digest == load_recipe_file(REPO / "recipes" / "torchvision.yaml",
                                                                        PYTHON).digest
    changed.write_text(text.replace('BUILD_VERSION: "0.21.0"', 'BUILD_VERSION: "0.21.1"'))
    assert load_recipe_file(changed, PYTHON).digest != load_recipe_file(REPO / "recipes" / "torchvision.yaml",
                                                                        PYTHON).digest


def test_dry_run_plan_shows_time_disk_total_and_history(tmp_path: Path) -> None:
    house = tmp_path / "wh"
    house.mkdir()
    # numpy was built here before (its wheel since removed): its measured time is used
    (house / "manifest.json").write_text(json.dumps({"format": 1, "wheels": {"numpy": {
        "name": "numpy", "version": load_recipe_file(REPO / "recipes" / "numpy.yaml", PYTHON).version,
        "machine": "x86_64", "filename": "numpy-0-cp311-cp311-linux_x86_64.whl", "sha256": "0" * 64,
        "build_seconds": 700.0, "peak_work_dir_bytes": 400_000_000}}}))
    out = invoke("build-wheels", "--dry-run", "--profile", "debian-x86_64", "--jobs", "2",
                 "--wheelhouse", str(house), env={"RVFORGE_HOME": str(tmp_path / "home")}, check=True).stdout
    torch = torch_recipe()
    seconds = torch.estimate.cpu_hours * 3600 / 2
    expected = f"(~{format_duration(seconds)}, {torch.estimate.disk_gb:.1f} GB disk, recipe estimate)"
    assert re.search(r"^\s+\d+\. torch 2\.6\.0 .*" + re.escape(expected) + "$", out, re.M), out
    assert re.search(r"^\s+\d+\. numpy \S+ .*\(~11m40s, 400 MB disk, measured here\)$", out, re.M), out
    assert re.search(r"^  expected here: about \d+h\d\dm\d\ds in total", out, re.M), out
    too_small = estimates.free_bytes(tmp_path) < torch.estimate.disk_gb * 1e9
    assert ("warning: the largest build needs" in out) == too_small


def test_plan_warns_when_the_cache_disk_is_too_small(tmp_path: Path) -> None:
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "huge.yaml").write_text(
        "schema: 1\nname: huge\nversion: '1.0'\nsource: {kind: local, path: .}\n"
        "estimate: {cpu_hours: 2, disk_gb: 1000000}\ntest: {script: 'pass'}\n")
    home = tmp_path / "home"
    out = invoke("build-wheels", "--dry-run", "--recipes", str(recipes), "--profile", "debian-x86_64",
                 "--jobs", "4", "--wheelhouse", str(tmp_path / "wh"), env={"RVFORGE_HOME": str(home)},
                 check=True).stdout
    assert "(~30m00s, 1000000.0 GB disk, recipe estimate)" in out, out
    assert re.search(rf"warning: the largest build needs about 1000000\.0 GB in {re.escape(str(home))}, "
                     r"but only [0-9.]+ [GM]B is free: free space or set RVFORGE_HOME", out), out
