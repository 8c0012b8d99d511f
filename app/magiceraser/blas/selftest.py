"""Is an OpenBLAS right on this CPU? sgemm, dgemm, sdot and ddot against an exact reference.

A vector kernel built for the wrong extension need not crash: RVV 0.7.1 (the TH1520's XTheadVector)
and RVV 1.0 share encodings with different meanings, so such a library can return garbage instead.
A vector build is therefore used only after this self-test has passed on the machine itself; one
that fails, dies (SIGILL, SIGSEGV) or hangs is not used: never wrong, only slower. The library runs
in a child process (``python -m magiceraser.blas --self-test LIB --in-process``), so its death is a
result for the caller, not the caller's death.

Cases: ``sgemm_``/``dgemm_`` (the Fortran entry torch calls) and ``cblas_sgemm``/``cblas_dgemm``
row-major (numpy's), m, n, k mixed from 1, 3, 17, 33, 67, 130, 400 (remainders of every kernel's
unrolling, k past the blocking), both transposes, alpha and beta not 0 or 1 (and beta 0 on a C full
of NaN, which BLAS must not read), leading dimensions 3 larger than the matrix (that padding must
come back unchanged, and A and B untouched); ``cblas_sdot``/``cblas_ddot`` of odd lengths with
strides -3..3. Values are seeded ``random.Random`` draws in [-1, 1), stored in the routine's type.

Tolerance, per element, with S = sum_l |op(A)_il op(B)_lj| (for a dot: sum_i |x_i y_i|, alpha 1,
beta 0) and eps = 2^-23 for float32, 2^-52 for float64::

    |c - ref| <= (k + 3) * eps * (|alpha| * S + |beta * c0|)

Why: whatever its summation order, blocking over k or use of FMA, a dot product of length k in
floating point is off by at most gamma_k * S, gamma_k = k u / (1 - k u), u = eps / 2 (Higham,
Accuracy and Stability of Numerical Algorithms, section 3.1); scaling by alpha, the beta * c0 term
and the final addition are three more roundings, so gamma_(k+3) (|alpha| S + |beta c0|) bounds any
correct kernel. The bound used is twice that (eps = 2u; k u < 1e-4 here), and the spare half also
covers the reference's own error: it is computed in Python floats with ``math.fsum``, exact for
float32 products, at most 2 eps (|alpha| S + |beta c0|) off for float64, which is less than the
spare half for every k >= 1. A wrong kernel errs by a whole product or more: one term is about
S / k, ~500x the float32 bound at k = 130.
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from array import array
from dataclasses import asdict, dataclass
from operator import mul
from pathlib import Path
from typing import Callable

from .library import NotOpenBLAS, OpenBLAS, open_library

SEED = 15
PAD = 3  # leading dimensions exceed the matrix by this much
TIMEOUT = 120.0  # seconds; the whole run takes ~0.5 s natively on x86, ~5-7 s under qemu-user with proot
EPS = {"s": 2.0 ** -23, "d": 2.0 ** -52}
_TYPECODE = {"s": "f", "d": "d"}
_CTYPE = {"s": ctypes.c_float, "d": ctypes.c_double}
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112  # CBLAS enum values
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the directory holding magiceraser/, for the child


@dataclass(frozen=True)
class Outcome:
    """One case: its worst error as a fraction of its bound, and what was wrong (None: right)."""

    worst: float
    wrong: str | None = None


def _values(rng: random.Random, precision: str, count: int) -> array[float]:
    draw = rng.random
    return array(_TYPECODE[precision], [2.0 * draw() - 1.0 for _ in range(count)])  # [-1, 1)


def _pointer(values: array[float], precision: str) -> ctypes.Array[ctypes.c_float] | ctypes.Array[ctypes.c_double]:
    return (_CTYPE[precision] * len(values)).from_buffer(values)


def _strided(values: list[float], start: int, step: int, count: int) -> list[float]:
    return values[start:start + step * (count - 1) + 1:step]


def _judge(where: str, got: float, products: list[float], alpha: float, c0: float, k: int,
           eps: float) -> Outcome:
    """One element against its reference and bound; ``c0`` is beta * C's old value (0 when beta is 0)."""
    reference = alpha * math.fsum(products) + c0
    bound = (k + 3) * eps * (abs(alpha) * sum(map(abs, products)) + abs(c0))
    error = abs(got - reference)
    if not error <= bound:  # NaN included
        return Outcome(math.inf, f"{where} = {got:.9g}, reference {reference:.9g} (error {error:.3g} > bound "
                                 f"{bound:.3g})")
    return Outcome(error / bound if bound else 0.0)


