"""Real from-source builds through `invoke build-wheels`: numpy against OpenBLAS and Pillow, the
no-op rerun, a tampered wheel, byte-for-byte reproducibility, and a build killed half-way.

One numpy + Pillow build is shared by the whole module (it takes minutes on two cores)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import REPO, invoke

from rvforge.common import sha256_file

pytestmark = pytest.mark.slow
PROFILE = ("--profile", "debian-x86_64")


def build(house: Path, home: Path, *args: str, env: dict | None = None):
    return invoke("build-wheels", "--wheelhouse", str(house), *PROFILE, *args,
                  env={"RVFORGE_HOME": str(home), **(env or {})}, timeout=3600)


def manifest(house: Path) -> dict:
    return json.loads((house / "manifest.json").read_text())["wheels"]


@pytest.fixture(scope="module")
def forge(tmp_path_factory):
    root = tmp_path_factory.mktemp("forge")
    home, house = root / "home", root / "wheelhouse"
    proc = build(house, home, "--only", "numpy", "--only", "pillow")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return SimpleNamespace(root=root, home=home, house=house, output=proc.stdout)


def test_plan_is_printed_before_building(forge):
    out = forge.output
    assert out.index("plan:") < out.index("==> fetch numpy") < out.index("==> fetch pillow")


def test_manifest_records_tested_wheels(forge):
    wheels = manifest(forge.house)
    assert set(wheels) == {"numpy", "pillow"}
    for entry in wheels.values():
        wheel = forge.house / entry["filename"]
        assert sha256_file(wheel) == entry["sha256"]
        assert entry["profile"] == "debian-x86_64" and entry["python"] == "3.11"
        assert entry["toolchain"]["gcc"] and entry["build_seconds"] > 0
        assert len(entry["recipe_digest"]) == 64 and len(entry["source_sha256"]) == 64
    assert wheels["numpy"]["filename"].startswith("numpy-2.2.6-cp311-cp311-linux_x86_64")


def test_numpy_links_openblas(forge, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    wheel = forge.house / manifest(forge.house)["numpy"]["filename"]
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-index",
                    "--no-deps", str(wheel)], check=True, env={**os.environ, "PIP_CONFIG_FILE": os.devnull})
    out = subprocess.run([str(venv / "bin" / "python"), "-c", "import numpy; numpy.show_config()"],
                         cwd=tmp_path, check=True, capture_output=True, text=True).stdout
    assert "openblas" in out.lower(), out


def test_second_run_does_nothing_quickly(forge):
    start = time.monotonic()
    proc = build(forge.house, forge.home, "--only", "numpy", "--only", "pillow")
    elapsed = time.monotonic() - start
    assert proc.returncode == 0 and "nothing to do" in proc.stdout, proc.stdout + proc.stderr
    assert "0 to do, 2 cached" in proc.stdout
    assert elapsed < 3.0, elapsed


def test_pillow_is_byte_reproducible(forge, tmp_path):
    """A second Pillow build in another cache dir (so another build path), ccache off, into a
    fresh wheelhouse, gives the same bytes."""
    proc = build(tmp_path / "wh", tmp_path / "home", "--only", "pillow", env={"RVFORGE_CCACHE": "0"})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    first, second = manifest(forge.house)["pillow"], manifest(tmp_path / "wh")["pillow"]
    assert first["filename"] == second["filename"]
    assert first["sha256"] == second["sha256"]


def test_tampered_wheel_is_rebuilt_with_warning(forge, tmp_path):
    house = tmp_path / "wh"
    shutil.copytree(forge.house, house)
    pillow = house / manifest(house)["pillow"]["filename"]
    original = manifest(house)["pillow"]["sha256"]
    pillow.write_bytes(pillow.read_bytes()[:-10])
    proc = build(house, forge.home, "--only", "pillow")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "no longer matches its sha256" in proc.stderr
    assert "wheel on disk no longer matches the manifest" in proc.stdout
    assert sha256_file(pillow) == original == manifest(house)["pillow"]["sha256"]


def test_killed_build_leaves_wheelhouse_intact(forge, tmp_path):
    house = tmp_path / "wh"
    cmd = [sys.executable, "-m", "invoke", "build-wheels", "--wheelhouse", str(house), *PROFILE,
           "--only", "markupsafe", "--only", "pillow"]
    env = {**os.environ, "RVFORGE_HOME": str(forge.home)}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("==> compile pillow"):
            time.sleep(1)  # inside the compile step even with a warm ccache
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert any(line.startswith("==> compile pillow") for line in seen), "".join(seen)
    wheels = manifest(house)
    assert set(wheels) == {"markupsafe"}
    assert sorted(p.name for p in house.iterdir()) == sorted([wheels["markupsafe"]["filename"],
                                                              "manifest.json"])
    assert sha256_file(house / wheels["markupsafe"]["filename"]) == wheels["markupsafe"]["sha256"]
    rerun = build(house, forge.home, "--only", "markupsafe", "--only", "pillow")
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]
    assert "1 to do, 1 cached" in rerun.stdout
    assert set(manifest(house)) == {"markupsafe", "pillow"}


def test_runtime_dependencies_enter_the_wheelhouse(forge, tmp_path):
    """Flask, waitress and their dependencies: published wheels kept byte-for-byte (sha256 = the
    recipe's pin), MarkupSafe built here; each one import-tested before it is recorded."""
    names = ["flask", "werkzeug", "jinja2", "markupsafe", "itsdangerous", "click", "blinker",
             "waitress"]
    proc = build(tmp_path / "wh", forge.home, *(arg for n in names for arg in ("--only", n)))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    wheels = manifest(tmp_path / "wh")
    assert set(wheels) == set(names)
    from rvforge.build.recipes import load_all
    recipes = load_all()
    for name in names:
        if recipes[name].source.kind == "wheel":
            assert wheels[name]["sha256"] == recipes[name].source.sha256
            assert wheels[name]["filename"].endswith("-py3-none-any.whl")
    assert wheels["markupsafe"]["filename"].startswith("markupsafe-3.0.2-cp311-")
