"""Measure an OpenBLAS on this machine: its core, the CPU's vector unit, sgemm GFLOP/s, a verdict.

The probe is the eraser's own (``magiceraser.blas``, standard library only), so the build host and
the running service are judged by the same code. It runs as a child process: from the checkout's
``app/`` with this interpreter for the library a build links, or with a deployed release's own
Python after ``import numpy, torch`` for the library the eraser really loaded. A library whose
kernel the CPU cannot execute then takes down only the child, and the check reports that.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from rvforge import REPO_ROOT

APP_DIR = REPO_ROOT / "app"
SECONDS = 2.0  # the sgemm benchmark's length


@dataclass(frozen=True)
class Probed:
    """The probe's JSON report, or why there is none (``error``; ``crashed`` when a signal killed it)."""

    report: dict[str, Any] | None
    error: str | None = None
    crashed: bool = False


def command(python: str | Path, library: Path | None, seconds: float, imports: str = "") -> list[str]:
    """``python -m magiceraser.blas --json`` for one library (None: what the interpreter loads)."""
    cmd = [str(python), "-m", "magiceraser.blas", "--json", "--seconds", str(seconds)]
    if library is not None:
        cmd += ["--library", str(library)]
    if imports:
        cmd += ["--import", imports]
    return cmd


def _child_env(env: Mapping[str, str], with_checkout_app: bool) -> dict[str, str]:
    child = dict(env)
    if with_checkout_app and APP_DIR.is_dir():
        child["PYTHONPATH"] = os.pathsep.join(filter(None, [str(APP_DIR), env.get("PYTHONPATH")]))
    return child


def _signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def run_probe(cmd: list[str], env: Mapping[str, str], *, with_checkout_app: bool = True,
              timeout: float = 120) -> Probed:
    """Run one probe command; a crash, a timeout or unreadable output is a ``Probed`` with ``error``."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=_child_env(env, with_checkout_app))
    except subprocess.TimeoutExpired:
        return Probed(None, f"the BLAS probe did not finish in {timeout:.0f} s")
    except OSError as exc:
        return Probed(None, f"cannot run {cmd[0]}: {exc.strerror}")
    if proc.returncode < 0:
        return Probed(None, f"the BLAS probe was killed by {_signal_name(proc.returncode)}: the library's kernel "
                            "does not run on this CPU", crashed=True)
    last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
    if proc.returncode:
        return Probed(None, f"the BLAS probe failed: {last}")
    try:
        return Probed(json.loads(proc.stdout))
    except json.JSONDecodeError:
        return Probed(None, f"the BLAS probe printed no report ({last})")


def measure_library(library: Path, env: Mapping[str, str], seconds: float = SECONDS) -> Probed:
    """The library a build links, probed with this interpreter and the checkout's probe."""
    return run_probe(command(sys.executable, library, seconds), env)


def measure_release(python: Path, env: Mapping[str, str], seconds: float = SECONDS) -> Probed:
    """What a deployed release loads: its own Python imports numpy and torch, then probes."""
    return run_probe(command(python, None, seconds, "numpy,torch"), env, with_checkout_app=False)
