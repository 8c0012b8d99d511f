"""A short sgemm micro-benchmark through ``cblas_sgemm``, checked against a reference.

Square single-precision products (GFLOP/s = 2 n^3 / t) repeated until the time budget is spent,
after one untimed warm-up call. The size grows from 256 to 512 when one product is fast enough
for several repeats, so a vector kernel is measured on a product big enough to use it. A few
entries of the result are recomputed in double precision: a kernel that computes garbage (an RVV
1.0 kernel on an RVV 0.7.1 core, for one) reports ``wrong`` instead of a fast number.
"""

from __future__ import annotations

import ctypes
import time
from array import array
from dataclasses import dataclass
from typing import Callable

from .library import OpenBLAS

ROW_MAJOR, NO_TRANS = 101, 111  # CBLAS enum values
SIZES = (256, 512)
RELATIVE_TOLERANCE = 1e-4  # float32 accumulation of n <= 512 products of values in [-1, 1]
_PATTERN = [((i * 7919) % 2003) / 1001.5 - 1.0 for i in range(2003)]  # fixed values in [-1, 1)


@dataclass(frozen=True)
class Measurement:
    n: int
    calls: int
    seconds: float
    threads: int | None
    max_relative_error: float

    @property
    def gflops(self) -> float:
        return 2.0 * self.n ** 3 * self.calls / self.seconds / 1e9

    @property
    def correct(self) -> bool:
        return self.max_relative_error <= RELATIVE_TOLERANCE


def _matrix(n: int, offset: int) -> array[float]:
    count = n * n
    repeats = -(-(count + offset) // len(_PATTERN))
    return array("f", (_PATTERN * repeats)[offset:offset + count])


def _checked_error(a: array[float], b: array[float], c: array[float], n: int) -> float:
    """Largest relative error of a few entries of C = A B against a double-precision sum."""
    worst = 0.0
    for i, j in ((0, 0), (n - 1, n - 1), (n // 2, n // 3), (n // 7, n - 2)):
        exact = sum(float(a[i * n + k]) * float(b[k * n + j]) for k in range(n))
        scale = sum(abs(float(a[i * n + k]) * float(b[k * n + j])) for k in range(n)) or 1.0
        worst = max(worst, abs(c[i * n + j] - exact) / scale)
    return worst


@dataclass(frozen=True)
class _Product:
    """C = A B for one size, ready to call again and again."""

    n: int
    a: array[float]
    b: array[float]
    c: array[float]
    call: Callable[[], None]


def _product(blas: OpenBLAS, n: int) -> _Product:
    a, b, c = _matrix(n, 0), _matrix(n, 17), array("f", bytes(4 * n * n))
    function = blas.symbol("cblas_sgemm")
    function.restype = None
    size = blas.int_type(n)
    pointer = ctypes.POINTER(ctypes.c_float)

    def addr(buffer: array[float]) -> object:
        return ctypes.cast(buffer.buffer_info()[0], pointer)

    args = (ctypes.c_int(ROW_MAJOR), ctypes.c_int(NO_TRANS), ctypes.c_int(NO_TRANS), size, size, size,
            ctypes.c_float(1.0), addr(a), size, addr(b), size, ctypes.c_float(0.0), addr(c), size)
    return _Product(n, a, b, c, lambda: function(*args))


def measure(blas: OpenBLAS, seconds: float = 2.0) -> Measurement:
    """Run sgemm for about ``seconds`` with the library's current thread count."""
    for n in SIZES:
        product = _product(blas, n)
        product.call()  # warm-up: thread pool start, page faults
        start = time.perf_counter()
        product.call()
        one = time.perf_counter() - start
        if one * 40 > seconds or n == SIZES[-1]:  # slow enough to time well at this size
            break
    calls, elapsed = 1, one
    while elapsed < seconds:
        product.call()
        calls += 1
        elapsed = time.perf_counter() - start
    return Measurement(n, calls, elapsed, blas.threads, _checked_error(product.a, product.b, product.c, n))
