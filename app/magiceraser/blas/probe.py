"""The whole BLAS report: which OpenBLAS, its core, the CPU's vector unit, sgemm GFLOP/s, verdict.

One dict (JSON-ready) that doctor, the benchmark and ``/api/v1/health`` all show, and the lines a
person reads. Standard library only: it runs on the laptop's bare Python and inside the service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import cpu, library, sgemm, verdict


def _choose(path: str | Path | None, directory: Path | None, system: bool) -> tuple[str | None, str, str | None]:
    """(library path or None, where it came from, why none was found)."""
    if path is not None:
        return (str(path), "given", None) if Path(path).exists() else (None, "given", f"{path} does not exist")
    if directory is not None:
        found = library.in_directory(directory)
        return (str(found[0]), "directory", None) if found else (None, "directory", f"no libopenblas in {directory}")
    mapped = library.loaded()
    if mapped:  # the one without a symbol prefix is what torch links; numpy's wheel carries a prefixed copy
        return sorted(mapped, key=lambda p: "scipy_openblas" in p)[0], "loaded", None
    if not system:
        return None, "loaded", "no OpenBLAS loaded in this process"
    default = library.system_default()
    if default:
        return default, "system", None
    return None, "system", "no OpenBLAS loaded in this process and none on the dynamic linker's path"


def run(path: str | Path | None = None, *, directory: Path | None = None, seconds: float = 2.0,
        system: bool = True) -> dict[str, Any]:
    """Probe ``path`` (or the first OpenBLAS in ``directory``, or the one this process loaded, or,
    with ``system``, the dynamic linker's: finding that runs ldconfig in a child process, which a
    threaded service must not fork); ``seconds`` of sgemm (0: no benchmark). Never raises for a
    missing or broken library: the report's verdict says so."""
    unit, hwprobe_note = cpu.detect()
    chosen, source, error = _choose(path, directory, system)
    report: dict[str, Any] = {
        "library": None, "source": source, "loaded": library.loaded(), "version": None, "corename": None,
        "config": None, "threads": None, "error": error, "sgemm": None,
        "vector": {"kind": unit.kind, "name": unit.name, "source": unit.source, "model": unit.model},
        "hwprobe": hwprobe_note,
    }
    blas = None
    if chosen is not None:
        try:
            blas = library.open_library(chosen)
        except library.NotOpenBLAS as exc:
            report["error"] = str(exc)
    correct = None
    if blas is not None:
        report.update(library=blas.path, version=blas.version, corename=blas.corename, config=blas.config,
                      threads=blas.threads)
        if seconds > 0:
            measured = sgemm.measure(blas, seconds)
            correct = measured.correct
            report["sgemm"] = {"gflops": float(f"{measured.gflops:.4g}"), "n": measured.n, "calls": measured.calls,
                               "seconds": round(measured.seconds, 3), "threads": measured.threads,
                               "max_relative_error": measured.max_relative_error}
    found = verdict.judge(unit, report["corename"], correct)
    report["verdict"] = {"kind": found.kind, "status": found.status, "summary": found.summary, "fix": found.fix,
                         "text": found.text}
    return report


def sgemm_text(report: dict[str, Any]) -> str:
    result = report.get("sgemm")
    if not result:
        return "sgemm not measured"
    return (f"sgemm {result['gflops']:.3g} GFLOP/s ({result['n']}x{result['n']}, {result['threads']} thread(s), "
            f"{result['calls']} calls in {result['seconds']:.1f} s)")


def library_text(report: dict[str, Any], short: bool = False) -> str:
    """Version, core, threads and the file (its name only with ``short``: for shared documents)."""
    if report["library"] is None:
        return f"no OpenBLAS ({report['error']})"
    where = Path(report["library"]).name if short else report["library"]
    return (f"OpenBLAS {report['version'] or '(version unknown)'} core {report['corename']}, "
            f"{report['threads']} thread(s): {where}")


def lines(report: dict[str, Any], short: bool = False) -> list[str]:
    """The report for a person: library, CPU, speed, verdict."""
    unit = report["vector"]
    model = f", {unit['model']}" if unit["model"] else ""
    return [f"BLAS library: {library_text(report, short)}",
            f"CPU vector unit: {unit['name']} ({unit['source']}{model}; {report['hwprobe']})",
            f"BLAS speed: {sgemm_text(report)}",
            f"BLAS verdict: {report['verdict']['text']}"]


def summary(report: dict[str, Any]) -> str:
    """One line without the fix: library, vector unit, speed and the verdict's judgement."""
    judged = report["verdict"]["summary"]
    if report["library"] is None:
        return f"{judged} ({report['error']})"
    return (f"OpenBLAS {report['version']} core {report['corename']} ({report['library']}), CPU vector unit "
            f"{report['vector']['name']}, {sgemm_text(report)}: {judged}")
