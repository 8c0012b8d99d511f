"""Prove an openblas wheel's riscv64 flavours as riscv64 code, each on the emulated CPU it is for.

    ci/riscv64/run.sh --bind WHEELHOUSE:/wheels -- python3 /checkout/ci/riscv64/blas_flavours.py /wheels

Run inside the emulated userland (Debian's torch is there). A venv sees Debian's torch; into it go
the wheelhouse's openblas and Pillow wheels and, when it has one, a numpy built against the
openblas wheel (otherwise Debian's numpy, whose ``libblas.so.3`` the preloaded flavour
overrides). Then, per case (flavour, QEMU CPU):

1. ``python -m magiceraser.blas --self-test`` on the flavour's library;
2. which library torch's ``sgemm_`` is bound to (``LD_DEBUG=bindings``): the flavour, not the
   distro's BLAS;
3. numpy's linalg tests (``--tests``: a ``-k`` expression; empty runs them all), and scipy's
   ``linalg`` solver tests when the wheelhouse has a scipy (built against the openblas wheel);
4. ``magiceraser erase`` with the reference checkpoint: the golden result (and its wall time);
5. sgemm GFLOP/s and the core OpenBLAS reports (``python -m magiceraser.blas``), and the time of
   one big-lama generator pass (random weights, ``--pass-size``, 1 thread, the engine's
   oneDNN-free path): information, not checks; under emulation only the ratio between flavours
   means anything.

qemu-user reads ``QEMU_CPU`` from the environment of each program it starts, so a case's CPU is
set per command. Prints one line per check and a summary; exits 1 when a check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

CHECKOUT = Path("/checkout")
REFERENCE = CHECKOUT / "tests" / "data" / "lama"
GOLDEN_COMPARE = CHECKOUT / "ci" / "riscv64" / "golden_compare.py"
WORK = Path("/var/lib/rvforge-blas")
VENV = WORK / "venv"
PYTHON = VENV / "bin" / "python"
#: (flavour, QEMU CPU): each vector flavour on a unit it is for, plus the fallback on plain RV64GC.
CASES = (("generic", "rv64"), ("rvv128", "rv64,v=true,vext_spec=v1.0,vlen=128"),
         ("rvv128", "rv64,v=true,vext_spec=v1.0,vlen=256"), ("rvv256", "rv64,v=true,vext_spec=v1.0,vlen=256"))
TEST_REQUIREMENTS = ("pytest==8.4.2",)
SCIPY_TESTS = "TestSolve"
CHECK_WHEELHOUSE = Path("/var/lib/rvforge-check/wheelhouse")
BINDING_PROBE = "import torch; a = torch.ones(64, 64); print(float((a @ a)[0, 0]))"
GENERATOR_PASS = """
import time, torch
from magiceraser.lama.ffc import FFCResNetGenerator
from magiceraser.lama.runner import tiling_for
from magiceraser.lama.weights.config import BIG_LAMA
torch.manual_seed(0)
torch.set_num_threads(1)
model = FFCResNetGenerator(BIG_LAMA, tiling_for(False)).eval()
x = torch.rand(1, 4, {size}, {size})
with torch.inference_mode():
    start = time.perf_counter()
    out = model(x)
print(f"{{time.perf_counter() - start:.1f}} s, output sum {{float(out.double().sum()):.6f}}")
"""


def _wheel(house: Path, prefix: str) -> Path | None:
    found = sorted(house.glob(f"{prefix}-*linux_riscv64.whl"))
    return found[-1] if found else None


def prepare(house: Path) -> tuple[Path, bool]:
    """The venv with the wheels; the site-packages dir and whether numpy is the wheelhouse's."""
    openblas, pillow, numpy, scipy = (_wheel(house, name) for name in ("openblas", "pillow", "numpy", "scipy"))
    if openblas is None or pillow is None:
        raise SystemExit(f"error: no {'openblas' if openblas is None else 'pillow'} linux_riscv64 wheel in "
                         f"{house}; fix: invoke build-wheels --cross-target debian-riscv64 --only openblas "
                         "--only pillow --wheelhouse DIR")
    if not PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(VENV)], check=True)
    wheels = [str(w) for w in (openblas, pillow, numpy, scipy) if w]
    subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", *wheels], check=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", *TEST_REQUIREMENTS], check=True)
    # The app's web side (the CLI imports it): from the riscv64 check's wheelhouse, else the index.
    service = [str(PYTHON), "-m", "pip", "install", "-q", "flask", "waitress"]
    if subprocess.run([*service, "--no-index", "--find-links", str(CHECK_WHEELHOUSE)]).returncode:
        subprocess.run(service, check=True)
    site = Path(subprocess.run([str(PYTHON), "-c", "import rvforge_openblas as o; print(o.HERE.parent)"],
                               capture_output=True, text=True, check=True).stdout.strip())
    print(f"openblas wheel {openblas.name}; numpy {numpy.name if numpy else 'Debian (libblas.so.3)'}; "
          f"scipy {scipy.name if scipy else 'none'}")
    return site, numpy is not None


