"""Deploy/fetch-model fixtures: isolated user dirs, the tiny big-lama.zip, an offline wheelhouse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from deploy_support import REPO, make_big_lama_zip


@pytest.fixture
def homes(tmp_path, monkeypatch) -> dict[str, str]:
    """MAGICERASER_HOME / RVFORGE_HOME in tmp, set for this process and returned for subprocesses."""
    env = {"MAGICERASER_HOME": str(tmp_path / "data"), "RVFORGE_HOME": str(tmp_path / "cache")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture(scope="session")
def tiny_zip(lama_reference, tmp_path_factory) -> Path:
    ref = lama_reference / "tiny-lama"
    return make_big_lama_zip(tmp_path_factory.mktemp("zip") / "big-lama.zip", ref / "config.yaml",
                             ref / "models" / "best.ckpt")


@pytest.fixture(scope="session")
def app_wheelhouse(tmp_path_factory) -> Path:
    """The app's declared runtime dependencies as wheels (torch: the local CPU wheel via the dev pin)."""
    house = tmp_path_factory.mktemp("wheelhouse")
    deps = tomllib.loads((REPO / "app" / "pyproject.toml").read_text())["project"]["dependencies"]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "-d", str(house), "-c",
                    str(REPO / "constraints" / "dev.txt"), *deps],
                   check=True, capture_output=True, text=True)
    assert any(p.name.startswith("torch-") for p in house.glob("*.whl"))
    return house
