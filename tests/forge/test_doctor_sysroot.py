"""``invoke doctor`` end to end against fake distro trees, with the real pkg-config and compilers."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import get_args

from conftest import invoke

from rvforge.host import checks, pkgconfig, profiles

OPENEULER = "openeuler-riscv64"


def real_pkg_config(pc_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """The system pkg-config seeing only ``pc_dir`` (the host's own .pc files shut out)."""
    env = {**os.environ, "PKG_CONFIG_PATH": str(pc_dir), "PKG_CONFIG_LIBDIR": str(pc_dir.parent / "empty")}
    env.pop("PKG_CONFIG_SYSROOT_DIR", None)
    return subprocess.run(["pkg-config", *args, "openblas"], env=env, capture_output=True, text=True)


def test_fix_writes_an_openblas_pc_that_real_pkg_config_accepts(openeuler_root, rvforge_home, fixture_recipes):
    before = sorted(p.relative_to(openeuler_root) for p in openeuler_root.rglob("*"))
    proc = invoke("doctor", "--profile", OPENEULER, "--sysroot", str(openeuler_root), "--fix", "--json")
    data = json.loads(proc.stdout)
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["openblas-pc"]["status"] == "pass", checks["openblas-pc"]
    assert "tool-owned" in checks["openblas-pc"]["detail"]

    tool_dir = pkgconfig.tool_pkgconfig_dir(OPENEULER, openeuler_root)
    assert tool_dir.is_relative_to(rvforge_home)
    assert data["pkg_config_path"].split(":")[0] == str(tool_dir)
    flags = real_pkg_config(tool_dir, "--cflags", "--libs")
    assert flags.returncode == 0, flags.stderr
    usr = openeuler_root / "usr"
    assert flags.stdout.split() == [f"-I{usr}/include/openblas", f"-L{usr}/lib64", "-lopenblas"]
    assert real_pkg_config(tool_dir, "--modversion").stdout.strip() == "0.3.26"
    text = (tool_dir / "openblas.pc").read_text()
    for line in (f"prefix={usr}", f"libdir={usr}/lib64", f"includedir={usr}/include/openblas",
                 "version=0.3.26", "Libs: -L${libdir} -lopenblas", "Cflags: -I${includedir}"):
        assert line in text.splitlines()
    # The tree itself was only read.
    assert sorted(p.relative_to(openeuler_root) for p in openeuler_root.rglob("*")) == before


def test_missing_gfortran_fails_with_the_dnf_command_and_the_recipes_needing_it(
        openeuler_root, rvforge_home, fixture_recipes, path_without):
    path = path_without("*gfortran*")
    proc = invoke("doctor", "--sysroot", str(openeuler_root), "--fix",
                  env={"PATH": path, "RVFORGE_MACHINE": "riscv64"})
    assert proc.returncode == 3, proc.stdout + proc.stderr
    out = proc.stdout
    assert "profile openeuler-riscv64" in out  # detected from the tree's os-release
    gfortran = out[out.index("] gfortran"):].splitlines()
    assert "gfortran not found" in gfortran[0] or "no Fortran compiler" in gfortran[0]
    assert gfortran[1].split("fix: ")[1] == "sudo dnf install -y gcc-gfortran"
    assert gfortran[2].split("blocks: ")[1] == "scipy"
    assert "cannot build: scipy (gfortran)" in out
    assert "blocking check(s) failed: gfortran" in proc.stderr


def test_json_is_machine_readable_and_exit_code_follows_blocking(openeuler_root, rvforge_home,
                                                                 fixture_recipes, path_without):
    proc = invoke("doctor", "--profile", OPENEULER, "--sysroot", str(openeuler_root), "--json",
                  env={"PATH": path_without("cmake", "ninja*")})
    assert proc.returncode == 3
    data = json.loads(proc.stdout)
    assert set(data) == {"profile", "sysroot", "machine", "ok", "max_jobs", "pkg_config_path",
                         "blocked_recipes", "checks"}
    assert data["ok"] is False and data["sysroot"] == str(openeuler_root)
    assert data["blocked_recipes"] == {"numpy": ["ninja"], "scipy": ["ninja"]}
    for check in data["checks"]:
        assert set(check) == {"name", "status", "detail", "fix_command", "blocking", "requirement",
                              "needed_by"}
        assert check["status"] in get_args(checks.Status)
    by_name = {c["name"]: c for c in data["checks"]}
    assert by_name["openblas-pc"]["status"] == "fix"  # no --fix: only reported
    assert by_name["openblas-pc"]["fix_command"] == (
        f"invoke doctor --fix --profile {OPENEULER} --sysroot {openeuler_root}")
    assert by_name["cmake"]["status"] == "fail" and by_name["cmake"]["blocking"] is False  # no recipe needs it
    assert by_name["ninja"]["fix_command"] == "sudo dnf install -y ninja-build"
    assert not pkgconfig.tool_pkgconfig_dir(OPENEULER, openeuler_root).exists()


def test_debian_tree_with_correct_pc_passes_without_writing(debian_riscv64_root, rvforge_home,
                                                             fixture_recipes, monkeypatch):
    monkeypatch.setenv("RVFORGE_MACHINE", "riscv64")
    proc = invoke("doctor", "--sysroot", str(debian_riscv64_root), "--fix", "--json")
    data = json.loads(proc.stdout)
    assert data["profile"] == "debian-riscv64"
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["openblas"]["status"] == "pass" and "0.3.28" in checks["openblas"]["detail"]
    assert "openblas-pthread" in checks["openblas"]["detail"]
    assert checks["openblas-pc"]["status"] == "pass" and "distro" in checks["openblas-pc"]["detail"]
    assert not pkgconfig.tool_pkgconfig_dir("debian-riscv64", debian_riscv64_root).exists()
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_bad_sysroot_is_a_clear_error(tmp_path):
    proc = invoke("doctor", "--profile", OPENEULER, "--sysroot", str(tmp_path / "nope"))
    assert proc.returncode == 2
    assert "is not a directory" in proc.stderr and "Traceback" not in proc.stderr


def test_profile_pkgconfig_dirs_follow_the_layout():
    oe = profiles.all_profiles()[OPENEULER]
    assert oe.pkgconfig_dirs == ("/usr/lib64/pkgconfig", "/usr/share/pkgconfig")
