"""End to end against IOPaint 1.6.0: ``/api/v1/inpaint`` of a real server vs IOPaint's in-process call.

    .venv/bin/python tests/app/bench_iopaint.py --iopaint-python /tmp/iop/bin/python [--repeats 5] \
        [--baseline-app DIR]

--baseline-app: also serve the same requests from another copy of the ``magiceraser`` package (for
example ``git archive HEAD app | tar -x -C DIR`` then DIR/app), as a before/after comparison.

Both load the same TorchScript big-lama.pt (the big-lama architecture with random weights, traced
like IOPaint's own file), run oneDNN off on 2 threads, and see the same photo (scikit-image
``coffee`` upscaled to 1920x1080) and mask (one 200x150 object). Ours: ``magiceraser serve``, PNG
upload and PNG answer over HTTP on 127.0.0.1. IOPaint: its LaMa model (what ``ModelManager("lama")``
calls) with numpy arrays and its default Crop strategy (trigger 800, margin 128), no HTTP, no PNG.
Runs alternate between the two; each side's CPU seconds (all its threads) are reported next to
wall time, as a busy machine disturbs them least; peak RSS is each process's VmHWM. The IOPaint side
runs this file as a worker in the interpreter given (a venv holding iopaint==1.6.0 and this torch).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

SIZE = (1920, 1080)


def cpu_seconds(pid: int | str = "self") -> float:
    """user + system CPU time of every thread of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmHWM missing from /proc status")


def iopaint_worker(model: str, image_path: str, mask_path: str) -> None:
    """Load IOPaint's LaMa from ``model``; one timed call per 'run' line on stdin, JSON answers on stdout."""
    os.environ["LAMA_MODEL_URL"] = model  # an existing path is loaded as is (no download, no md5)
    import numpy as np
    import torch
    from PIL import Image

    torch.backends.mkldnn.enabled = False
    torch.set_num_threads(2)
    from iopaint.model.lama import LaMa
    from iopaint.schema import HDStrategy, InpaintRequest

    model = LaMa(torch.device("cpu"))  # what ModelManager("lama") holds (it only lists downloaded models)
    rgb = np.array(Image.open(image_path).convert("RGB"))  # writable: the crop strategy pastes into it
    mask = np.array(Image.open(mask_path).convert("L"))
    request = InpaintRequest(hd_strategy=HDStrategy.CROP)
    print(json.dumps({"ready": True}), flush=True)
    for _line in sys.stdin:
        start, cpu = time.perf_counter(), time.process_time()
        with torch.inference_mode():  # as ModelManager.__call__
            model(rgb, mask, request).astype(np.uint8)
        print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                          "peak_rss_mb": peak_rss_mb()}), flush=True)


