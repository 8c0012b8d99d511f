"""Commands run in a root with exactly the environment given, in the directory given, with the
binds given; under chroot every mount lives in the command's private namespace, so nothing stays
mounted on this machine, whether the command succeeds or fails."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from rvforge.cross import chroot

#: Both ways into a root: chroot (needs root rights) and proot (what a user without them gets).
WAYS = [pytest.param(True, id="chroot", marks=pytest.mark.skipif(
            os.geteuid() != 0 or shutil.which("unshare") is None, reason="chroot needs root rights and unshare")),
        pytest.param(False, id="proot", marks=pytest.mark.skipif(
            shutil.which("proot") is None, reason="proot is not installed"))]
TOOLS = ("/bin/sh", "/usr/bin/env", "/bin/cat", "/bin/ls")


def _tiny_root(path: Path) -> Path:
    """This machine's sh, env, cat and ls with the libraries they load."""
    libs = subprocess.run(["ldd", *TOOLS], capture_output=True, text=True, check=True).stdout
    files = {*TOOLS, *(word for word in libs.split() if word.startswith("/") and not word.endswith(":"))}
    for name in files:
        dest = path / name.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.realpath(name), dest)
    for directory in ("proc", "dev", "tmp"):
        (path / directory).mkdir(exist_ok=True)
    return path


def _mounts_under(root: Path) -> list[str]:
    return [line for line in Path("/proc/self/mounts").read_text().splitlines() if str(root) in line]


@pytest.mark.parametrize("as_root", WAYS)
def test_clean_env_cwd_and_binds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_root: bool) -> None:
    monkeypatch.setattr(chroot, "use_chroot", lambda: as_root)
    root = _tiny_root(tmp_path / "root")
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "hello.txt").write_text("from the host\n")
    (root / "work").mkdir()  # the bind target /in exists only inside the root
    os.environ["HOST_ONLY_LEAK_PROBE"] = "1"
    try:
        script = "pwd; env; cat /in/hello.txt; ls /proc/self >/dev/null"
        out = subprocess.run(chroot.argv(root, ["sh", "-c", script], {"ONLY": "this"},
                                         [chroot.Bind(shared, "/in")], cwd="/work"),
                             capture_output=True, text=True, check=True).stdout
    finally:
        del os.environ["HOST_ONLY_LEAK_PROBE"]
    assert out.splitlines()[0] == "/work"
    assert "ONLY=this" in out and "HOST_ONLY_LEAK_PROBE" not in out and "LANG=C.UTF-8" in out
    assert "from the host" in out
    assert _mounts_under(root) == []


@pytest.mark.parametrize("as_root", WAYS)
def test_a_failing_command_leaves_no_mount(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_root: bool) -> None:
    monkeypatch.setattr(chroot, "use_chroot", lambda: as_root)
    root = _tiny_root(tmp_path / "root")
    proc = subprocess.run(chroot.argv(root, ["sh", "-c", "exit 7"], binds=[chroot.Bind(tmp_path, "/in")]))
    assert proc.returncode == 7
    assert _mounts_under(root) == []
