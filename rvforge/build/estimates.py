"""What each planned build will cost here: wall time and peak disk, before anything runs.

A build this machine already did (the wheelhouse manifest records ``build_seconds`` and
``peak_work_dir_bytes`` for the same recipe version and machine) is the best guess. Otherwise
the recipe's ``estimate`` (CPU hours on one ~3 GHz x86_64 core) is scaled by this machine's
speed per core and spread over its jobs: a torch build is ~5 CPU-hours on x86_64, so about
2.5 h on two cores here and most of a day on a 4-core riscv64 laptop.
"""

from __future__ import annotations

import os
import resource
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rvforge.build.recipes import Recipe
from rvforge.log import format_duration

#: CPU time per core relative to one ~3 GHz x86_64 core. The C910 (TH1520) compiles C++ about
#: 10x slower per core (measured on torch sample compiles; see the torch build study in
#: research/torch-build.md of the shared notes). Machines not listed count as x86_64.
SPEED_FACTOR = {"riscv64": 10.0}
GB = 1e9


@dataclass(frozen=True)
class Expected:
    seconds: float | None
    disk_bytes: int | None
    basis: str  # "measured here" or "recipe estimate"


def expected(recipe: Recipe, entry: dict[str, Any] | None, machine: str, jobs: int) -> Expected | None:
    """The cost of building ``recipe`` on this machine with ``jobs`` jobs, None when unknown."""
    if entry and entry.get("version") == recipe.version and entry.get("machine") == machine \
            and isinstance(entry.get("build_seconds"), (int, float)):
        disk = entry.get("peak_work_dir_bytes")
        return Expected(float(entry["build_seconds"]), disk if isinstance(disk, int) else None, "measured here")
    if recipe.estimate is None:
        return None
    factor = SPEED_FACTOR.get(machine, 1.0)
    disk_bytes = int(recipe.estimate.disk_gb * GB) if recipe.estimate.disk_gb else None
    return Expected(recipe.estimate.cpu_hours * 3600 * factor / max(jobs, 1), disk_bytes, "recipe estimate")


@dataclass(frozen=True)
class Outlook:
    """The expected cost of each recipe to build, and the free space where builds happen."""

    costs: dict[str, Expected]
    free: int
    cache: Path

    def summary(self, todo: list[str]) -> list[str]:
        known = [self.costs[name] for name in todo if name in self.costs]
        lines = []
        seconds = sum(c.seconds or 0.0 for c in known)
        if seconds:
            unknown = len(todo) - len(known)
            lines.append(f"  expected here: about {format_duration(seconds)} in total"
                         + (f" (plus {unknown} recipe(s) without an estimate)" if unknown else ""))
        warning = disk_warning(known, self.free, self.cache)
        return lines + ([f"  {warning}"] if warning else [])


def outlook(recipes: list[Recipe], entries: dict[str, dict[str, Any]], machine: str, jobs: int,
            cache: Path) -> Outlook:
    """The plan's outlook from the wheelhouse manifest (``entries``) and the recipes' estimates."""
    costs = {r.name: cost for r in recipes if (cost := expected(r, entries.get(r.name), machine, jobs))}
    return Outlook(costs, free_bytes(cache), cache)


def size(count: float) -> str:
    return f"{count / GB:.1f} GB" if count >= GB else f"{count / 1e6:.0f} MB"


def free_bytes(cache: Path) -> int:
    """Free space on the disk holding the cache (or the nearest existing parent)."""
    while not cache.exists() and cache != cache.parent:
        cache = cache.parent
    return shutil.disk_usage(cache).free


def disk_warning(costs: list[Expected], free: int, cache: Path) -> str | None:
    """A work dir lives until its wheel is published, so the largest one must fit."""
    peak = max((c.disk_bytes for c in costs if c.disk_bytes), default=0)
    if peak <= free:
        return None
    return (f"warning: the largest build needs about {size(peak)} in {cache}, "
            f"but only {size(free)} is free: free space or set RVFORGE_HOME to a larger disk")


def dir_bytes(path: Path) -> int:
    """Bytes a directory tree takes on disk (allocated blocks, like ``du``)."""
    total = 0
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass  # removed while walking
    return total


def children_cpu_seconds() -> float:
    """User + system CPU time of every finished child process so far (compilers included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
