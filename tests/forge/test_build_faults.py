"""build-wheels against a manifest edited by hand and a full disk: the wheelhouse never holds a
corrupt manifest or a partial wheel, and the message names the problem. Real runs of the task
(blinker: a published wheel, fetched, import-tested and recorded in a few seconds)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import invoke

from rvforge.common import sha256_file

PROFILE = ("--profile", "debian-x86_64")


def build(house: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return invoke("build-wheels", "--wheelhouse", str(house), *PROFILE, "--only", "blinker",
                  env={"RVFORGE_HOME": str(home)}, timeout=600)


def assert_intact(house: Path) -> None:
    """A valid manifest, every wheel it names present with its sha256, nothing else but set-aside manifests."""
    wheels = json.loads((house / "manifest.json").read_text())["wheels"]
    for entry in wheels.values():
        assert sha256_file(house / entry["filename"]) == entry["sha256"]
    others = {p.name for p in house.iterdir()} - {e["filename"] for e in wheels.values()} - {"manifest.json"}
    assert all(name.startswith("manifest.json.damaged-") for name in others), others


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("built")
    house, home = root / "wheelhouse", root / "home"
    proc = build(house, home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return house, home


@pytest.mark.parametrize("edit", [
    '{"format": 1, "wheels": {"blinker": {',  # cut off while editing
    '{"format": 1, "wheels": {"blinker": "blinker-1.9.0-py3-none-any.whl"}}',  # the wrong shape
    '{"format": 1, "wheels": {"blinker": {"filename": "../outside.whl", "sha256": "0"}}}',  # a path out
])
def test_a_manifest_edited_into_nonsense_is_set_aside_and_rebuilt(built, tmp_path, edit):
    house = tmp_path / "wheelhouse"
    subprocess.run(["cp", "-a", str(built[0]), str(house)], check=True)
    (tmp_path / "outside.whl").write_bytes(b"not the wheelhouse's")
    (house / "manifest.json").write_text(edit)
    proc = build(house, built[1])
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    assert "manifest.json could not be read" in proc.stderr and "kept as manifest.json.damaged-" in proc.stderr
    assert_intact(house)
    assert (tmp_path / "outside.whl").read_bytes() == b"not the wheelhouse's"
    damaged = next(house.glob("manifest.json.damaged-*"))
    assert damaged.read_text() == edit  # the hand edit is kept, never deleted



def fill(disk: Path, leave: int) -> Path:
    stat = os.statvfs(disk)
    filler = disk / "filler"
    filler.write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - leave))
    return filler


@pytest.mark.disk_size("1m")
def test_a_full_wheelhouse_disk_leaves_no_partial_wheel(built, small_disk):
    house = small_disk / "wheelhouse"
    house.mkdir()
    filler = fill(small_disk, 4096)  # no room for the 10 kB wheel
    proc = build(house, built[1])
    assert proc.returncode == 5 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    assert "No space left on device" in proc.stderr and "free space on the disk holding" in proc.stderr
    assert list(house.iterdir()) == []  # no manifest, no partial wheel
    filler.unlink()
    proc = build(house, built[1])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert_intact(house)


@pytest.mark.disk_size("1m")
def test_a_full_cache_disk_stops_with_the_fix_and_the_wheelhouse_untouched(built, tmp_path, small_disk):
    house = tmp_path / "wheelhouse"
    subprocess.run(["cp", "-a", str(built[0]), str(house)], check=True)
    (house / "manifest.json").write_text(json.dumps({"format": 1, "wheels": {}}))  # blinker must be fetched
    before = {p.name: sha256_file(p) for p in house.iterdir()}
    fill(small_disk, 4096)
    proc = build(house, small_disk / "home")
    assert proc.returncode == 4 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    assert "No space left on device" in proc.stderr and "no network" not in proc.stderr, proc.stderr
    assert f"fix: free space on the disk holding {small_disk / 'home'}" in proc.stderr
    assert {p.name: sha256_file(p) for p in house.iterdir()} == before
