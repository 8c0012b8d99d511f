"""A real shared library with OpenBLAS's entry points whose sgemm is wrong on purpose, for tests.

Import from other test folders with::

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
    from fake_openblas import fake_openblas
"""

from __future__ import annotations

import subprocess
from pathlib import Path

FAKE = r"""
const char *openblas_get_corename(void) { return "RISCV64_GENERIC"; }
const char *openblas_get_config(void) { return "OpenBLAS 0.3.99 fake"; }
int openblas_get_num_threads(void) { return 1; }
void cblas_sgemm(int o, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc) {
#ifdef TRAP
    __builtin_trap();
#else
    for (int i = 0; i < m * n; i++) c[i] = 1.0f;
#endif
}
"""


def fake_openblas(directory: Path, *flags: str) -> Path:
    """A real shared library with OpenBLAS's symbols whose sgemm traps (SIGILL, as a kernel the CPU
    cannot execute does) or computes garbage."""
    source, lib = directory / "fake.c", directory / "libopenblas.so"
    source.write_text(FAKE)
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", *flags, "-o", str(lib), str(source)], check=True)
    return lib


WRAPPER = r"""
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

static void *real(const char *name) {
    static void *handle;
    if (!handle) handle = dlopen(REAL_OPENBLAS, RTLD_NOW | RTLD_LOCAL);
    void *function = handle ? dlsym(handle, name) : NULL;
    if (!function) abort();
    return function;
}

const char *openblas_get_corename(void) { return "WRAPPED"; }
const char *openblas_get_config(void) { return "OpenBLAS 0.3.99 wrapper"; }

#define GEMM_(T, NAME) \
void NAME(const char *ta, const char *tb, const int *m, const int *n, const int *k, const T *alpha, const T *a, \
          const int *lda, const T *b, const int *ldb, const T *beta, T *c, const int *ldc) { \
    BEFORE_##NAME; \
    ((void (*)(const char *, const char *, const int *, const int *, const int *, const T *, const T *, \
               const int *, const T *, const int *, const T *, T *, const int *))real(#NAME)) \
        (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); \
    AFTER_##NAME; \
}
#define CBLAS_GEMM(T, NAME) \
void NAME(int o, int ta, int tb, int m, int n, int k, T alpha, const T *a, int lda, const T *b, int ldb, T beta, \
          T *c, int ldc) { \
    ((void (*)(int, int, int, int, int, int, T, const T *, int, const T *, int, T, T *, int))real(#NAME)) \
        (o, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); \
}
#define CBLAS_DOT(T, NAME) \
T NAME(int n, const T *x, int incx, const T *y, int incy) { \
    BEFORE_##NAME; \
    return ((T (*)(int, const T *, int, const T *, int))real(#NAME))(n, x, incx, y, incy); \
}

#ifdef TRAP_SGEMM
#define BEFORE_sgemm_ __builtin_trap()
#elif defined(HANG_SGEMM)
#define BEFORE_sgemm_ for (;;) pause()
#else
#define BEFORE_sgemm_
#endif
#ifdef CORRUPT_SGEMM  /* one element off, for m >= 17 only */
#define AFTER_sgemm_ if (*m >= 17) c[(*m - 1) + (*n - 1) * *ldc] += 0.25f
#else
#define AFTER_sgemm_
#endif
#define BEFORE_dgemm_
#define AFTER_dgemm_
#define BEFORE_cblas_sdot
#ifdef SHORT_DDOT  /* one element short, for n >= 33 only */
#define BEFORE_cblas_ddot if (n >= 33) n -= 1
#else
#define BEFORE_cblas_ddot
#endif

GEMM_(float, sgemm_)
GEMM_(double, dgemm_)
CBLAS_GEMM(float, cblas_sgemm)
CBLAS_GEMM(double, cblas_dgemm)
CBLAS_DOT(float, cblas_sdot)
CBLAS_DOT(double, cblas_ddot)
"""


def wrapped_openblas(directory: Path, real: str, *flags: str) -> Path:
    """A library that passes every call on to the OpenBLAS at ``real``, except where ``flags`` make one
    routine wrong: -DCORRUPT_SGEMM (one element of C off for m >= 17), -DSHORT_DDOT (one element
    short for n >= 33), -DTRAP_SGEMM (SIGILL), -DHANG_SGEMM (never returns)."""
    source, lib = directory / "wrapper.c", directory / "libopenblas-wrapper.so"
    source.write_text(WRAPPER)
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", f'-DREAL_OPENBLAS="{real}"', *flags, "-o", str(lib),
                    str(source), "-ldl"], check=True)
    return lib
