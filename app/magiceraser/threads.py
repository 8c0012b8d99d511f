"""Use every core and keep CPU memory flat across requests of different sizes.

torch.set_num_threads reaches OpenMP (and MKL) only; an OpenBLAS linked into torch (riscv64 builds)
keeps its own pool, so it is set too - through the environment before torch loads and through
openblas_set_num_threads afterwards. OMP_NUM_THREADS is never forced to 1. The allocator caches
that grow with each new input shape (oneDNN primitives, the CPU LRU cache) are capped.

Policy: N threads compute at once, N = --threads (default: all cores), never N x N. torch's
intra-op pool and OpenBLAS's are both N, but they take turns: at batch size 1 the engine's GEMMs
(im2col convs, Winograd bmm, 1x1 convs) are called outside torch's parallel regions, where an
OpenMP OpenBLAS runs on torch's own threads and a pthreads one on its N while torch's sleep
(passive waits). tests/app/test_thread_policy.py counts the threads that burn CPU in a pass.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

# Shape-keyed caches capped as IOPaint does; OpenMP workers sleep instead of spinning at barriers:
# measured on a busy 2-core host, big-lama at 256x256 took 3.1 s with 1 thread, 12-18 s with 2
# spinning threads and 3.1 s with 2 passive ones - spinning only pays on an otherwise idle machine.
ENV_DEFAULTS = {"ONEDNN_PRIMITIVE_CACHE_CAPACITY": "1", "LRU_CACHE_CAPACITY": "1", "OMP_WAIT_POLICY": "PASSIVE"}


def available_cores() -> int:
    """Cores this process may run on (respects taskset/cgroup affinity)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def prepare_environment(threads: int | None = None) -> None:
    """Before torch is imported: cap shape-keyed caches, passive OpenMP waits, size the OpenBLAS pool
    (values the user already set win)."""
    for name, value in ENV_DEFAULTS.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(threads or available_cores()))


def _loaded_openblas() -> list[str]:
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return []
    return sorted({line.split()[-1] for line in maps.splitlines() if "openblas" in line.rsplit("/", 1)[-1].lower()})


def configure(threads: int | None = None) -> dict:
    """Set torch and any loaded OpenBLAS to ``threads`` (default: all cores). Returns what was set."""
    import torch

    count = max(1, threads or available_cores())
    torch.set_num_threads(count)
    openblas = []
    for path in _loaded_openblas():
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_set_num_threads(count)
            openblas.append(path)
        except (OSError, AttributeError):
            continue
    return {"threads": count, "openblas": openblas}


def release_memory() -> None:
    """Hand freed heap pages back to the OS after a request (glibc malloc_trim; no-op elsewhere)."""
    name = ctypes.util.find_library("c")
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError, TypeError):
        pass
