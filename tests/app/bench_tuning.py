"""A/B timing of the engine's tuning steps, interleaved in one process (oneDNN off, as on riscv64).

    .venv/bin/python tests/app/bench_tuning.py generator [--repeats 5] [--threads 2]
    .venv/bin/python tests/app/bench_tuning.py fft [--repeats 15]
    .venv/bin/python tests/app/bench_tuning.py request [--repeats 5] [--profile out.txt]

generator: one big-lama forward (random weights, BN stats drawn like trained ones), BatchNorm folded
or not, at the window a 200x150 object gets in a 1920x1080 photo (456x408, a 57x51 grid at 1/8)
and at the FFT-friendly sizes it could grow to. fft: one FourierUnit's rfft2 + irfft2 (192
channels) at those grids through torch (MKL on x86), through pocketfft (scipy.fft: the library
torch uses where MKL is absent, as on riscv64) and as DFT matrix products (lama/spectrum.py).
request: POST /api/v1/inpaint of a 1920x1080 PNG photo with one 200x150 object over HTTP on
127.0.0.1 to the real app, BN unfolded vs folded;
--profile writes a cProfile of one in-process request (Flask test client, same code path).
Variants alternate run by run so a busy machine slows them alike; medians, CPU seconds (all
threads) and the load average are printed.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import io
import os
import pstats
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from magiceraser.threads import prepare_environment

prepare_environment(2)  # before torch loads, as the service does: passive OpenMP waits, capped caches

import numpy as np  # noqa: E402
import requests  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from magiceraser.bench import object_mask, photo  # noqa: E402
from magiceraser.lama import spectrum  # noqa: E402
from magiceraser.lama.ffc import FFCResNetGenerator  # noqa: E402
from magiceraser.lama.fold import fold_batchnorm  # noqa: E402
from magiceraser.lama.predictor import generator_predictor  # noqa: E402
from magiceraser.lama.runner import LamaEngine, tiling_for  # noqa: E402
from magiceraser.server import create_app  # noqa: E402
from magiceraser.threads import configure  # noqa: E402
from rvforge.common import free_port  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lama_samples import trained_looking_big_lama  # noqa: E402
from request_phases import report_phases, request_phases  # noqa: E402

SIZE = (1920, 1080)
WINDOWS = {"456x408": (408, 456), "480x408": (408, 480), "480x432": (432, 480)}


def generator(seed: int = 0) -> FFCResNetGenerator:
    """big-lama with random weights and trained-looking BN statistics (so folding changes numbers)."""
    return trained_looking_big_lama(tiling_for(False), seed)


Times = dict[str, list[tuple[float, float]]]


def interleaved(variants: dict[str, Callable[[], object]], repeats: int) -> Times:
    """(wall s, CPU s of all threads) per run; CPU time is what a busy machine disturbs least."""
    for run in variants.values():
        run()  # warm-up
    times: Times = {name: [] for name in variants}
    for _ in range(repeats):
        for name, run in variants.items():
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return times


def report(times: Times) -> None:
    print(f"load average before/after: {LOAD_BEFORE} / {os.getloadavg()}")
    print("| variant | runs | median wall s | min wall s | median CPU s |\n|---|---|---|---|---|")
    for name, values in times.items():
        wall, cpu = [v[0] for v in values], [v[1] for v in values]
        print(f"| {name} | {len(values)} | {statistics.median(wall):.3f} | {min(wall):.3f} "
              f"| {statistics.median(cpu):.3f} |")


def bench_generator(repeats: int) -> None:
    plain = generator()
    folded = fold_batchnorm(copy.deepcopy(plain))
    inputs = {name: torch.rand(1, 4, h, w) for name, (h, w) in WINDOWS.items()}
    with torch.inference_mode():
        diff = (plain(inputs["456x408"]) - folded(inputs["456x408"])).abs().max().item()
    print(f"max |folded - unfolded| at 456x408: {diff:.2e}")

    def forward(model: FFCResNetGenerator, x: torch.Tensor) -> Callable[[], object]:
        return lambda: model(x)

    variants = {"456x408, BN unfolded": forward(plain, inputs["456x408"])}
    variants.update({f"{name}, BN folded": forward(folded, x) for name, x in inputs.items()})
    with torch.inference_mode():
        report(interleaved(variants, repeats))


def bench_fft(repeats: int) -> None:
    import scipy.fft

    def torch_fft(x: torch.Tensor) -> Callable[[], object]:
        return lambda: torch.fft.irfftn(torch.fft.rfftn(x, dim=(-2, -1), norm="ortho"), s=x.shape[-2:],
                                        dim=(-2, -1), norm="ortho")

    def pocketfft(x: np.ndarray) -> Callable[[], object]:
        return lambda: scipy.fft.irfftn(scipy.fft.rfftn(x, axes=(-2, -1), norm="ortho", workers=2),
                                        s=x.shape[-2:], axes=(-2, -1), norm="ortho", workers=2)

    def dft(x: torch.Tensor) -> Callable[[], object]:
        return lambda: spectrum.inverse_dft(spectrum.forward_dft(x), *x.shape[-2:])

    grids = {f"{w // 8}x{h // 8}": torch.rand(1, 192, h // 8, w // 8) for w, h in
             ((456, 408), (480, 408), (480, 432))}
    variants: dict[str, Callable[[], object]] = {f"torch {name}": torch_fft(x) for name, x in grids.items()}
    variants.update({f"pocketfft {name}": pocketfft(x.numpy()) for name, x in grids.items()})
    variants.update({f"DFT matrix products {name}": dft(x) for name, x in grids.items()})
    report(interleaved(variants, repeats))


def _png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, "PNG")
    return out.getvalue()


def bench_request(repeats: int, profile: Path | None) -> None:
    from waitress.server import create_server

    plain = generator()
    models = {"BN unfolded": plain, "BN folded": fold_batchnorm(copy.deepcopy(plain))}
    image, mask = _png(photo("coffee", *SIZE)), _png(object_mask(*SIZE).astype(np.uint8) * 255)
    apps, servers, variants = {}, [], {}
    phases: dict[str, list[dict[str, float]]] = {name: [] for name in models}
    for name, model in models.items():
        engine = LamaEngine(generator_predictor(model), Path("random big-lama"), None, torch.get_num_threads(), False)
        apps[name] = create_app({"ENGINE": engine})
        port = free_port()
        servers.append(create_server(apps[name], host="127.0.0.1", port=port, threads=2))
        threading.Thread(target=servers[-1].run, daemon=True).start()
        variants[name] = _poster(f"http://127.0.0.1:{port}/api/v1/inpaint", image, mask, phases[name])
    report(interleaved(variants, repeats))
    report_phases(phases)
    if profile is not None:
        client = apps["BN folded"].test_client()
        profiler = cProfile.Profile()
        profiler.enable()
        answer = client.post("/api/v1/inpaint", data={"image": (io.BytesIO(image), "p.png"),
                                                      "mask": (io.BytesIO(mask), "m.png")})
        profiler.disable()
        assert answer.status_code == 200, answer.data[:200]
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
        profile.write_text(f"Server-Timing: {answer.headers.get('Server-Timing')}\n{out.getvalue()}")
    for server in servers:
        server.close()


def _poster(url: str, image: bytes, mask: bytes, phases: list[dict[str, float]]) -> Callable[[], object]:
    """POST the photo; each answer's Server-Timing phases plus 'http' (the rest of the wall time)."""
    def run() -> object:
        start = time.perf_counter()
        answer = requests.post(url, files={"image": ("p.png", image), "mask": ("m.png", mask)}, timeout=600)
        wall = time.perf_counter() - start
        answer.raise_for_status()
        phases.append(request_phases(answer.headers["Server-Timing"], wall))
        return answer
    return run


LOAD_BEFORE = os.getloadavg()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("generator", "fft", "request"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    torch.backends.mkldnn.enabled = False
    configure(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, oneDNN off, {sys.platform}")
    if args.what == "generator":
        bench_generator(args.repeats)
    elif args.what == "fft":
        bench_fft(args.repeats)
    else:
        bench_request(args.repeats, args.profile)


if __name__ == "__main__":
    main()
