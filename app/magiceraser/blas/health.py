"""The BLAS facts ``/api/v1/health`` carries, without slowing start-up or any health call.

The first health call reads the cheap facts (library, core, threads, vector unit, verdict: a few
milliseconds) and starts one background thread that measures sgemm for MEASURE_SECONDS; until it
finishes, ``gflops`` is null and ``measurement`` is ``"running"``. Later calls return the stored
result: the measurement runs once per process. It runs inside ``gate`` (the service passes its
inference queue's turn), so it never shares the cores, or the BLAS, with an erase: each would
slow the other, and the number would be wrong.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any, Callable, ContextManager

from .probe import run

MEASURE_SECONDS = 1.0


class BlasHealth:
    def __init__(self, seconds: float = MEASURE_SECONDS, probe: Callable[..., dict[str, Any]] = run,
                 gate: Callable[[], ContextManager[Any]] = contextlib.nullcontext) -> None:
        self._seconds = seconds
        self._probe = probe
        self._gate = gate
        self._lock = threading.Lock()
        self._report: dict[str, Any] | None = None
        self._measurement = "not started"
        self._thread: threading.Thread | None = None

    def snapshot(self) -> dict[str, Any]:
        """The ``blas`` object of the health answer; starts the one measurement on the first call."""
        with self._lock:
            if self._report is None:
                self._report = self._probe(seconds=0, system=False)  # the library this process uses
                if self._report["library"] is None:
                    self._measurement = "no library"
                else:
                    self._measurement = "running"
                    self._thread = threading.Thread(target=self._measure, name="blas-sgemm", daemon=True)
                    self._thread.start()
            return self._public(self._report)

    def wait(self, timeout: float | None = None) -> None:
        """Block until the measurement is over (for callers that need the number)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _measure(self) -> None:
        assert self._report is not None
        try:
            with self._gate():
                measured = self._probe(self._report["library"], seconds=self._seconds)
        except Exception as exc:  # a broken library must not take the service down; health says why
            with self._lock:
                self._measurement = f"failed: {type(exc).__name__}: {exc}"
            return
        with self._lock:
            self._report = {**self._report, "sgemm": measured["sgemm"], "verdict": measured["verdict"]}
            self._measurement = "done"

    def _public(self, report: dict[str, Any]) -> dict[str, Any]:
        measured = report["sgemm"] or {}
        return {
            "library": os.path.basename(report["library"]) if report["library"] else None,  # no server paths
            "version": report["version"],
            "corename": report["corename"],
            "threads": report["threads"],
            "vector_extension": report["vector"]["name"],
            "vector_source": report["vector"]["source"],
            "verdict": report["verdict"]["text"],
            "verdict_status": report["verdict"]["status"],
            "gflops": measured.get("gflops"),
            "sgemm": measured or None,
            "measurement": self._measurement,
        }
