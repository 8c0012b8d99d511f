"""One plain sentence on the BLAS in use: does its kernel use the CPU's vector unit?

The numbers behind the wording: on a TH1520 the scalar RISCV64_GENERIC sgemm kernel reaches about
2 of the 16 FLOP per cycle a C910 core can do; with a vector kernel one erase is estimated 3-5x
faster (the LaMa generator is ~90 % GEMM). On x86 every OpenBLAS core is vectorised; a core older
than the CPU (SSE on an AVX2 machine) only leaves a factor of about two.
"""

from __future__ import annotations

from dataclasses import dataclass

from .cpu import NEON, NONE, RVV1, X86, XTHEADVECTOR, VectorUnit

OK, WARN, FAIL = "ok", "warn", "fail"
_X86_CORES = {
    "AVX-512": ("skylakex", "cooperlake", "sapphirerapids"),
    "AVX2": ("haswell", "zen", "excavator"),
    "AVX": ("sandybridge", "bulldozer", "piledriver", "steamroller"),
}
_X86_RANK = {"SSE2": 0, "AVX": 1, "AVX2": 2, "AVX-512": 3}
FIX_RVV1 = ("an OpenBLAS 0.3.28+ built with DYNAMIC_ARCH=1 (or TARGET=RISCV64_ZVL128B), with numpy and torch "
            "built against it")
FIX_XTHEAD = ("an OpenBLAS with the C910V kernels built for XTheadVector (GCC 14+, -march=rv64gc_xtheadvector), "
              "with numpy and torch built against it; distro and PyPI builds carry only the scalar kernel here")
FIX_MISSING = "install OpenBLAS (the distro's openblas package) and build numpy and torch against it"


@dataclass(frozen=True)
class Verdict:
    kind: str  # vector | scalar | scalar-on-vector-cpu | older-kernel | wrong | missing | unknown
    status: str  # ok | warn | fail
    summary: str
    fix: str | None = None

    @property
    def text(self) -> str:
        return f"{self.summary}; fix: {self.fix}" if self.fix else self.summary


def riscv_core_kind(corename: str) -> str | None:
    """RVV1 / XTHEADVECTOR / NONE for a riscv64 OpenBLAS core name, None when unknown."""
    name = corename.lower()
    if any(tag in name for tag in ("zvl128b", "zvl256b", "x280")):
        return RVV1
    if "c910v" in name or "xthead" in name:
        return XTHEADVECTOR
    if "generic" in name:
        return NONE
    return None


def x86_core_level(corename: str) -> str:
    name = corename.lower()
    return next((level for level, cores in _X86_CORES.items() if name in cores), "SSE2")


def _riscv(unit: VectorUnit, corename: str) -> Verdict:
    core = riscv_core_kind(corename)
    if core is None:
        return Verdict("unknown", OK, f"core {corename} is not a known riscv64 OpenBLAS core; no verdict")
    if core == NONE:
        if unit.kind == RVV1:
            return Verdict("scalar-on-vector-cpu", WARN, "scalar kernel on a CPU with a vector unit (RVV 1.0): "
                           "erasing will be ~3-5x slower than it could be", FIX_RVV1)
        if unit.kind == XTHEADVECTOR:
            return Verdict("scalar-on-vector-cpu", WARN, "scalar kernel on a CPU with a vector unit (XTheadVector, "
                           "RVV 0.7.1): erasing will be ~3-5x slower than it could be", FIX_XTHEAD)
        return Verdict("scalar", OK, "scalar kernel on a CPU without a vector unit: nothing faster exists for it")
    if core != unit.kind and unit.kind in (RVV1, XTHEADVECTOR, NONE):
        return Verdict("wrong", FAIL, f"{corename} needs {'RVV 1.0' if core == RVV1 else 'XTheadVector'} but this "
                       f"CPU has {unit.name}: results may be wrong or the process may crash",
                       "unset OPENBLAS_CORETYPE, or use an OpenBLAS built for this CPU")
    return Verdict("vector", OK, f"vector kernel in use ({corename} on {unit.name})")


def _x86(unit: VectorUnit, corename: str) -> Verdict:
    level = x86_core_level(corename)
    if _X86_RANK[level] < _X86_RANK["AVX2"] <= _X86_RANK.get(unit.name, 0):  # AVX2 vs AVX-512: a few per cent
        return Verdict("older-kernel", WARN, f"{corename} kernel ({level}) on a CPU with {unit.name}: BLAS is up to "
                       "~2x slower than it could be", "a DYNAMIC_ARCH OpenBLAS, or OPENBLAS_CORETYPE=Haswell")
    return Verdict("vector", OK, f"vector kernel in use ({corename}: {level} on a CPU with {unit.name})")


def judge(unit: VectorUnit, corename: str | None, correct: bool | None = None) -> Verdict:
    """The verdict for ``corename`` (None: no OpenBLAS found) on ``unit``; ``correct`` False when the
    benchmark's spot check failed."""
    if corename is None:
        return Verdict("missing", WARN, "no OpenBLAS found: numpy and torch fall back to their own unoptimised "
                       "loops, erasing is many times slower", FIX_MISSING)
    if correct is False:
        return Verdict("wrong", FAIL, f"sgemm through {corename} computes wrong results on this CPU",
                       "unset OPENBLAS_CORETYPE, or use an OpenBLAS built for this CPU")
    if unit.kind in (RVV1, XTHEADVECTOR) or (unit.kind == NONE and riscv_core_kind(corename) is not None):
        return _riscv(unit, corename)
    if unit.kind == X86:
        return _x86(unit, corename)
    if unit.kind == NEON:
        return Verdict("vector", OK, f"vector kernel in use ({corename} on {unit.name})")
    return Verdict("unknown", OK, f"core {corename}; the CPU's vector unit is {unit.name}: no verdict")
