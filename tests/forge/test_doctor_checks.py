"""Each doctor check's pass / fix / warn / fail logic, with real compilers, pkg-config and trees.

Only RAM and free disk are faked (a Host value, a free-space figure): a machine with 1.5 GB or a
nearly full disk cannot be conjured here."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import sysroots

from rvforge.errors import CheckFailed
from rvforge.host import capacity, checks, openblas, pkgconfig, profiles
from rvforge.host.facts import Host
from rvforge.tasks import doctor

GIB = capacity.GIB
OE = "openeuler-riscv64"
NEEDS = {
    "numpy": ("c-compiler", "openblas", "pkg-config", "python-headers", "ninja"),
    "scipy": ("c-compiler", "gfortran", "openblas", "pkg-config", "python-headers", "ninja"),
    "pillow": ("c-compiler", "python-headers", "jpeg", "zlib"),
}
BOARD = Host("openeuler", (), "24.03", "riscv64", cpus=4, mem_bytes=16 * GIB, swap_bytes=8 * GIB)
CHECK = {c.name: c for c in checks.CHECKS}


def context(root: Path | None, profile: str = OE, host: Host = BOARD, **env: str) -> checks.CheckContext:
    ctx = doctor.make_context(profile, root, env={**os.environ, **env}, host=host, needs=NEEDS,
                              work_dir=root or Path.cwd())
    return replace(ctx, python_version="3.11")


def run(name: str, ctx: checks.CheckContext) -> checks.CheckResult:
    return CHECK[name].evaluate(ctx)


# -- python -------------------------------------------------------------------------------------

def test_python_headers_found_in_the_tree(openeuler_root):
    result = run("python", context(openeuler_root))
    assert result.status == "pass" and str(openeuler_root / "usr/include/python3.11") in result.detail


def test_python_headers_missing_names_the_devel_package(openeuler_root):
    shutil.rmtree(openeuler_root / "usr/include/python3.11")
    result = run("python", context(openeuler_root))
    assert (result.status, result.fix_command) == ("fail", "sudo dnf install -y python3-devel")
    assert result.blocking and result.needed_by == ("numpy", "pillow", "scipy")


def test_python_version_other_than_the_profiles_fails(openeuler_root):
    result = run("python", replace(context(openeuler_root), python_version="3.12"))
    assert result.status == "fail" and "builds for Python 3.11" in result.detail
    assert "python3.11" in result.fix_command


def test_python_headers_of_the_running_interpreter_without_sysroot(tmp_path):
    ctx = replace(context(None, "debian-x86_64"), python_include=tmp_path)
    assert run("python", ctx).status == "fail"
    (tmp_path / "Python.h").write_text("")
    assert run("python", ctx).status == "pass"


# -- compilers and tools ------------------------------------------------------------------------

def test_working_compilers_pass(openeuler_root):
    ctx = context(openeuler_root)
    for name in ("c-compiler", "cxx-compiler", "gfortran"):
        result = run(name, ctx)
        assert result.status == "pass", result.detail
        assert "compiles, links and runs" in result.detail


def test_missing_gfortran_names_the_install_command_and_scipy(openeuler_root, path_without):
    result = run("gfortran", context(openeuler_root, PATH=path_without("*gfortran*")))
    assert result.status == "fail" and "gfortran not found on PATH" in result.detail
    assert result.fix_command == "sudo dnf install -y gcc-gfortran"
    assert result.needed_by == ("scipy",) and result.blocking


def test_gfortran_that_cannot_link_fails(openeuler_root, tmp_path):
    """Installed but unable to link (as with a missing libgfortran): only a real link shows it."""
    bin_dir = tmp_path / "badbin"
    bin_dir.mkdir()
    wrapper = bin_dir / "gfortran"
    wrapper.write_text(f'#!/bin/sh\nexec {shutil.which("gfortran")} -nostdlib "$@"\n')
    wrapper.chmod(0o755)
    result = run("gfortran", context(openeuler_root, PATH=f"{bin_dir}:{os.environ['PATH']}"))
    assert result.status == "fail" and "cannot compile and link a Fortran program" in result.detail
    assert result.fix_command == "sudo dnf install -y gcc-gfortran"


def test_compiler_variable_naming_a_missing_program_fails(openeuler_root):
    result = run("c-compiler", context(openeuler_root, CC="no-such-cc"))
    assert result.status == "fail" and "$CC names no-such-cc" in result.detail


def test_missing_tool_uses_the_distro_package_name(openeuler_root, path_without):
    ctx = context(openeuler_root, PATH=path_without("ninja*", "cmake"))
    ninja, cmake = run("ninja", ctx), run("cmake", ctx)
    assert (ninja.status, ninja.fix_command) == ("fail", "sudo dnf install -y ninja-build")
    assert ninja.blocking and ninja.needed_by == ("numpy", "scipy")
    assert cmake.status == "fail" and not cmake.blocking  # no recipe here needs cmake
    deb = run("ninja", context(openeuler_root, "debian-riscv64", PATH=path_without("ninja*")))
    assert deb.fix_command == "sudo apt-get install -y --no-install-recommends ninja-build"


def test_ninja_build_name_counts(openeuler_root, tmp_path):
    bin_dir = tmp_path / "nb"
    bin_dir.mkdir()
    (bin_dir / "ninja-build").symlink_to(shutil.which("ninja"))
    assert run("ninja", context(openeuler_root, PATH=str(bin_dir))).status == "pass"


def test_missing_pkg_config_fails_both_pkg_config_checks(openeuler_root, path_without):
    ctx = context(openeuler_root, PATH=path_without("pkg-config", "pkgconf", "*-pkg-config"))
    assert run("pkg-config", ctx).fix_command == "sudo dnf install -y pkgconf"
    result = run("openblas-pc", ctx)
    assert result.status == "fail" and result.fix_command == "sudo dnf install -y pkgconf"


def test_missing_headers_for_pillow(openeuler_root):
    (openeuler_root / "usr/include/jpeglib.h").unlink()
    result = run("jpeg", context(openeuler_root))
    assert result.fix_command == "sudo dnf install -y libjpeg-turbo-devel"
    assert result.needed_by == ("pillow",) and result.blocking
    assert run("zlib", context(openeuler_root)).status == "pass"


# -- pkg-config search path -----------------------------------------------------------------------

def test_pkg_config_path_warns_with_the_export_line(openeuler_root):
    usr = openeuler_root / "usr"
    result = run("pkg-config-path", context(openeuler_root, PKG_CONFIG_PATH=""))
    assert result.status == "warn" and not result.blocking
    assert result.fix_command == (f"export PKG_CONFIG_PATH={usr}/lib64/pkgconfig:{usr}/share/pkgconfig"
                                  "${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}")
    searched = f"{usr}/lib64/pkgconfig:{usr}/share/pkgconfig/"
    assert run("pkg-config-path", context(openeuler_root, PKG_CONFIG_PATH=searched)).status == "pass"


def test_build_pkg_config_path_order(openeuler_root, rvforge_home):
    profile = profiles.all_profiles()[OE]
    tool = str(pkgconfig.tool_pkgconfig_dir(OE, openeuler_root))
    usr = openeuler_root / "usr"
    env = {"PKG_CONFIG_PATH": f"/opt/x/pkgconfig:{tool}:{usr}/share/pkgconfig"}
    assert pkgconfig.build_pkg_config_path(profile, openeuler_root, env).split(":") == [
        tool, f"{usr}/lib64/pkgconfig", f"{usr}/share/pkgconfig", "/opt/x/pkgconfig"]
    assert tool not in pkgconfig.build_pkg_config_path(profile, openeuler_root, env, with_tool_dir=False)
    built = pkgconfig.build_env(profile, openeuler_root, {**env, "PKG_CONFIG_SYSROOT_DIR": "/x"})
    assert "PKG_CONFIG_SYSROOT_DIR" not in built
    assert built["PKG_CONFIG_LIBDIR"] == f"{usr}/lib64/pkgconfig:{usr}/share/pkgconfig"
    assert pkgconfig.tool_pkgconfig_dir(OE) == rvforge_home / "pkgconfig" / OE
    assert pkgconfig.tool_pkgconfig_dir(OE, openeuler_root) != pkgconfig.tool_pkgconfig_dir(OE)


# -- OpenBLAS -----------------------------------------------------------------------------------

def test_openblas_found_with_version(openeuler_root):
    result = run("openblas", context(openeuler_root))
    assert result.status == "pass"
    assert result.detail.startswith(f"OpenBLAS 0.3.26: {openeuler_root}/usr/lib64/libopenblas.so")


def test_openblas_missing_names_the_devel_package(tmp_path):
    root = sysroots.build_openeuler(tmp_path / "oe", openblas=False)
    result = run("openblas", context(root))
    assert (result.status, result.fix_command) == ("fail", "sudo dnf install -y openblas-devel")
    assert result.needed_by == ("numpy", "scipy") and result.blocking
    assert run("openblas-pc", context(root)).status == "fail"


def test_openblas_config_header_without_version_fails(openeuler_root):
    sysroots.write_openblas_headers(openeuler_root / "usr/include/openblas", None)
    result = run("openblas", context(openeuler_root))
    assert result.status == "fail" and "OPENBLAS_VERSION" in result.detail


def test_read_version_accepts_spacing_variants(tmp_path):
    header = tmp_path / "openblas_config.h"
    header.write_text('#  define OPENBLAS_VERSION "OpenBLAS 0.3.28.dev"\n')
    assert openblas.read_version(header) == "0.3.28.dev"
    header.write_text("#define OPENBLAS_VERSION_MAJOR 0\n")
    assert openblas.read_version(header) is None


def test_missing_pc_is_fixed_by_the_tool(openeuler_root, rvforge_home):
    ctx = context(openeuler_root)
    before = run("openblas-pc", ctx)
    assert before.status == "fix" and not before.blocking
    assert before.fix_command == f"invoke doctor --fix --profile {OE} --sysroot {openeuler_root}"
    results = checks.evaluate_all(ctx, [CHECK["openblas-pc"]], fix=True)
    assert results[0].status == "pass" and "tool-owned" in results[0].detail


def test_wrong_distro_pc_is_shadowed_by_a_correct_one(tmp_path, rvforge_home):
    root = sysroots.build_openeuler(tmp_path / "oe", broken_pc=True)
    ctx = context(root)
    result = run("openblas-pc", ctx)
    assert result.status == "fix"
    assert f"libopenblas.so is not in its library dir(s) {root}/usr/lib;" in result.detail
    pc = openblas.ensure_pc(ctx.profile, root, ctx.env)
    assert pc is not None and f"libdir={root}/usr/lib64" in pc.read_text()
    assert run("openblas-pc", ctx).status == "pass"


def test_stale_version_in_pc_is_rewritten(openeuler_root, rvforge_home):
    ctx = context(openeuler_root)
    pc = openblas.ensure_pc(ctx.profile, openeuler_root, ctx.env)
    pc.write_text(pc.read_text().replace("version=0.3.26", "version=0.3.20"))
    assert "version 0.3.20 but openblas_config.h says 0.3.26" in run("openblas-pc", ctx).detail
    assert openblas.ensure_pc(ctx.profile, openeuler_root, ctx.env) == pc
    assert "version=0.3.26" in pc.read_text()


def test_correct_distro_pc_wins_and_a_stale_tool_copy_goes(debian_riscv64_root, rvforge_home):
    ctx = context(debian_riscv64_root, "debian-riscv64")
    tool_pc = openblas.tool_pc_file(ctx.profile, debian_riscv64_root)
    tool_pc.parent.mkdir(parents=True)
    tool_pc.write_text("Name: openblas\nVersion: 0.1\nLibs: -lopenblas\n")
    assert openblas.ensure_pc(ctx.profile, debian_riscv64_root, ctx.env) is None
    assert not tool_pc.exists()
    result = run("openblas-pc", ctx)
    assert result.status == "pass" and "distro" in result.detail


def test_ensure_pc_from_a_build_env_still_writes(openeuler_root, rvforge_home):
    """Build code passes its own env, whose PKG_CONFIG_PATH already starts with the tool dir."""
    profile = profiles.all_profiles()[OE]
    env = pkgconfig.build_env(profile, openeuler_root, {"PATH": os.environ["PATH"]})
    pc = openblas.ensure_pc(profile, openeuler_root, env)
    assert pc is not None and pc == openblas.ensure_pc(profile, openeuler_root, env)


def test_ensure_pc_without_openblas_raises_with_install_hint(tmp_path, rvforge_home):
    root = sysroots.build_openeuler(tmp_path / "oe", openblas=False)
    with pytest.raises(CheckFailed) as err:
        openblas.ensure_pc(profiles.all_profiles()[OE], root)
    assert err.value.hint == "sudo dnf install -y openblas-devel"
    assert not (rvforge_home / "pkgconfig").exists()


def test_pc_adds_gfortran_for_static_links_when_the_library_needs_it(tmp_path):
    lib_dir = tmp_path / "lib"
    lib = sysroots.compile_fake_openblas(lib_dir, "0.3.26")
    include_dir = tmp_path / "include"
    sysroots.write_openblas_headers(include_dir, "0.3.26")
    found = openblas.Installation(lib, include_dir, "0.3.26")
    assert "extralib=-lm -lpthread\n" in openblas.render_pc(found)
    real = lib_dir / "libopenblas.so.0"
    subprocess.run(["cc", "-shared", "-fPIC", "-x", "c", "-", "-o", str(real), "-Wl,--no-as-needed",
                    "-lgfortran"], input="int f(void) { return 0; }\n", text=True, check=True)
    assert "extralib=-lm -lpthread -lgfortran\n" in openblas.render_pc(found)


# -- disk and memory ------------------------------------------------------------------------------

@pytest.mark.parametrize("free_gb, status", [(3, "fail"), (10, "warn"), (50, "pass")])
def test_disk_thresholds(openeuler_root, monkeypatch, free_gb, status):
    monkeypatch.setattr(capacity, "free_bytes", lambda path: free_gb * GIB)
    result = run("disk", context(openeuler_root))
    assert result.status == status
    assert result.blocking == (status == "fail") and result.needed_by == ("numpy", "pillow", "scipy")


@pytest.mark.parametrize("cpus, ram, swap, jobs", [(4, 16, 8, 4), (4, 8, 0, 4), (4, 6, 0, 3),
                                                   (4, 1.5, 0, 1), (2, 24, 0, 2), (4, 3, 0, 1)])
def test_max_jobs_is_min_of_cores_and_memory(cpus, ram, swap, jobs):
    host = replace(BOARD, cpus=cpus, mem_bytes=int(ram * GIB), swap_bytes=int(swap * GIB))
    assert capacity.max_jobs(host) == jobs
    assert capacity.max_jobs(host, gb_per_job=4.0) == max(1, min(cpus, int((ram + swap) // 4)))


@pytest.mark.parametrize("ram, swap, status, text", [
    (16, 8, "pass", "4 parallel compile job(s)"),
    (8, 0, "warn", "no swap"),
    (6, 0, "warn", "builds run with -j3"),
    (1.5, 0, "fail", "not enough for one torch compile job"),
])
def test_memory_against_torch_jobs(openeuler_root, ram, swap, status, text):
    host = replace(BOARD, mem_bytes=int(ram * GIB), swap_bytes=int(swap * GIB))
    result = run("memory", context(openeuler_root, host=host))
    assert result.status == status and text in result.detail
    assert result.blocking == (status == "fail")
    if status != "pass":
        assert result.fix_command.startswith("sudo fallocate -l ") and "swapon /swapfile" in result.fix_command


# -- whole run, exit code, troubleshooting text ---------------------------------------------------

def test_blocked_recipes_and_exit_code(openeuler_root, rvforge_home, fixture_recipes, path_without,
                                       monkeypatch, capsys):
    monkeypatch.setenv("PATH", path_without("*gfortran*"))
    results = doctor.evaluate_host(OE, openeuler_root)
    assert [r.name for r in results] == [c.name for c in checks.CHECKS]
    assert doctor.blocked_recipes(results) == {"scipy": ["gfortran"]}
    with pytest.raises(CheckFailed) as err:
        doctor.main(OE, str(openeuler_root), fix=True)
    assert err.value.exit_code == 3 and "gfortran" in err.value.message
    assert "cannot build: scipy (gfortran)" in capsys.readouterr().out


def test_troubleshooting_text_uses_the_profiles_commands():
    text = doctor.troubleshooting(profiles.all_profiles()[OE])
    assert text.startswith("## Troubleshooting")
    assert "sudo dnf install -y gcc-gfortran" in text and "invoke doctor --fix" in text
    for check in checks.CHECKS:
        assert f"**{check.name}**" in text
    with_needs = doctor.troubleshooting(profiles.all_profiles()[OE], NEEDS)
    gfortran = next(line for line in with_needs.splitlines() if line.startswith("- **gfortran**"))
    assert gfortran.endswith("`sudo dnf install -y gcc-gfortran`. Needed by: scipy.")


def test_this_hosts_own_openblas_pc_is_judged_correct(rvforge_home):
    """No sysroot: the real Debian openblas.pc passes and nothing is written anywhere."""
    profile = profiles.all_profiles()["debian-x86_64"]
    assert openblas.ensure_pc(profile, None) is None
    assert not (rvforge_home / "pkgconfig").exists()
    result = run("openblas-pc", context(None, "debian-x86_64"))
    assert result.status == "pass" and "distro /usr/lib/x86_64-linux-gnu/pkgconfig/openblas.pc" in result.detail