@dataclass(frozen=True)
class Gemm:
    """C = alpha op(A) op(B) + beta C, column-major through the Fortran entry or row-major via CBLAS."""

    m: int
    n: int
    k: int
    transa: str
    transb: str
    alpha: float
    beta: float
    row_major: bool = False

    def name(self, precision: str) -> str:
        routine = f"cblas_{precision}gemm RowMajor" if self.row_major else f"{precision}gemm_"
        return (f"{routine} transa={self.transa} transb={self.transb} m={self.m} n={self.n} k={self.k} "
                f"alpha={self.alpha:g} beta={self.beta:g}")

    def run(self, blas: OpenBLAS, precision: str, rng: random.Random) -> Outcome:
        """One call; every element of C checked, its padding and the inputs compared with copies."""
        m, n, k, row_major = self.m, self.n, self.k, self.row_major
        shape_a = (m, k) if self.transa == "N" else (k, m)
        shape_b = (k, n) if self.transb == "N" else (n, k)
        outer = 0 if row_major else 1  # the dimension that is not padded: rows of a row-major matrix
        lda, ldb, ldc = (shape[1 - outer] + PAD for shape in (shape_a, shape_b, (m, n)))
        a = _values(rng, precision, lda * shape_a[outer])
        b = _values(rng, precision, ldb * shape_b[outer])
        c = _values(rng, precision, ldc * (m, n)[outer])
        inner = (m, n)[1 - outer]  # elements of C's leading dimension that belong to the matrix
        lines = range(0, len(c), ldc)  # where each column (row, when row-major) of C starts
        if self.beta == 0.0:  # BLAS must not read C then: a NaN it reads shows in the result
            for line in lines:
                c[line:line + inner] = array(c.typecode, [math.nan] * inner)
        inputs, before = (array(a.typecode, a), array(b.typecode, b)), c.tolist()
        scalar, size = _CTYPE[precision], blas.int_type
        if row_major:
            blas.symbol(f"cblas_{precision}gemm")(
                ctypes.c_int(_ROW_MAJOR), ctypes.c_int(_NO_TRANS if self.transa == "N" else _TRANS),
                ctypes.c_int(_NO_TRANS if self.transb == "N" else _TRANS), size(m), size(n), size(k),
                scalar(self.alpha), _pointer(a, precision), size(lda), _pointer(b, precision), size(ldb),
                scalar(self.beta), _pointer(c, precision), size(ldc))
        else:
            blas.symbol(f"{precision}gemm_")(
                ctypes.c_char_p(self.transa.encode()), ctypes.c_char_p(self.transb.encode()),
                ctypes.byref(size(m)), ctypes.byref(size(n)), ctypes.byref(size(k)), ctypes.byref(scalar(self.alpha)),
                _pointer(a, precision), ctypes.byref(size(lda)), _pointer(b, precision), ctypes.byref(size(ldb)),
                ctypes.byref(scalar(self.beta)), _pointer(c, precision), ctypes.byref(size(ldc)))
        if (a, b) != inputs:
            return Outcome(math.inf, "changed its input A or B")
        after = c.tolist()
        for line in lines:
            if before[line + inner:line + ldc] != after[line + inner:line + ldc]:
                return Outcome(math.inf, f"wrote into C's leading-dimension padding (after element {line + inner}, "
                                         f"ldc={ldc})")
        # element (r, c) of a stored matrix sits at r * step[0] + c * step[1]
        step_a, step_b, step_c = ((ld, 1) if row_major else (1, ld) for ld in (lda, ldb, ldc))
        a_values, b_values = a.tolist(), b.tolist()
        rows = [_strided(a_values, i * step_a[0], step_a[1], k) if self.transa == "N"
                else _strided(a_values, i * step_a[1], step_a[0], k) for i in range(m)]  # rows of op(A)
        cols = [_strided(b_values, j * step_b[1], step_b[0], k) if self.transb == "N"
                else _strided(b_values, j * step_b[0], step_b[1], k) for j in range(n)]  # columns of op(B)
        worst, eps = 0.0, EPS[precision]
        for i, row in enumerate(rows):
            for j, col in enumerate(cols):
                index = i * step_c[0] + j * step_c[1]
                c0 = self.beta * before[index] if self.beta else 0.0
                outcome = _judge(f"C[{i},{j}]", after[index], list(map(mul, row, col)), self.alpha, c0, k, eps)
                if outcome.wrong is not None:
                    return outcome
                worst = max(worst, outcome.worst)
        return Outcome(worst)


