"""Where a request's time went, from its Server-Timing header (for the benchmarks)."""

from __future__ import annotations

import statistics


def request_phases(server_timing: str, wall: float) -> dict[str, float]:
    """Seconds per phase of one answer's Server-Timing header, plus 'http': the rest of ``wall``."""
    timing = {name: float(dur) / 1000 for name, dur in
              (part.strip().split(";dur=") for part in server_timing.split(","))}
    return {**timing, "http": wall - sum(timing.values())}

def report_phases(phases: dict[str, list[dict[str, float]]]) -> None:
    """One table row per variant: the median of each phase over its runs, the first (a warm-up) left out."""
    names = list(next(iter(phases.values()))[0])
    print(f"| variant | {' | '.join(f'median {name} s' for name in names)} |\n|---{'|---' * len(names)}|")
    for variant, runs in phases.items():
        medians = [statistics.median(run[name] for run in runs[1:]) for name in names]  # runs[0]: warm-up
        print(f"| {variant} | {' | '.join(f'{value:.3f}' for value in medians)} |")
