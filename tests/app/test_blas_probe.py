"""The BLAS probe against the real OpenBLAS builds on this machine (the distro's, numpy's ILP64
copy, and small C libraries built here that crash or compute garbage the way a wrong kernel does),
and its judgement of CPUs that cannot exist here, from recorded /proc/cpuinfo texts."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_openblas import fake_openblas

from magiceraser.blas import cpu, library, probe, verdict
from magiceraser.blas.health import BlasHealth

REPO = Path(__file__).resolve().parents[2]
CPUINFO = REPO / "tests" / "data" / "cpuinfo"
X86 = platform.machine() == "x86_64"


def unit_of(name: str) -> cpu.VectorUnit:
    return cpu.from_cpuinfo((CPUINFO / name).read_text(), "riscv64")


def system_openblas() -> str:
    """The distro OpenBLAS the build links (pkg-config's libdir)."""
    libdir = subprocess.run(["pkg-config", "--variable=libdir", "openblas"], capture_output=True, text=True,
                            check=True).stdout.strip()
    return str(Path(libdir) / "libopenblas.so")


def pkg_config_version() -> str:
    return subprocess.run(["pkg-config", "--modversion", "openblas"], capture_output=True, text=True,
                          check=True).stdout.strip()


# -- the CPU's vector unit -----------------------------------------------------------------------

@pytest.mark.parametrize(("name", "kind", "source"), [
    ("th1520-vendor-kernel.txt", cpu.XTHEADVECTOR, "cpu-vector 0.7.1"),
    ("th1520-mainline-kernel.txt", cpu.XTHEADVECTOR, "isa xtheadvector"),
    ("th1520-kernel-without-xtheadvector.txt", cpu.XTHEADVECTOR, "uarch thead,c910"),
    ("k1-rvv1.txt", cpu.RVV1, "isa v"),
    ("jh7110-scalar.txt", cpu.NONE, "isa rv64imafdc"),
])
def test_riscv_cpuinfo_names_the_vector_unit(name, kind, source):
    unit = unit_of(name)
    assert unit.kind == kind
    assert source in unit.source


def test_the_vendor_kernels_v_letter_is_not_taken_for_rvv_1_0():
    """rv64imafdcvsu has a ``v``, but cpu-vector 0.7.1 says it is the pre-1.0 encoding."""
    letters, _ = cpu.riscv_isa("rv64imafdcvsu")
    assert "v" in letters
    assert unit_of("th1520-vendor-kernel.txt").name == "XTheadVector (RVV 0.7.1)"


def test_zve_subset_alone_counts_as_rvv_1_0():
    unit = cpu.from_cpuinfo("processor\t: 0\nisa\t\t: rv64imafdc_zicsr_zve32f_zve32x\n", "riscv64")
    assert unit.kind == cpu.RVV1 and unit.source.endswith("zve32x")


def test_cpuinfo_without_isa_line_is_unknown_not_scalar():
    assert cpu.from_cpuinfo("processor\t: 0\n", "riscv64").kind == cpu.UNKNOWN


@pytest.mark.skipif(not X86, reason="reads this x86_64 host's own /proc/cpuinfo")
def test_this_hosts_cpuinfo_gives_an_x86_vector_level():
    unit, hwprobe_note = cpu.detect()
    flags = cpu.first_block(Path("/proc/cpuinfo").read_text())["flags"].split()
    expected = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "AVX" if "avx" in flags else "SSE2"
    assert (unit.kind, unit.name) == (cpu.X86, expected)
    assert hwprobe_note == "not a riscv64 kernel"


@pytest.mark.parametrize(("value", "kind"), [(0x20112D, cpu.RVV1), (0x112D, cpu.NONE)])
def test_hwcap_decides_only_where_cpuinfo_has_no_isa_line(value, kind):
    """AT_HWCAP as qemu-riscv64 7.2 reports it with ``-cpu rv64,v=true`` and with plain ``-cpu rv64``
    (its /proc/cpuinfo is the host's, without an isa line)."""
    assert cpu.from_hwcap(value).kind == kind


def test_hwprobe_is_not_asked_off_riscv64():
    assert cpu.hwprobe(machine="x86_64") == "not a riscv64 kernel"


@pytest.mark.parametrize(("values", "kind"), [
    ({cpu.HWPROBE_MVENDORID: 0x5B7, cpu.HWPROBE_IMA_EXT_0: 0, cpu.HWPROBE_VENDOR_EXT_THEAD_0: 1}, cpu.XTHEADVECTOR),
    ({cpu.HWPROBE_MVENDORID: 0x710, cpu.HWPROBE_IMA_EXT_0: cpu.HWPROBE_IMA_V | 1}, cpu.RVV1),
    ({cpu.HWPROBE_MVENDORID: 0x489, cpu.HWPROBE_IMA_EXT_0: 1}, cpu.NONE),
    ({cpu.HWPROBE_MVENDORID: 0x5B7, cpu.HWPROBE_IMA_EXT_0: 1}, None),  # an older kernel hides T-Head's unit
])
def test_hwprobe_answers_are_decoded(values, kind):
    found = cpu.from_hwprobe(values)
    assert (found.kind if found else None) == kind


# -- the verdict for each combination ------------------------------------------------------------

@pytest.mark.parametrize(("cpuinfo", "corename", "kind", "status"), [
    ("th1520-vendor-kernel.txt", "RISCV64_GENERIC", "scalar-on-vector-cpu", "warn"),
    ("th1520-mainline-kernel.txt", "riscv64_generic", "scalar-on-vector-cpu", "warn"),
    ("th1520-mainline-kernel.txt", "C910V", "vector", "ok"),
    ("th1520-mainline-kernel.txt", "riscv64_zvl128b", "wrong", "fail"),
    ("k1-rvv1.txt", "riscv64_generic", "scalar-on-vector-cpu", "warn"),
    ("k1-rvv1.txt", "riscv64_zvl256b", "vector", "ok"),
    ("jh7110-scalar.txt", "RISCV64_GENERIC", "scalar", "ok"),
    ("jh7110-scalar.txt", "riscv64_zvl128b", "wrong", "fail"),
])
def test_riscv_verdicts(cpuinfo, corename, kind, status):
    found = verdict.judge(unit_of(cpuinfo), corename)
    assert (found.kind, found.status) == (kind, status)


def test_scalar_kernel_on_the_th1520_says_how_much_and_how_to_fix():
    text = verdict.judge(unit_of("th1520-vendor-kernel.txt"), "RISCV64_GENERIC").text
    assert text.startswith("scalar kernel on a CPU with a vector unit (XTheadVector, RVV 0.7.1): erasing will be "
                           "~3-5x slower than it could be; fix: ")
    assert "xtheadvector" in text and "C910V" in text


def test_scalar_kernel_on_an_rvv_1_0_cpu_points_at_the_zvl_kernels():
    assert "RISCV64_ZVL128B" in verdict.judge(unit_of("k1-rvv1.txt"), "riscv64_generic").text


@pytest.mark.parametrize(("level", "corename", "kind"), [
    ("AVX-512", "SkylakeX", "vector"), ("AVX-512", "Haswell", "vector"), ("AVX2", "Haswell", "vector"),
    ("AVX2", "Zen", "vector"), ("AVX2", "Prescott", "older-kernel"), ("AVX", "Core2", "vector"),
])
def test_x86_verdicts(level, corename, kind):
    unit = cpu.VectorUnit(cpu.X86, level, "test")
    assert verdict.judge(unit, corename).kind == kind


def test_no_library_and_wrong_results_are_verdicts_too():
    unit = unit_of("k1-rvv1.txt")
    assert verdict.judge(unit, None).kind == "missing"
    assert verdict.judge(unit, "riscv64_zvl128b", correct=False).status == "fail"


# -- real libraries --------------------------------------------------------------------------------

def test_the_distro_openblas_is_probed_for_real():
    report = probe.run(system_openblas(), seconds=0.5)
    assert report["library"] and report["corename"]
    assert report["version"] == pkg_config_version()
    assert report["threads"] >= 1
    measured = report["sgemm"]
    assert 0.2 < measured["gflops"] < 20_000  # a 2-core VM does tens; no CPU does 20 TFLOP/s in sgemm
    assert measured["max_relative_error"] < 1e-5 and measured["calls"] >= 1
    if X86:
        assert report["verdict"]["kind"] == "vector" and report["verdict"]["status"] == "ok"
    assert report["corename"] in probe.lines(report)[0] and "GFLOP/s" in probe.lines(report)[2]


def test_numpys_prefixed_ilp64_copy_is_found_loaded_and_measured():
    """After ``import numpy`` the probe finds numpy's own OpenBLAS in /proc/self/maps (scipy_ prefix, 64_
    suffix, 64-bit integers) and times it."""
    proc = subprocess.run([sys.executable, "-m", "magiceraser.blas", "--import", "numpy", "--json", "--seconds",
                           "0.3"], capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(proc.stdout)
    assert report["source"] == "loaded" and report["library"] in report["loaded"]
    if "scipy_openblas" in report["library"]:
        assert report["corename"] and report["sgemm"]["gflops"] > 0.2
        assert report["sgemm"]["max_relative_error"] < 1e-5


def test_runs_on_a_bare_python_with_only_its_own_files(tmp_path):
    """The laptop's system Python, no site-packages: the probe needs nothing but the standard library."""
    shutil.copytree(REPO / "app" / "magiceraser" / "blas", tmp_path / "magiceraser" / "blas")
    (tmp_path / "magiceraser" / "__init__.py").write_text("")
    python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    proc = subprocess.run([python, "-I", "-S", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                           "from magiceraser.blas.__main__ import main; sys.exit(main(sys.argv[2:]))",
                           str(tmp_path), "--library", system_openblas(), "--seconds", "0.2"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("BLAS library: OpenBLAS ")
    assert "BLAS verdict: " in proc.stdout


def test_a_directory_without_openblas_is_a_clear_verdict(tmp_path):
    report = probe.run(directory=tmp_path, seconds=1)
    assert report["library"] is None and report["sgemm"] is None
    assert report["verdict"]["kind"] == "missing"
    assert report["verdict"]["text"].startswith("no OpenBLAS found")
    assert f"no libopenblas in {tmp_path}" in probe.summary(report)


def test_a_file_that_is_not_openblas_is_named(tmp_path):
    junk = tmp_path / "libopenblas.so"
    junk.write_bytes(b"not an ELF file")
    report = probe.run(junk, seconds=1)
    assert report["verdict"]["kind"] == "missing" and "cannot load" in report["error"]
    libm = "/lib/x86_64-linux-gnu/libm.so.6" if X86 else None
    if libm and Path(libm).exists():
        with pytest.raises(library.NotOpenBLAS, match="not an OpenBLAS"):
            library.open_library(libm)


def test_garbage_results_are_caught_by_the_spot_check(tmp_path):
    report = probe.run(fake_openblas(tmp_path), seconds=0.1)
    assert report["corename"] == "RISCV64_GENERIC" and report["version"] == "0.3.99"
    assert report["sgemm"]["max_relative_error"] > 1e-2
    assert report["verdict"]["kind"] == "wrong" and report["verdict"]["status"] == "fail"


def test_a_trapping_kernel_kills_only_the_probe_child(tmp_path):
    lib = fake_openblas(tmp_path, "-DTRAP")
    proc = subprocess.run([sys.executable, "-m", "magiceraser.blas", "--library", str(lib)], capture_output=True,
                          timeout=60)
    assert proc.returncode < 0  # a signal; rvforge's doctor turns this into a failed check


# -- /api/v1/health --------------------------------------------------------------------------------

def test_health_state_answers_at_once_and_measures_once_in_the_background():
    calls = []

    def counted(*args, **kwargs):
        calls.append(kwargs["seconds"])
        return probe.run(*args, **kwargs)

    state = BlasHealth(seconds=0.3, probe=counted)
    first = state.snapshot()
    assert first["corename"] and first["gflops"] is None and first["measurement"] == "running"
    state.wait(60)
    done = state.snapshot()
    assert done["measurement"] == "done" and done["gflops"] > 0.2 and done["sgemm"]["n"] in (256, 512)
    assert calls == [0, 0.3]  # the cheap read, then exactly one measurement


def test_health_measures_only_between_erases_and_never_looks_beyond_this_process(monkeypatch):
    """The measurement takes the inference queue's turn: while an erase holds it, sgemm waits.
    The service reports the OpenBLAS it loaded, and never asks the dynamic linker (ldconfig in a
    child process, forked from a threaded service)."""
    from magiceraser.jobqueue import InferenceQueue

    def no_ldconfig() -> None:
        raise AssertionError("the service asked ldconfig")

    monkeypatch.setattr(library, "system_default", no_ldconfig)
    queue = InferenceQueue()
    state = BlasHealth(seconds=0.2, gate=queue.housekeeping)
    with queue.turn():
        assert state.snapshot()["measurement"] == "running"
        state.wait(1.0)
        assert state.snapshot()["measurement"] == "running"  # still waiting for the erase to end
    state.wait(60)
    assert state.snapshot()["measurement"] == "done"


def test_a_process_without_openblas_reports_none_loaded(monkeypatch):
    monkeypatch.setattr(library, "loaded", lambda: [])
    monkeypatch.setattr(library, "system_default", lambda: pytest.fail("the service asked ldconfig"))
    state = BlasHealth(seconds=0.2)
    blas = state.snapshot()
    assert blas["library"] is None and blas["measurement"] == "no library"
    assert "no OpenBLAS" in blas["verdict"]


def test_health_over_http_carries_the_blas_object(server):
    blas = server.health()["blas"]
    assert set(blas) >= {"library", "version", "corename", "threads", "vector_extension", "verdict", "gflops",
                         "measurement"}
    assert blas["corename"] and blas["vector_extension"] and blas["verdict"]
    deadline = time.monotonic() + 60
    while blas["measurement"] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
        blas = server.health()["blas"]
    assert blas["measurement"] == "done", blas
    assert blas["gflops"] > 0.2 and blas["threads"] >= 1
    if X86:
        assert blas["verdict_status"] == "ok" and blas["verdict"].startswith("vector kernel in use")
    assert os.path.basename(blas["library"]).startswith(("libopenblas", "libscipy_openblas"))


# -- the benchmark ---------------------------------------------------------------------------------

def test_bench_reports_the_blas_a_worker_loads_with_its_thread_count(monkeypatch):
    from magiceraser import bench

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    report = bench.blas_report(1, seconds=0.3)
    assert report["source"] == "loaded" and report["threads"] == 1 and report["sgemm"]["threads"] == 1
    assert report["lines"][0].startswith("BLAS library: OpenBLAS ") and report["sgemm"]["gflops"] > 0.2
    section = bench.render([], "magiceraser bench --quick", probe.lines(report, short=True))
    library_line = next(line for line in section.splitlines() if line.startswith("- BLAS library: "))
    assert library_line.endswith(": " + Path(report["library"]).name)  # no local folders in the shared file
    assert "- BLAS verdict: " in section and "GFLOP/s" in section


def test_a_mapped_path_from_outside_this_root_is_read_as_the_path_inside_it(tmp_path):
    """proot shows /proc/self/maps with the host's paths of files inside the guest root."""
    real = tmp_path / "usr" / "lib" / "openblas-pthread" / "libblas.so.3"
    real.parent.mkdir(parents=True)
    real.write_bytes(b"")
    outside = "/nonexistent-root/guest" + str(real)
    maps = tmp_path / "maps"
    maps.write_text(f"7f00-7f01 r-xp 00000000 08:01 42 {outside}\n")
    assert library.loaded(maps) == [str(real)]
    assert library.visible("/nonexistent-root/nowhere/libopenblas.so") == "/nonexistent-root/nowhere/libopenblas.so"
