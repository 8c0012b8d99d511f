"""The BLAS self-test against real libraries: the distro's OpenBLAS and numpy's ILP64 copy pass;
wrappers built here around the distro's library that are wrong in one element, short by one
element, die by SIGILL or hang are refused with a reason naming the routine and its sizes, and the
caller lives on."""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
from fake_openblas import fake_openblas, wrapped_openblas

from magiceraser.blas import library, selftest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def system_openblas() -> str:
    """The file the dynamic linker loads for ``-lopenblas``, as a path."""
    name = library.system_default()
    if name is None:
        pytest.skip("no OpenBLAS on the dynamic linker's path")
    return library.open_library(name).path


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "magiceraser.blas", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_the_distro_openblas_passes_quickly(system_openblas):
    result = selftest.run(system_openblas)
    assert result.passed, result.reason
    assert result.cases == len(selftest.CASES) and result.corename == library.open_library(system_openblas).corename
    assert 0 < result.worst < 1 and result.worst_case
    assert result.seconds < 5  # about 0.1-0.3 s on a 2-core VM; a regression to seconds would hurt under qemu
    assert result.seconds < result.wall_seconds


def test_numpys_prefixed_ilp64_copy_passes():
    """``scipy_sgemm_64_`` and friends with 64-bit integers, found through the library's own naming."""
    found = sorted((Path(numpy.__file__).parent.parent / "numpy.libs").glob("libscipy_openblas*.so"))
    if not found:
        pytest.skip("this numpy carries no OpenBLAS of its own")
    assert library.open_library(found[0]).int_type is ctypes.c_int64
    result = selftest.run(found[0])
    assert result.passed, result.reason


def test_the_cli_prints_one_line_and_json_with_the_exit_code(system_openblas):
    text = cli("--self-test", system_openblas)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("BLAS self-test passed: 38 cases") and text.stdout.count("\n") == 1
    report = json.loads(cli("--self-test", system_openblas, "--json").stdout)
    assert report["passed"] is True and report["library"] == system_openblas and report["worst"] < 1


def test_a_wrapper_that_passes_everything_on_passes(tmp_path, system_openblas):
    """The control for the wrong wrappers below: the wrapping itself does not fail the test."""
    result = selftest.run(wrapped_openblas(tmp_path, system_openblas))
    assert result.passed, result.reason
    assert result.corename == "WRAPPED"


def test_one_wrong_element_fails_naming_routine_size_and_element(tmp_path, system_openblas):
    lib = wrapped_openblas(tmp_path, system_openblas, "-DCORRUPT_SGEMM")
    result = selftest.run(lib)
    assert not result.passed
    assert result.reason.startswith("sgemm_ transa=T transb=N m=17 n=3 k=130 alpha=0.5 beta=0: C[16,2] = ")
    assert "reference" in result.reason and "> bound" in result.reason
    assert result.cases == 3 and result.corename == "WRAPPED"
    proc = cli("--self-test", str(lib))
    assert proc.returncode == 1 and proc.stdout.startswith("BLAS self-test failed: sgemm_ transa=T")


def test_a_dot_one_element_short_fails(tmp_path, system_openblas):
    result = selftest.run(wrapped_openblas(tmp_path, system_openblas, "-DSHORT_DDOT"))
    assert not result.passed
    assert result.reason.startswith("cblas_ddot n=33 incx=-3 incy=2: result = ")


def test_sigill_in_sgemm_is_a_failed_result_and_the_caller_lives(tmp_path, system_openblas):
    lib = wrapped_openblas(tmp_path, system_openblas, "-DTRAP_SGEMM")
    result = selftest.run(lib)
    assert not result.passed
    assert result.reason == "killed by SIGILL in sgemm_ transa=N transb=N m=1 n=1 k=1 alpha=1 beta=0"
    assert result.corename == "WRAPPED" and result.cases == 1
    proc = cli("--self-test", str(lib))
    assert proc.returncode == 1 and "killed by SIGILL in sgemm_" in proc.stdout


def test_a_hanging_sgemm_fails_by_timeout(tmp_path, system_openblas):
    result = selftest.run(wrapped_openblas(tmp_path, system_openblas, "-DHANG_SGEMM"), timeout=5)
    assert not result.passed
    assert result.reason == "no result within 5 s in sgemm_ transa=N transb=N m=1 n=1 k=1 alpha=1 beta=0 (the " \
                            "child was killed)"
    assert 5 <= result.wall_seconds < 30


@pytest.mark.parametrize(("content", "message"), [
    (None, "{path} does not exist; give the path of a libopenblas*.so file"),
    (b"not an ELF file", "cannot load {path}: "),
])
def test_a_missing_or_broken_file_is_one_clear_line(tmp_path, content, message):
    path = tmp_path / "libopenblas.so"
    if content is not None:
        path.write_bytes(content)
    proc = cli("--self-test", str(path))
    assert proc.returncode == 1 and proc.stderr == ""
    assert proc.stdout.startswith("BLAS self-test failed: " + message.format(path=path))
    assert proc.stdout.count("\n") == 1


def test_a_routine_the_library_lacks_is_named(tmp_path):
    """The older fake exports cblas_sgemm only (and computes garbage with it)."""
    result = selftest.run(fake_openblas(tmp_path))
    assert not result.passed
    assert result.reason.startswith("sgemm_ transa=N transb=N m=1 n=1 k=1 alpha=1 beta=0: missing from the library (")
    assert "undefined symbol: sgemm_" in result.reason


def test_a_library_that_is_not_openblas_is_named(tmp_path):
    libm = next((p for p in ("/lib/x86_64-linux-gnu/libm.so.6", "/lib/riscv64-linux-gnu/libm.so.6")
                 if Path(p).exists()), None)
    if libm is None:
        pytest.skip("no libm at a known path")
    result = selftest.run(libm)
    assert not result.passed and result.reason == f"{libm} is not an OpenBLAS (no openblas_get_corename)"


def test_runs_on_a_bare_python_with_only_its_own_files(tmp_path, system_openblas):
    """The laptop's system Python without site-packages: the child finds the package where the parent did."""
    shutil.copytree(REPO / "app" / "magiceraser" / "blas", tmp_path / "magiceraser" / "blas",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "magiceraser" / "__init__.py").write_text("")
    python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    proc = subprocess.run([python, "-I", "-S", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                           "from magiceraser.blas.__main__ import main; sys.exit(main(sys.argv[2:]))",
                           str(tmp_path), "--self-test", system_openblas], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("BLAS self-test passed: ")