@dataclass(frozen=True)
class Dot:
    """x . y with increments (a negative one walks the vector from its end, as BLAS defines)."""

    n: int
    incx: int
    incy: int

    def name(self, precision: str) -> str:
        return f"cblas_{precision}dot n={self.n} incx={self.incx} incy={self.incy}"

    def run(self, blas: OpenBLAS, precision: str, rng: random.Random) -> Outcome:
        x = _values(rng, precision, 1 + (self.n - 1) * abs(self.incx))
        y = _values(rng, precision, 1 + (self.n - 1) * abs(self.incy))
        function = blas.symbol(f"cblas_{precision}dot")
        function.restype = _CTYPE[precision]
        size = blas.int_type
        got = float(function(size(self.n), _pointer(x, precision), size(self.incx), _pointer(y, precision),
                             size(self.incy)))
        # element i of a vector with a negative increment sits at (n - 1 - i) * |inc|: the reversed slice
        products = list(map(mul, x.tolist()[::self.incx], y.tolist()[::self.incy]))
        return _judge("result", got, products, 1.0, 0.0, self.n, EPS[precision])


GEMMS = (
    Gemm(1, 1, 1, "N", "N", 1.0, 0.0),
    Gemm(3, 17, 33, "N", "T", -1.25, 0.5),
    Gemm(17, 3, 130, "T", "N", 0.5, 0.0),
    Gemm(33, 67, 17, "T", "T", 1.0, 1.0),
    Gemm(67, 33, 3, "N", "N", 2.0, -1.25),
    Gemm(130, 17, 67, "N", "T", 1.0, 0.0),
    Gemm(17, 130, 33, "T", "N", -0.5, 2.0),
    Gemm(130, 33, 1, "N", "N", 1.0, 0.5),
    Gemm(5, 3, 400, "T", "N", 1.5, 0.0),
    Gemm(33, 17, 67, "N", "T", 1.0, 0.0, row_major=True),
    Gemm(17, 67, 130, "T", "N", 0.5, -1.0, row_major=True),
)
DOTS = (Dot(1, 1, 1), Dot(3, 2, -1), Dot(17, 1, 1), Dot(33, -3, 2), Dot(67, 1, 3), Dot(130, 2, 2),
        Dot(1001, 1, 1), Dot(1001, -1, -1))
CASES: tuple[tuple[str, Gemm | Dot], ...] = tuple((p, case) for p in "sd" for case in (*GEMMS, *DOTS))


@dataclass(frozen=True)
class SelfTest:
    """The verdict on one library: ``passed`` or why not (``reason``, one line)."""

    passed: bool
    reason: str
    library: str
    corename: str | None = None
    cases: int = 0  # cases run (the last one is the failing one when a case failed)
    worst: float = 0.0  # largest |c - ref| / bound over all elements of the cases that passed
    worst_case: str | None = None
    seconds: float = 0.0  # the cases alone
    wall_seconds: float = 0.0  # the whole child process, start-up and loading included

    @property
    def text(self) -> str:
        core = f"core {self.corename}: " if self.corename else ""
        if not self.passed:
            named = self.library in self.reason  # a file that is missing or no OpenBLAS
            return f"BLAS self-test failed: {self.reason}" + ("" if named else f" ({core}{self.library})")
        return (f"BLAS self-test passed: {self.reason}, worst error {self.worst:.2g} of its bound, "
                f"{self.seconds:.2f} s ({self.wall_seconds:.2f} s with start-up) ({core}{self.library})")


