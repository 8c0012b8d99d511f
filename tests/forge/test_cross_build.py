"""End to end: Pillow cross-built on this x86_64 machine for debian-riscv64 and its recipe test
run as riscv64 code (the target's python under qemu-user) before the wheel is published.

Uses the tool's cached cross root, creating it when missing (a few minutes, root rights and the
Debian mirror needed); skipped with the reason when it cannot be created here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import REPO, invoke

from rvforge.cross import elfcheck
from rvforge.cross import root as cross_root
from rvforge.cross.target import cross_target
from rvforge.errors import ForgeError
from rvforge.paths import cache_dir

pytestmark = pytest.mark.slow
TARGET = cross_target("debian-riscv64")
WHEEL = "pillow-11.3.0-cp314-cp314-linux_riscv64.whl"


@pytest.fixture(scope="module")
def ready_root() -> Path:
    try:
        return cross_root.ensure(TARGET)
    except ForgeError as exc:
        pytest.skip(f"the cross root cannot be created here: {exc.message}")


def _mounted_under(root: Path) -> list[str]:
    return [line for line in Path("/proc/self/mounts").read_text().splitlines() if str(root) in line]


def test_pillow_cross_built_and_tested_as_riscv64(ready_root: Path, tmp_path: Path) -> None:
    house = tmp_path / "house"
    proc = invoke("build-wheels", "--cross-target", "debian-riscv64", "--only", "pillow", "--force",
                  "--wheelhouse", str(house), timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "test pillow as riscv64 code (qemu-user)" in proc.stdout
    wheel = house / WHEEL
    assert elfcheck.check_wheel(wheel, "riscv64", "3.14") >= 1
    entry = json.loads((house / "manifest.json").read_text())["wheels"]["pillow"]
    assert entry["machine"] == "riscv64" and entry["python"] == "3.14"
    assert entry["cross"]["compiler"].startswith("riscv64-linux-gnu-gcc-16 16.")
    assert entry["cross"]["flags"] == ["-march=rv64gc", "-mabi=lp64d"]
    assert entry["cross"]["sysroot"] == {"suite": "forky", "key": ready_root.name}
    assert not (ready_root / "work" / "pillow").exists()
    assert _mounted_under(ready_root) == []


def test_a_failing_riscv64_test_publishes_nothing(ready_root: Path, tmp_path: Path) -> None:
    """The smoke test really runs as riscv64 code: a test that demands x86_64 fails it."""
    recipes = tmp_path / "recipes"
    shutil.copytree(REPO / "recipes", recipes)
    pillow = recipes / "pillow.yaml"
    pillow.write_text(pillow.read_text().replace(
        "    import io\n", "    import io, platform\n    assert platform.machine() == 'x86_64', platform.machine()\n"))
    house = tmp_path / "house"
    proc = invoke("build-wheels", "--cross-target", "debian-riscv64", "--only", "pillow", "--recipes",
                  str(recipes), "--wheelhouse", str(house), timeout=1800)
    assert proc.returncode == 5, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "smoke test as riscv64 code failed" in proc.stderr
    assert not list(house.glob("*.whl"))
    assert "the next run resumes in" in proc.stderr
    assert (ready_root / "work" / "pillow" / ".rvforge-stamps" / "tree.json").is_file()  # kept for a rerun
    again = invoke("build-wheels", "--cross-target", "debian-riscv64", "--only", "pillow", "--recipes",
                   str(recipes), "--wheelhouse", str(house), timeout=1800)
    assert again.returncode == 5 and "pillow: resuming in" in again.stdout, again.stdout[-3000:]
    log = cache_dir() / "logs" / "pillow-11.3.0-debian-riscv64.log"
    assert "AssertionError: riscv64" in log.read_text()
