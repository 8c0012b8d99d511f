"""End to end: Pillow cross-built on this x86_64 machine for debian-riscv64 and its recipe test
run as riscv64 code (the target's python under qemu-user) before the wheel is published.

Uses the tool's cached cross root, creating it when missing (a few minutes, root rights and the
Debian mirror needed); skipped with the reason when it cannot be created here."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, invoke

from rvforge.cross import chroot, elfcheck
from rvforge.cross import root as cross_root
from rvforge.cross.target import SYSROOT_INSIDE, cross_target
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


def _openeuler_layout(tree: Path, donor: Path) -> Path:
    """A target tree laid out as openEuler's (/usr/lib64, glibc headers straight in /usr/include,
    Python 3.11), made of the riscv64 C library files of the Debian root ``donor``."""
    multiarch = donor / "usr/lib/riscv64-linux-gnu"
    (tree / "usr/lib64").mkdir(parents=True)
    (tree / "usr/lib").mkdir()
    for part in ("usr/include", "usr/include/riscv64-linux-gnu"):  # glibc's headers, merged into one dir
        shutil.copytree(donor / part, tree / "usr/include", ignore_dangling_symlinks=True, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("*-linux-gnu"))
    for name in ("crt1.o", "crti.o", "crtn.o", "libc.so.6", "libc_nonshared.a", "libm.so.6"):
        shutil.copy2(multiarch / name, tree / "usr/lib64" / name)
    shutil.copy2(multiarch / "ld-linux-riscv64-lp64d.so.1", tree / "usr/lib")
    (tree / "usr/lib64/libm.so").symlink_to("libm.so.6")
    (tree / "lib").symlink_to("usr/lib")  # merged /usr: the psABI's /lib/ld-linux-riscv64-lp64d.so.1
    (tree / "usr/lib64/libc.so").write_text(  # openEuler's linker script names lib64 paths
        "GROUP ( /usr/lib64/libc.so.6 /usr/lib64/libc_nonshared.a AS_NEEDED ( /lib/ld-linux-riscv64-lp64d.so.1 ) )\n")
    for name in ("usr/include/python3.11/Python.h", "usr/lib64/python3.11/_sysconfigdata__linux_riscv64-linux-gnu.py",
                 "usr/bin/python3.11"):
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text("")
    return tree


def test_the_openeuler_toolchain_links_against_a_lib64_tree(ready_root: Path, tmp_path: Path) -> None:
    """Debian bookworm's riscv64 gcc 12 (openEuler 24.03's major) with the target's flags takes the
    C library from an openEuler-layout --sysroot, never its own cross libc, and the program runs."""
    tree = _openeuler_layout(tmp_path / "rvbook", ready_root)
    target = cross_target("openeuler-riscv64", str(tree))
    try:
        root = cross_root.ensure(target)
    except ForgeError as exc:
        pytest.skip(f"the bookworm cross root cannot be created here: {exc.message}")
    (tmp_path / "probe.c").write_text('#include <math.h>\n#include <stdio.h>\n'
                                      'int main(void) { printf("lib64 %.0f\\n", sqrt(16.0)); return 0; }\n')
    binds = [*cross_root.sysroot_binds(target), chroot.Bind(tmp_path, "/probe")]

    def gcc(*args: str) -> str:
        proc = subprocess.run(chroot.argv(root, [target.gcc, *target.compile_flags, *args], binds=binds),
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    for name in ("crti.o", "libc.so"):
        assert gcc(f"-print-file-name={name}") == f"{SYSROOT_INSIDE}/usr/lib64/{name}"
    gcc("-o", "/probe/probe", "/probe/probe.c", "-lm")
    elfcheck.require_machine(tmp_path / "probe", "riscv64")
    run = subprocess.run(["qemu-riscv64-static", "-L", str(tree), "-E", "LD_LIBRARY_PATH=/usr/lib64",
                          str(tmp_path / "probe")], capture_output=True, text=True)
    assert run.stdout == "lib64 4\n", run.stderr
