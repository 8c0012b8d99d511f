"""Doctor's BLAS lines: the OpenBLAS the build links and the one a deployed eraser loads, measured
with the real probe in a child process (real libraries, real signals)."""

from __future__ import annotations

import json
import stat
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from rvforge.host import checks, profiles
from rvforge.tasks import bench as bench_task
from rvforge.tasks import doctor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
from fake_openblas import fake_openblas  # noqa: E402

HOST_PROFILE = "debian-x86_64"
CHECK = {c.name: c for c in checks.CHECKS}
NEEDS = {"numpy": ("openblas",), "pillow": ("jpeg",)}


def context(tmp_path: Path, **changes: object) -> checks.CheckContext:
    ctx = doctor.make_context(HOST_PROFILE, None, needs=NEEDS, work_dir=tmp_path)
    return replace(ctx, **{"blas_seconds": 0.3, "eraser_prefix": tmp_path / "no-deploy", **changes})


def with_lib_dir(ctx: checks.CheckContext, directory: Path) -> checks.CheckContext:
    return replace(ctx, profile=replace(ctx.profile, lib_dirs=(str(directory),)))


@pytest.fixture(autouse=True)
def _this_host_only():
    if profiles.select(doctor.facts.detect(None), None).name != HOST_PROFILE:
        pytest.skip(f"the host profile is not {HOST_PROFILE}")


def test_the_linked_openblas_is_measured_with_core_vector_unit_and_speed(tmp_path):
    result = CHECK["blas"].evaluate(context(tmp_path))
    assert result.status == "pass", result.detail
    assert result.detail.startswith("OpenBLAS 0.3.")
    for part in (" core ", "/usr/lib/x86_64-linux-gnu/libopenblas.so", "CPU vector unit ", " GFLOP/s (",
                 "thread(s)", "vector kernel in use"):
        assert part in result.detail


def test_no_openblas_warns_with_the_profiles_install_command(tmp_path):
    ctx = with_lib_dir(context(tmp_path), tmp_path)
    results = checks.evaluate_all(ctx, [CHECK["blas"]])
    assert results[0].status == "warn" and not results[0].blocking
    text = doctor.render_text(doctor.report(ctx, results))
    assert "[warn] blas             no OpenBLAS to measure (see the openblas check)" in text
    assert f"fix: {ctx.profile.install_hint('openblas')}" in text


def test_a_kernel_that_traps_fails_the_check_and_blocks_the_blas_users(tmp_path):
    fake_openblas(tmp_path, "-DTRAP")
    result = CHECK["blas"].evaluate(with_lib_dir(context(tmp_path), tmp_path))
    assert result.status == "fail" and result.blocking and result.needed_by == ("numpy",)
    assert "killed by SIGILL" in result.detail


def test_a_kernel_computing_garbage_fails_the_check(tmp_path):
    fake_openblas(tmp_path)
    result = CHECK["blas"].evaluate(with_lib_dir(context(tmp_path), tmp_path))
    assert result.status == "fail" and "computes wrong results" in result.detail


def test_a_sysroot_for_another_machine_is_not_measured(tmp_path, openeuler_root):
    ctx = replace(doctor.make_context("openeuler-riscv64", openeuler_root, needs=NEEDS, work_dir=tmp_path),
                  blas_seconds=0.3)
    for name in ("blas", "eraser-blas"):
        result = CHECK[name].evaluate(ctx)
        assert result.status == "pass" and result.detail.startswith("not measured: the build is for")


def test_no_deployed_eraser_says_where_it_looked(tmp_path):
    result = CHECK["eraser-blas"].evaluate(context(tmp_path))
    assert result.status == "pass" and f"no eraser deployed under {tmp_path / 'no-deploy'}" in result.detail


def test_a_deployed_release_is_probed_with_its_own_python_after_importing_numpy_and_torch(tmp_path):
    """A release whose venv Python is this interpreter (numpy, torch and the app installed)."""
    python = tmp_path / "prefix" / "current" / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    marker = tmp_path / "ran"
    python.write_text(f'#!/bin/sh\ntouch {marker}\nexec {sys.executable} "$@"\n')
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    result = CHECK["eraser-blas"].evaluate(context(tmp_path, eraser_prefix=tmp_path / "prefix"))
    assert marker.exists()
    assert result.status == "pass", result.detail
    assert "GFLOP/s" in result.detail and " core " in result.detail


def test_a_release_without_the_probe_is_a_warning_not_a_crash(tmp_path):
    """A release venv made from a Python that has no magiceraser: the child fails, doctor says so."""
    bare = "/usr/bin/python3"
    if not Path(bare).exists():
        pytest.skip("no system python3")
    python = tmp_path / "prefix" / "current" / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec {bare} -I "$@"\n')
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    result = CHECK["eraser-blas"].evaluate(context(tmp_path, eraser_prefix=tmp_path / "prefix"))
    assert result.status == "warn"
    assert result.detail.startswith("the BLAS probe failed: ") and "No module named 'magiceraser'" in result.detail
    assert result.fix_command == "invoke deploy"


def test_doctor_json_carries_the_blas_line(tmp_path):
    ctx = context(tmp_path)
    data = doctor.report(ctx, checks.evaluate_all(ctx, [CHECK["blas"]]))
    line = json.loads(json.dumps(data))["checks"][0]
    assert line["name"] == "blas" and "GFLOP/s" in line["detail"]


def test_invoke_bench_passes_the_json_file_on(tmp_path):
    cmd = bench_task.bench_command(None, True, tmp_path / "b.md", json_path=str(tmp_path / "b.json"))
    assert cmd[cmd.index("--json") + 1] == str(tmp_path / "b.json")