def _run(argv: list[str], flavour: str, cpu: str, cwd: Path = WORK) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QEMU_CPU": cpu, "RVFORGE_OPENBLAS_FLAVOUR": flavour,
           "PYTHONPATH": str(CHECKOUT / "app"), "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(argv, env=env, capture_output=True, text=True, cwd=cwd)


def _tail(proc: subprocess.CompletedProcess[str]) -> str:
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    return lines[-1] if lines else f"exit {proc.returncode}"


def check_case(flavour: str, cpu: str, site: Path, tests: str, pass_size: int) -> list[tuple[str, bool, str]]:
    library = next((site / "rvforge_openblas" / flavour / "lib").glob("libopenblas*.so.0"))
    results = []
    proc = _run([str(PYTHON), "-m", "magiceraser.blas", "--self-test", str(library)], flavour, cpu)
    results.append(("self-test", proc.returncode == 0, _tail(proc)))
    proc = _run(["env", "LD_DEBUG=bindings", str(PYTHON), "-c", BINDING_PROBE], flavour, cpu)
    bound = [line for line in proc.stderr.splitlines()
             if "binding file" in line and "libtorch_cpu" in line.split(" to ")[0] and line.endswith("`sgemm_'")]
    ours = proc.returncode == 0 and bool(bound) and f"/rvforge_openblas/{flavour}/lib/" in bound[0]
    results.append(("torch's sgemm_ bound to the flavour", ours,
                    bound[0].split(" to ")[1].split(" [")[0] if bound else _tail(proc)))
    selection = ["-k", tests] if tests else []
    proc = _run([str(PYTHON), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--pyargs",
                 "numpy.linalg.tests.test_linalg", *selection], flavour, cpu)
    results.append(("numpy linalg tests", proc.returncode == 0, _tail(proc)))
    if (site / "scipy").is_dir():
        proc = _run([str(PYTHON), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--pyargs",
                     "scipy.linalg.tests.test_basic", "-k", SCIPY_TESTS], flavour, cpu)
        results.append(("scipy linalg tests", proc.returncode == 0, _tail(proc)))
    out = WORK / f"erased-{flavour}-{cpu.replace(',', '_').replace('=', '')}.png"
    start = time.monotonic()
    proc = _run([str(PYTHON), "-m", "magiceraser", "erase", str(REFERENCE / "image.png"), "--mask",
                 str(REFERENCE / "mask.png"), "-o", str(out), "--model", str(REFERENCE / "tiny-lama")], flavour, cpu)
    took = time.monotonic() - start
    if proc.returncode == 0:
        proc = _run([str(PYTHON), str(GOLDEN_COMPARE), str(out), str(REFERENCE)], flavour, cpu)
    results.append(("eraser golden result", proc.returncode == 0, f"{_tail(proc)} (erase {took:.1f} s)"))
    proc = _run([str(PYTHON), "-m", "magiceraser.blas", "--library", str(library), "--seconds", "3", "--json"],
                flavour, cpu)
    try:
        report = json.loads(proc.stdout)
        speed = f"{report['sgemm']['gflops']} GFLOP/s sgemm n={report['sgemm']['n']}, core {report['corename']}"
    except (ValueError, KeyError, TypeError):
        speed = _tail(proc)
    print(f"     {flavour:8} {cpu:24} {speed}", flush=True)
    if pass_size:
        proc = _run([str(PYTHON), "-c", GENERATOR_PASS.format(size=pass_size)], flavour, cpu)
        print(f"     {flavour:8} {cpu:24} big-lama pass {pass_size}x{pass_size}: {_tail(proc)}", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="blas_flavours.py", description=__doc__.splitlines()[0])
    parser.add_argument("wheelhouse", type=Path)
    parser.add_argument("--tests", default="TestSolve or TestInv or TestCholesky or TestLstsq",
                        help="pytest -k expression over numpy's test_linalg.py ('' runs all of it)")
    parser.add_argument("--pass-size", type=int, default=128,
                        help="side of the big-lama generator pass timed per case (0: none)")
    parser.add_argument("--case", action="append", metavar="FLAVOUR@CPU",
                        help="only this case, e.g. rvv128@rv64,v=true,vlen=128 (repeatable)")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    site, _ = prepare(args.wheelhouse)
    cases = [tuple(c.split("@", 1)) for c in args.case] if args.case else list(CASES)
    failed = 0
    for flavour, cpu in cases:
        start = time.monotonic()
        for name, ok, detail in check_case(flavour, cpu, site, args.tests, args.pass_size):
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {flavour:8} {cpu:24} {name}: {detail}", flush=True)
        print(f"     {flavour:8} {cpu:24} ({time.monotonic() - start:.0f} s)", flush=True)
    print(f"{failed} check(s) failed" if failed else "all checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
