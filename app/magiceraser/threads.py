"""Use every core and keep CPU memory flat across requests of different sizes.

torch.set_num_threads reaches OpenMP (and MKL) only; an OpenBLAS linked into torch (riscv64 builds)
keeps its own pool, so it is set too - through the environment before torch loads and through
openblas_set_num_threads afterwards. OMP_NUM_THREADS is never forced to 1. The allocator caches
that grow with each new input shape (oneDNN primitives, the CPU LRU cache) are capped.

Policy: N threads compute at once, never N x N. torch's intra-op pool and OpenBLAS's are both N,
but they take turns: at batch size 1 the engine's GEMMs (im2col convs, Winograd bmm, 1x1 convs)
are called outside torch's parallel regions, where an OpenMP OpenBLAS runs on torch's own threads
and a pthreads one on its N while torch's wait. tests/app/test_thread_policy.py counts the threads
that burn CPU in a pass.

How idle threads wait, measured per generator pass on 2 cores (docs/benchmarks.md): spinning
briefly before sleeping takes 15 % off on quiet cores and costs 30 % when another program keeps a
core busy (the spinning thread takes the core the working one needs). So N is fixed only when the
user sets --threads, and then threads sleep at once. By default they spin briefly, and N is
chosen per request from the cores other programs left idle just before it (``IdleCores``): all of
them on a quiet machine, fewer when others are busy.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

# Shape-keyed caches capped as IOPaint does.
ENV_DEFAULTS = {"ONEDNN_PRIMITIVE_CACHE_CAPACITY": "1", "LRU_CACHE_CAPACITY": "1"}
# OpenMP workers at a barrier: with a fixed --threads they sleep at once (on a busy 2-core host
# big-lama at 256x256 took 3.1 s with 1 thread, 12-18 s with 2 spinning ones, 3.1 s with 2 passive
# ones); with adaptive threads they spin about 10k times first (1.27 s against 1.48 s a pass, quiet).
FIXED_WAIT = {"OMP_WAIT_POLICY": "PASSIVE"}
ADAPTIVE_WAIT = {"GOMP_SPINCOUNT": "10000"}
#: How often other programs' load is sampled: a request sees what they did in the latest window.
SAMPLE_S = 0.25


def available_cores() -> int:
    """Cores this process may run on (respects taskset/cgroup affinity)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def prepare_environment(threads: int | None = None) -> None:
    """Before torch is imported: cap shape-keyed caches, set how OpenMP threads wait (sleep for a
    fixed ``threads``, spin briefly for adaptive ones), size the OpenBLAS pool (values the user
    already set win)."""
    for name, value in {**ENV_DEFAULTS, **(FIXED_WAIT if threads else ADAPTIVE_WAIT)}.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(threads or available_cores()))


def _busy_seconds() -> float | None:
    """CPU seconds the whole machine has been busy (user, nice, system, irq, softirq, steal)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        return sum(int(fields[i]) for i in (0, 1, 2, 5, 6, 7)) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _own_seconds() -> float:
    times = os.times()
    return times.user + times.system


def threads_for(ceiling: int, cores: int, others: float) -> int:
    """Threads for the next request: the cores that ``others`` cores' worth of other programs'
    work leave idle, rounded, at least 1 and at most ``ceiling``."""
    return max(1, min(ceiling, int(cores - others + 0.5)))


class IdleCores:
    """What other programs did just before a request: a sampler thread reads the machine's busy
    time (/proc/stat) minus this process's own every ``SAMPLE_S``; a request takes the latest
    window. A program that kept a core busy until the request came costs a thread; one that
    stopped a while ago does not. Without /proc: nothing is busy. One per process (``idle_cores``)."""

    def __init__(self) -> None:
        self.others = 0.0  # cores' worth of other programs' work in the latest window
        self._stop = threading.Event()
        threading.Thread(target=self._sample, name="idle-cores", daemon=True).start()

    def _sample(self) -> None:
        mark = (time.monotonic(), _busy_seconds(), _own_seconds())
        while not self._stop.wait(SAMPLE_S):
            now = (time.monotonic(), _busy_seconds(), _own_seconds())
            if now[1] is None or mark[1] is None:
                return
            self.others = max(0.0, (now[1] - mark[1]) - (now[2] - mark[2])) / (now[0] - mark[0])
            mark = now

    def choose(self, ceiling: int) -> int:
        return threads_for(ceiling, available_cores(), self.others)

    def close(self) -> None:
        self._stop.set()


_IDLE: list[IdleCores] = []


def idle_cores() -> IdleCores:
    """The process's sampler, started on first use (only a process with adaptive threads runs one)."""
    if not _IDLE:
        _IDLE.append(IdleCores())
    return _IDLE[0]


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
    """Hand freed heap pages back to the OS (glibc malloc_trim; no-op elsewhere)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, looked up once among the symbols already loaded. Not through
    ctypes.util.find_library: that runs ldconfig in a child process, and a fork from this threaded
    service (OpenMP and OpenBLAS workers, samplers) can hang under qemu-user."""
    try:
        return ctypes.CDLL(None).malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


class IdleTrim:
    """Releases freed heap pages once no request has come for ``delay`` seconds, not after each one.

    Pages handed back after a request must be faulted in again by the next: trimming after every
    generator pass cost 0.17 CPU s of 2.2 (big-lama, 456x408 window, 1 thread; docs/benchmarks.md).
    Peak RSS is the same either way; an idle service still shrinks. ``run`` schedules the release
    (the engine passes its inference thread's submit, so it never overlaps a pass)."""

    def __init__(self, delay: float, run: Callable[[Callable[[], None]], object]) -> None:
        self._delay = delay
        self._run = run
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def request_done(self) -> None:
        """Restart the idle clock."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self._delay, self._release)
            self._timer.daemon = True
            self._timer.start()

    def _release(self) -> None:
        try:
            self._run(release_memory)
        except RuntimeError:  # the inference thread is gone: the process is exiting
            pass
