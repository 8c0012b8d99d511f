"""Fixtures for the forge tests: fake distro trees, a private tool cache, PATHs lacking a tool,
and a small recipe set whose ``system`` lists say which recipe needs what."""

from __future__ import annotations

import fnmatch
import importlib.util
import os
from pathlib import Path
from typing import Callable

import pytest
import sysroots


def _root_helpers() -> dict[str, object]:
    """The plain helpers of tests/conftest.py (REPO, invoke, ...), loaded by path: inside
    tests/forge the module name ``conftest`` means this file. Its fixtures are left out (pytest
    already provides them from the parent directory)."""
    spec = importlib.util.spec_from_file_location("tests_root_conftest",
                                                  Path(__file__).resolve().parent.parent / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: value for name, value in vars(module).items()
            if not name.startswith("_") and not type(value).__name__.startswith("Fixture")
            and not hasattr(value, "_pytestfixturefunction")}


# ``from conftest import REPO, invoke`` keeps working in tests/forge.
globals().update({k: v for k, v in _root_helpers().items() if k not in globals()})

#: A recipe set shaped like the real one: scipy alone needs gfortran.
RECIPE_SYSTEMS = {
    "numpy": ["c-compiler", "cxx-compiler", "openblas", "pkg-config", "python-headers", "ninja"],
    "scipy": ["c-compiler", "cxx-compiler", "gfortran", "openblas", "pkg-config", "python-headers",
              "ninja"],
    "pillow": ["c-compiler", "python-headers", "jpeg", "zlib"],
}


@pytest.fixture
def rvforge_home(tmp_path: Path, monkeypatch) -> Path:
    """The tool cache (and so the tool-owned pkgconfig dir) in a temp dir."""
    home = tmp_path / "rvforge-home"
    monkeypatch.setenv("RVFORGE_HOME", str(home))
    return home


@pytest.fixture
def openeuler_root(tmp_path: Path) -> Path:
    return sysroots.build_openeuler(tmp_path / "openeuler")


@pytest.fixture
def debian_riscv64_root(tmp_path: Path) -> Path:
    return sysroots.build_debian_riscv64(tmp_path / "debian-riscv64")


@pytest.fixture
def fixture_recipes(tmp_path: Path, monkeypatch) -> Path:
    """Minimal valid recipes (``RVFORGE_RECIPES`` points the tool at them)."""
    directory = tmp_path / "recipes"
    directory.mkdir()
    for name, system in RECIPE_SYSTEMS.items():
        (directory / f"{name}.yaml").write_text(
            f"schema: 1\nname: {name}\nversion: '1.0'\nsource: {{kind: local, path: .}}\n"
            f"system: [{', '.join(system)}]\ntest: {{script: 'import {name}'}}\n")
    monkeypatch.setenv("RVFORGE_RECIPES", str(directory))
    return directory


@pytest.fixture
def path_without(tmp_path: Path) -> Callable[..., str]:
    """``path_without("*gfortran*")`` -> a PATH holding every program of the current PATH except
    those matching the patterns (symlinks in one temp dir)."""
    def make(*patterns: str) -> str:
        bin_dir = tmp_path / f"bin-without-{len(list(tmp_path.glob('bin-without-*')))}"
        bin_dir.mkdir()
        for entry in os.environ.get("PATH", "").split(os.pathsep):
            if not os.path.isdir(entry):
                continue
            for name in os.listdir(entry):
                link = bin_dir / name
                if any(fnmatch.fnmatch(name, p) for p in patterns) or os.path.lexists(link):
                    continue
                target = Path(entry) / name
                if os.access(target, os.X_OK) and not target.is_dir():
                    link.symlink_to(target)
        return str(bin_dir)
    return make