def check(blas: OpenBLAS, started: Callable[[str], None] = lambda name: None) -> SelfTest:
    """All cases in this process (a crash of the library ends it); ``started`` hears each case's name first."""
    rng = random.Random(SEED)
    start = time.perf_counter()
    worst, worst_case = 0.0, None
    for count, (precision, case) in enumerate(CASES, 1):
        name = case.name(precision)
        started(name)
        try:
            outcome = case.run(blas, precision, rng)
        except AttributeError as exc:  # a symbol the build left out (NO_CBLAS, for one)
            outcome = Outcome(math.inf, f"missing from the library ({exc})")
        if outcome.wrong is not None:
            return SelfTest(False, f"{name}: {outcome.wrong}", blas.path, blas.corename, count, worst, worst_case,
                            time.perf_counter() - start)
        if outcome.worst >= worst:
            worst, worst_case = outcome.worst, name
    return SelfTest(True, f"{len(CASES)} cases of sgemm, dgemm, sdot and ddot right", blas.path, blas.corename,
                    len(CASES), worst, worst_case, time.perf_counter() - start)


def child_main(path: str) -> int:
    """The child's side: one JSON object a line (``loaded``, then ``case`` before each case, then
    ``result``), each flushed, so the parent knows how far it got when the library kills the child."""

    def say(event: str, **fields: object) -> None:
        print(json.dumps({"event": event, **fields}), flush=True)

    try:
        blas = open_library(path)
    except NotOpenBLAS as exc:
        say("result", **asdict(SelfTest(False, str(exc), path)))
        return 1
    say("loaded", library=blas.path, corename=blas.corename)
    result = check(blas, lambda name: say("case", name=name))
    say("result", **asdict(result))
    return 0 if result.passed else 1


def signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def _events(stdout: str) -> list[dict[str, object]]:
    """The child's JSON lines; anything else the library printed is skipped."""
    found = []
    for line in stdout.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and "event" in event:
            found.append(event)
    return found


def run(path: str | Path, timeout: float = TIMEOUT, extra_env: dict[str, str] | None = None) -> SelfTest:
    """Self-test the OpenBLAS at ``path`` in a child process; a crash, a hang (``timeout`` seconds) or
    a file that is no OpenBLAS is a failed result, never an exception. ``extra_env`` adds variables for
    the child (a flavour's loader variable, so it loads the library as the eraser will)."""
    path = str(path)
    if not Path(path).exists():
        return SelfTest(False, f"{path} does not exist; give the path of a libopenblas*.so file", path)
    env = {**os.environ, **(extra_env or {}),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(_PACKAGE_ROOT), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "magiceraser.blas", "--self-test", path, "--in-process"]
    start = time.perf_counter()
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
        stdout, stderr, returncode = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:  # run() has killed the child
        stdout = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        stderr, returncode = "", None
    wall = time.perf_counter() - start
    events = _events(stdout)
    loaded = next((e for e in events if e["event"] == "loaded"), {})
    last_case = next((str(e["name"]) for e in reversed(events) if e["event"] == "case"), None)
    result = next((e for e in events if e["event"] == "result"), None)
    if result is not None:
        fields = {key: value for key, value in result.items() if key != "event"}
        return SelfTest(**{**fields, "wall_seconds": wall})  # type: ignore[arg-type]
    where = f" in {last_case}" if last_case else " while loading the library" if not loaded else ""
    if returncode is None:
        why = f"no result within {timeout:g} s{where} (the child was killed)"
    elif returncode < 0:
        why = f"killed by {signal_name(returncode)}{where}"
    else:
        last = (stderr.strip().splitlines() or ["no message"])[-1]
        why = f"the self-test process exited with code {returncode} and no result{where}: {last}"
    count = sum(1 for e in events if e["event"] == "case")
    return SelfTest(False, why, str(loaded.get("library", path)), loaded.get("corename"),  # type: ignore[arg-type]
                    count, wall_seconds=wall)
