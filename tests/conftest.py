"""Shared fixtures: repo paths, the LaMa reference data, invoking tasks as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rvforge.common import free_port

REPO = Path(__file__).resolve().parent.parent


LAMA_REFERENCE = REPO / "tests" / "data" / "lama"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def lama_reference() -> Path:
    """tests/data/lama: tiny checkpoint, golden outputs, big-lama key manifest (see its README)."""
    return LAMA_REFERENCE


@pytest.fixture(name="free_port")
def free_port_fixture() -> int:
    return free_port()


def invoke(*args: str, cwd: Path = REPO, env: dict | None = None, timeout: float = 600,
           check: bool = False) -> subprocess.CompletedProcess:
    """Run ``invoke ARGS`` from the checkout the way a user does; output captured as text."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"invoke {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def small_disk(tmp_path: Path, request: pytest.FixtureRequest):
    """A tmpfs of the size a test names with ``@pytest.mark.disk_size("2m")``: a real full disk
    without touching the machine's own (mounting needs root; the test skips without it)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    marker = request.node.get_closest_marker("disk_size")
    size = marker.args[0] if marker else "2m"
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)
