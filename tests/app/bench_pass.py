"""One big-lama generator pass as the service runs it: oneDNN off, on one thread that built the model.

    .venv/bin/python tests/app/bench_pass.py [--threads 2] [--wait spin|sleep] [--repeats 5] [--app DIR] \
        [--whole-window]

Random weights (seed 0, BN statistics drawn like trained ones, folded), the 456x408 window a
200x150 object gets in a 1920x1080 photo. ``--wait spin`` is the service's default (brief
spinning, as with adaptive threads), ``sleep`` what a fixed ``--threads`` gets. ``--app`` times
another checkout's ``magiceraser`` package (e.g. an older commit's ``app/``), so each version runs
in its own process. The decoder runs around the object as the service runs it (a version without
that runs it on the whole window); ``--whole-window`` runs it everywhere. Prints min and median wall
and CPU seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--wait", choices=("spin", "sleep"), default="spin")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--app", type=Path, help="directory holding the magiceraser package to time")
    parser.add_argument("--whole-window", action="store_true", help="run the decoder on the whole window")
    args = parser.parse_args()
    if args.app:
        sys.path.insert(0, str(args.app.resolve()))
    sys.path.insert(0, str(HERE))
    from magiceraser.threads import prepare_environment

    prepare_environment(None if args.wait == "spin" else args.threads)
    import torch
    from lama_samples import trained_looking_big_lama

    from magiceraser.lama.fold import fold_batchnorm
    from magiceraser.lama.runner import tiling_for

    def run() -> list[tuple[float, float]]:
        torch.backends.mkldnn.enabled = False
        torch.set_num_threads(args.threads)
        model = fold_batchnorm(trained_looking_big_lama(tiling_for(False), 0))
        x = torch.rand(1, 4, 408, 456)
        needed = {} if args.whole_window or not hasattr(model, "decoder") else {"needed": object_box()}
        times = []
        with torch.inference_mode():
            model(x, **needed)
            for _ in range(args.repeats):
                wall, cpu = time.perf_counter(), time.process_time()
                model(x, **needed)
                times.append((time.perf_counter() - wall, time.process_time() - cpu))
        return times

    def object_box() -> object:
        from magiceraser.lama.region import Box

        return Box(128, 278, 128, 328)  # the 200x150 object, 128 px from the window's edges

    with ThreadPoolExecutor(1) as one_thread:
        times = one_thread.submit(run).result()
    import magiceraser

    walls, cpus = [t[0] for t in times], [t[1] for t in times]
    print(f"{Path(magiceraser.__file__).parent}: {args.threads} threads, {args.wait}"
          f"{', whole window' if args.whole_window else ''}: wall min "
          f"{min(walls):.3f} median {statistics.median(walls):.3f} s, CPU min {min(cpus):.3f} "
          f"median {statistics.median(cpus):.3f} s")


if __name__ == "__main__":
    main()
