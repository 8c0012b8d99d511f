"""ci/riscv64 scripts: cache key and path, argument handling, clear errors (no userland needed)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


def script(repo_root: Path, name: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(repo_root / "ci" / "riscv64" / name), *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=60)


@pytest.fixture
def home(tmp_path) -> dict:
    return {"RVFORGE_HOME": str(tmp_path / "home")}


def key(repo_root: Path, env: dict) -> str:
    proc = script(repo_root, "create-rootfs.sh", "--print-key", env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_cache_path_is_under_the_tool_cache_and_keyed(repo_root, home):
    path = script(repo_root, "create-rootfs.sh", "--print-path", env=home).stdout.strip()
    assert path == f"{home['RVFORGE_HOME']}/riscv64/{key(repo_root, home)}"
    assert key(repo_root, home).startswith("debian-forky-")


def test_key_changes_with_suite_and_package_list(repo_root, home, tmp_path):
    base = key(repo_root, home)
    assert key(repo_root, home) == base
    assert key(repo_root, {**home, "RVFORGE_RISCV64_SUITE": "sid"}).startswith("debian-sid-")
    packages = tmp_path / "packages.txt"
    original = (repo_root / "ci" / "riscv64" / "packages.txt").read_text()
    packages.write_text("# only a comment changed\n" + original)
    assert key(repo_root, {**home, "RVFORGE_RISCV64_PACKAGES": str(packages)}) == base
    packages.write_text(original + "meson\n")
    assert key(repo_root, {**home, "RVFORGE_RISCV64_PACKAGES": str(packages)}) != base


def test_opensysusers_is_installed_before_torch(repo_root):
    batches = [line.split() for line in (repo_root / "ci" / "riscv64" / "packages.txt").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    first = next(i for i, batch in enumerate(batches) if "opensysusers" in batch)
    torch = next(i for i, batch in enumerate(batches) if "python3-torch" in batch)
    assert first < torch


def test_packages_cover_what_the_guests_recipes_need(repo_root):
    """Every system requirement of a recipe that builds for the guest's Python (3.14) is installed
    in the userland, as the debian-riscv64 profile names it (torch's, e.g. protobuf, are not:
    torch 2.6 supports Python < 3.14, so the guest takes Debian's own torch)."""
    import yaml

    from rvforge.build.recipes import load_all

    profile = yaml.safe_load((repo_root / "configs" / "profiles" / "debian-riscv64.yaml").read_text())
    listed = set((repo_root / "ci" / "riscv64" / "packages.txt").read_text().split())
    needed = {req for recipe in load_all(python="3.14").values() if recipe.supports("3.14") for req in recipe.system}
    assert needed and "protobuf" not in needed
    assert {pkg for req in needed for pkg in profile["packages"][req].split()} <= listed


def test_existing_userland_is_reused_without_any_tool(repo_root, home, tmp_path):
    rootfs = tmp_path / "ready"
    rootfs.mkdir()
    proc = script(repo_root, "create-rootfs.sh", "--rootfs", str(rootfs), env={**home, "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0 and f"ready: {rootfs}" in proc.stdout


@pytest.mark.parametrize("name", ["create-rootfs.sh", "run.sh", "check.sh"])
def test_unknown_option_is_named(repo_root, home, name):
    proc = script(repo_root, name, "--bogus", env=home)
    assert proc.returncode == 2
    assert "'--bogus'" in proc.stderr and "usage:" in proc.stderr


def test_missing_option_value_shows_usage(repo_root, home):
    proc = script(repo_root, "create-rootfs.sh", "--rootfs", env=home)
    assert proc.returncode == 2 and "usage:" in proc.stderr


def test_run_without_userland_names_the_fix(repo_root, home, tmp_path):
    proc = script(repo_root, "run.sh", "--rootfs", str(tmp_path / "absent"), "true", env=home)
    assert proc.returncode == 1
    assert "no riscv64 userland" in proc.stderr and "create-rootfs.sh" in proc.stderr


def test_run_without_command_shows_usage(repo_root, home):
    proc = script(repo_root, "run.sh", env=home)
    assert proc.returncode == 2 and "no command given" in proc.stderr
