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
