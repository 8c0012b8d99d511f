"""The CPU's vector unit, from /proc/cpuinfo and (riscv64 kernels 6.4+) the riscv_hwprobe syscall.

A BLAS kernel can only be judged against the hardware under it: a scalar kernel on a CPU without a
vector unit is the best there is, the same kernel on a TH1520 leaves most of the chip idle. The
TH1520's C910 cores implement the pre-ratification RVV 0.7.1 (XTheadVector), whose encodings are
not RVV 1.0: vendor kernels print ``cpu-vector : 0.7.1`` (and may put ``v`` in the ISA string),
mainline kernels list ``xtheadvector`` (older ones list nothing, but still name the core in
``uarch``). Only RVV 1.0 (``v`` or the ``zve*`` subsets) runs the
upstream ZVL128B/ZVL256B kernels.
"""

from __future__ import annotations

import ctypes
import os
import platform
from dataclasses import dataclass
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
THEAD_VENDOR_ID = 0x5B7  # mvendorid of T-Head cores
HWPROBE_SYSCALL = 258  # __NR_riscv_hwprobe on riscv64
HWPROBE_MVENDORID, HWPROBE_IMA_EXT_0, HWPROBE_VENDOR_EXT_THEAD_0 = 0, 4, 11
HWPROBE_IMA_V = 1 << 2
HWPROBE_XTHEADVECTOR = 1 << 0
AT_HWCAP = 16
HWCAP_V = 1 << (ord("V") - ord("A"))  # riscv64 AT_HWCAP has one bit per single-letter extension
_X86_LEVELS = (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sse2", "SSE2"))

# kinds of vector unit
RVV1, XTHEADVECTOR, X86, NEON, NONE, UNKNOWN = "rvv1.0", "xtheadvector", "x86", "neon", "none", "unknown"


@dataclass(frozen=True)
class VectorUnit:
    """What the CPU offers: ``kind`` (one of the constants above), a human name and where it was read."""

    kind: str
    name: str
    source: str
    model: str = ""  # model name / uarch line, for the report

    @property
    def has_vector(self) -> bool:
        return self.kind in (RVV1, XTHEADVECTOR, X86, NEON)


def first_block(text: str) -> dict[str, str]:
    """The fields of the first processor block of a cpuinfo text (``key : value``)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip().lower(), value.strip())
    return fields


def riscv_isa(isa: str) -> tuple[set[str], set[str]]:
    """Single-letter extensions and multi-letter ones of ``rv64imafdcv_zicsr_zve32f...``."""
    parts = isa.strip().lower().split("_")
    base = parts[0].removeprefix("rv64").removeprefix("rv32")
    return set(base), {p for p in parts[1:] if p}


def _riscv(fields: dict[str, str]) -> VectorUnit:
    letters, extensions = riscv_isa(fields.get("isa", ""))
    model = fields.get("uarch") or fields.get("model name") or ""
    vendor = fields.get("mvendorid", "")
    thead = vendor.lower() in (hex(THEAD_VENDOR_ID), f"0x{THEAD_VENDOR_ID:016x}") or model.startswith("thead,")
    vector_line = fields.get("cpu-vector", "")
    if vector_line.startswith("0.7") or "xtheadvector" in extensions or (thead and "v" in letters):
        source = f"cpu-vector {vector_line}" if vector_line else "isa " + (
            "xtheadvector" if "xtheadvector" in extensions else "v on a T-Head core")
        return VectorUnit(XTHEADVECTOR, "XTheadVector (RVV 0.7.1)", f"/proc/cpuinfo {source}", model)
    if thead and any(core in model for core in ("c910", "c920")):  # kernels without xtheadvector hide it
        return VectorUnit(XTHEADVECTOR, "XTheadVector (RVV 0.7.1)", f"/proc/cpuinfo uarch {model}", model)
    zve = sorted(e for e in extensions if e.startswith("zve"))
    if "v" in letters or zve:
        return VectorUnit(RVV1, "RVV 1.0", "/proc/cpuinfo isa " + ("v" if "v" in letters else zve[-1]), model)
    if "isa" not in fields:
        return VectorUnit(UNKNOWN, "unknown (no isa line)", "/proc/cpuinfo", model)
    return VectorUnit(NONE, "none (scalar only)", "/proc/cpuinfo isa " + fields["isa"].split("_")[0], model)


def _x86(fields: dict[str, str]) -> VectorUnit:
    flags = set(fields.get("flags", "").split())
    model = fields.get("model name", "")
    for flag, name in _X86_LEVELS:
        if flag in flags:
            return VectorUnit(X86, name, f"/proc/cpuinfo flags {flag}", model)
    return VectorUnit(UNKNOWN, "unknown (no SIMD flags)", "/proc/cpuinfo", model)


def from_cpuinfo(text: str, machine: str) -> VectorUnit:
    """The vector unit a cpuinfo text describes for ``machine`` (``uname -m``)."""
    fields = first_block(text)
    if machine == "riscv64":
        return _riscv(fields)
    if machine in ("x86_64", "i686", "i386"):
        return _x86(fields)
    if machine in ("aarch64", "arm64"):
        return VectorUnit(NEON, "NEON (Advanced SIMD)", "architecture (always present)", fields.get("model name", ""))
    return VectorUnit(UNKNOWN, f"unknown for {machine}", "/proc/cpuinfo", fields.get("model name", ""))


class _Pair(ctypes.Structure):
    _fields_ = [("key", ctypes.c_int64), ("value", ctypes.c_uint64)]


def hwprobe(keys: tuple[int, ...] = (HWPROBE_MVENDORID, HWPROBE_IMA_EXT_0, HWPROBE_VENDOR_EXT_THEAD_0),
            machine: str | None = None) -> dict[int, int] | str:
    """Key -> value from riscv_hwprobe for all CPUs; keys the kernel does not know are left out.
    A string says why nothing was asked (not riscv64, kernel without the syscall)."""
    if (machine or platform.machine()) != "riscv64":
        return "not a riscv64 kernel"
    pairs = (_Pair * len(keys))(*[_Pair(key, 0) for key in keys])
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(ctypes.c_long(HWPROBE_SYSCALL), pairs, ctypes.c_size_t(len(keys)), ctypes.c_size_t(0),
                    None, ctypes.c_uint(0)) != 0:
        return f"riscv_hwprobe unavailable ({os.strerror(ctypes.get_errno())}; Linux 6.4+ has it)"
    return {pair.key: pair.value for pair in pairs if pair.key >= 0}


def from_hwprobe(values: dict[int, int]) -> VectorUnit | None:
    """The vector unit the kernel reports, or None when it reports none of the keys that would say."""
    if values.get(HWPROBE_VENDOR_EXT_THEAD_0, 0) & HWPROBE_XTHEADVECTOR:
        return VectorUnit(XTHEADVECTOR, "XTheadVector (RVV 0.7.1)", "hwprobe vendor-ext-thead xtheadvector")
    if HWPROBE_IMA_EXT_0 in values:
        if values[HWPROBE_IMA_EXT_0] & HWPROBE_IMA_V:
            return VectorUnit(RVV1, "RVV 1.0", "hwprobe ima-ext-0 V")
        if values.get(HWPROBE_MVENDORID) != THEAD_VENDOR_ID:  # older kernels hide T-Head's vector from hwprobe
            return VectorUnit(NONE, "none (scalar only)", "hwprobe ima-ext-0 without V")
    return None


def hwcap() -> int:
    """The kernel's AT_HWCAP word (getauxval); 0 where libc has no getauxval."""
    try:
        getauxval = ctypes.CDLL(None).getauxval
    except (AttributeError, OSError):
        return 0
    getauxval.restype = ctypes.c_ulong
    return int(getauxval(ctypes.c_ulong(AT_HWCAP)))


def from_hwcap(value: int) -> VectorUnit:
    """Last resort on riscv64 when /proc/cpuinfo has no isa line (user-mode emulators show the host's):
    AT_HWCAP's V bit. A 0.7.1 vendor kernel sets it too, but such kernels always print the isa line."""
    if value & HWCAP_V:
        return VectorUnit(RVV1, "RVV 1.0", "AT_HWCAP V (no isa line in /proc/cpuinfo)")
    return VectorUnit(NONE, "none (scalar only)", "AT_HWCAP without V (no isa line in /proc/cpuinfo)")


def detect(cpuinfo: Path = CPUINFO, machine: str | None = None) -> tuple[VectorUnit, str]:
    """This CPU's vector unit (hwprobe wins where it answers) and what hwprobe said, for the report."""
    machine = machine or platform.machine()
    try:
        unit = from_cpuinfo(cpuinfo.read_text(errors="replace"), machine)
    except OSError as exc:
        unit = VectorUnit(UNKNOWN, f"unknown ({cpuinfo}: {exc.strerror})", str(cpuinfo))
    if machine == "riscv64" and unit.kind == UNKNOWN and machine == platform.machine():
        unit = from_hwcap(hwcap())
    probed = hwprobe(machine=machine)
    if isinstance(probed, str):
        return unit, probed
    found = from_hwprobe(probed)
    note = "hwprobe: " + ", ".join(f"{key}=0x{value:x}" for key, value in sorted(probed.items()))
    if found is None:
        return unit, note
    return VectorUnit(found.kind, found.name, found.source, unit.model), note