def make_model(path: Path) -> None:
    """A traced big-lama (random weights, seed 0): the same kind of file as IOPaint's big-lama.pt,
    traced through the official graph's ops (plain convs, torch.fft), none of this engine's."""
    from unittest import mock

    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from lama_samples import trained_looking_big_lama

    from magiceraser.lama import spectrum
    from magiceraser.lama.tiling import Tiling

    model = trained_looking_big_lama(Tiling(None))

    class Composited(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.generator = model

        def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            pred = self.generator(torch.cat([image * (1 - mask), mask], dim=1))
            return mask * pred + (1 - mask) * image

    official_fft = mock.patch.multiple(spectrum, FORWARD={"fft": spectrum.forward_fft},
                                       INVERSE={"fft": spectrum.inverse_fft}, _CHOSEN={})
    with torch.no_grad(), official_fft:
        traced = torch.jit.trace(Composited(), (torch.rand(1, 3, 64, 64), torch.zeros(1, 1, 64, 64)), check_trace=False)
    traced.save(str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iopaint-python", required=True)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pause", type=float, default=1.0,
                        help="seconds of idle cores before each run, on both sides (default 1)")
    parser.add_argument("--threads", type=int, help="our service's --threads (default: its own default, all "
                        "cores; IOPaint always gets 2)")
    parser.add_argument("--baseline-app", type=Path, help="directory holding an older magiceraser package")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        iopaint_worker(*args.worker)
        return
    import numpy as np
    import requests
    from PIL import Image

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from live_server import live_server
    from request_phases import report_phases, request_phases

    from magiceraser.bench import object_mask, photo

    work = Path(tempfile.mkdtemp(prefix="bench-iopaint-"))
    model, image_path, mask_path = work / "big-lama.pt", work / "photo.png", work / "mask.png"
    make_model(model)
    Image.fromarray(photo("coffee", *SIZE)).save(image_path)
    Image.fromarray(object_mask(*SIZE).astype(np.uint8) * 255).save(mask_path)
    image, mask = image_path.read_bytes(), mask_path.read_bytes()
    worker = subprocess.Popen([args.iopaint_python, __file__, "--iopaint-python", args.iopaint_python,
                               "--worker", str(model), str(image_path), str(mask_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert worker.stdin is not None and worker.stdout is not None
    load = [os.getloadavg()]
    servers = {"this engine, POST /api/v1/inpaint (PNG in/out, HTTP)": {}}
    if args.baseline_app:
        servers = {"this engine before, POST /api/v1/inpaint": {"PYTHONPATH": str(args.baseline_app.resolve())},
                   **servers}
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
    phases: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
    rss: dict[str, float] = {}
    theirs: list[dict] = []
    try:
        json.loads(worker.stdout.readline())
        with ExitStack() as stack:
            fixed = ["--threads", str(args.threads)] if args.threads else []  # else the service's default
            live = {name: stack.enter_context(live_server(model, *fixed, "--no-mkldnn", env=env,
                                                          timeout=600)) for name, env in servers.items()}
            for run in range(args.repeats + 1):  # the first of each is a warm-up
                for name, server in live.items():
                    time.sleep(args.pause)  # quiet cores: the other side's run has ended
                    start, cpu = time.perf_counter(), cpu_seconds(server.process.pid)
                    answer = requests.post(f"{server.url}/api/v1/inpaint", timeout=600,
                                           files={"image": ("photo.png", image), "mask": ("mask.png", mask)})
                    answer.raise_for_status()
                    phases[name].append(request_phases(answer.headers["Server-Timing"], time.perf_counter() - start))
                    if run:
                        timings[name].append((time.perf_counter() - start, cpu_seconds(server.process.pid) - cpu))
                time.sleep(args.pause)
                worker.stdin.write("run\n")
                worker.stdin.flush()
                result = json.loads(worker.stdout.readline())
                if run:
                    theirs.append(result)
            rss = {name: peak_rss_mb(server.process.pid) for name, server in live.items()}
    finally:
        worker.stdin.close()
        worker.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)
    load.append(os.getloadavg())
    sides = {**{name: (runs, rss[name]) for name, runs in timings.items()},
             "IOPaint 1.6.0, in-process LaMa call (numpy in/out)": ([(r["seconds"], r["cpu"]) for r in theirs],
                                                                    theirs[-1]["peak_rss_mb"])}
    print(f"load average before/after: {load[0]} / {load[1]}")
    print("| side | runs | median wall s | min wall s | median CPU s | peak RSS MB |\n|---|---|---|---|---|---|")
    medians = []
    for name, (runs, peak) in sides.items():
        wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        medians.append((wall, cpu, peak))
        print(f"| {name} | {len(runs)} | {wall:.2f} | {min(r[0] for r in runs):.2f} | {cpu:.2f} | {peak:.0f} |")
    report_phases(phases)
    (wall_a, cpu_a, rss_a), (wall_b, cpu_b, rss_b) = medians[-2:]
    print(f"IOPaint / this engine: wall {wall_b / wall_a:.2f}x, CPU {cpu_b / cpu_a:.2f}x, "
          f"peak RSS {rss_b / rss_a:.2f}x")


if __name__ == "__main__":
    main()
