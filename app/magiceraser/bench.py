"""``magiceraser bench``: the 2024 MagicEraser method versus this engine, wall time and peak RSS.

Every configuration runs in its own child process; its peak RSS comes from os.wait4's rusage for
that child alone. The model is the big-lama architecture with random weights (speed and memory do
not depend on the weights) unless --model names an installed one; the photos are scikit-image
samples upscaled to the benchmark size with an object-sized (~200x150) elliptical mask.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from . import threads
from .blas import probe as blas_probe
from .errors import ModelError
from .strategy import InpaintOptions

if TYPE_CHECKING:  # torch modules: imported by the worker only, after its thread settings
    from .lama.predictor import Predictor
    from .lama.tiling import Tiling

SECTION = "## Eraser engine"
KEPT = "\n### How the defaults were chosen"  # hand-measured notes that a re-run keeps
LEGACY_BYTES_PER_PIXEL = 64 * 49 * 4  # im2col of the last 7x7 conv without oneDNN


@dataclass(frozen=True)
class Case:
    """One benchmark configuration (run in a child process)."""

    method: str  # "2024" (whole image, 1 thread, no HD strategy) | "engine" (defaults) | "full-frame" (tiled)
    width: int
    height: int
    mkldnn: bool
    repeats: int = 3
    warm_up: bool = True
    photo: str = "coffee"
    threads: int | None = None  # this engine's threads (None: all cores); the 2024 method always uses 1
    model: str | None = None  # model file/dir to time (None: big-lama with random weights)

    @property
    def label(self) -> str:
        return {"2024": "2024 method (whole image, 1 thread)", "engine": "this engine (crop, all threads)",
                "full-frame": "this engine, full frame (original, tiled)"}[self.method]


@dataclass
class Outcome:
    case: Case
    seconds: list[float]
    peak_rss_mb: float | None
    note: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None


def photo(name: str, width: int, height: int) -> np.ndarray:
    """A real photo (scikit-image sample) resized to width x height, RGB uint8; a synthetic texture
    where scikit-image is not installed (timing and memory do not depend on the content)."""
    try:
        from skimage import data
    except ImportError:
        yy, xx = np.mgrid[:512, :512] / 512
        channels = [np.sin(6 * xx + 3 * k) * np.cos(9 * yy - k) for k in range(3)]
        source = ((np.stack(channels, axis=2) + 1) * 127.5).astype(np.uint8)
    else:
        source = getattr(data, name)()
    return np.asarray(Image.fromarray(source).convert("RGB").resize((width, height), Image.Resampling.BICUBIC))


def object_mask(width: int, height: int, size: tuple[int, int] = (200, 150)) -> np.ndarray:
    """An ellipse of ``size`` (w, h) a little right of and below the centre: one object to erase."""
    yy, xx = np.mgrid[:height, :width]
    cx, cy = width * 0.55, height * 0.6
    return ((xx - cx) / (size[0] / 2)) ** 2 + ((yy - cy) / (size[1] / 2)) ** 2 <= 1


def _predictor(model: str | None, tiling: Tiling) -> Predictor:
    """The model under test: the named model file, or big-lama with random weights."""
    import torch

    from .lama.ffc import FFCResNetGenerator
    from .lama.fold import fold_batchnorm
    from .lama.predictor import generator_predictor
    from .lama.runner import load_predictor
    from .lama.weights.config import BIG_LAMA

    if model is not None:
        return load_predictor(Path(model), tiling)[0]
    torch.manual_seed(0)
    return generator_predictor(fold_batchnorm(FFCResNetGenerator(BIG_LAMA, tiling).eval().requires_grad_(False)))


def _worker(case: Case) -> dict:
    count = 1 if case.method == "2024" else case.threads
    threads.prepare_environment(count)
    if case.method == "2024":
        os.environ["OMP_NUM_THREADS"] = "1"  # what the 2024 project forced
    import torch

    from .lama.runner import LamaEngine, tiling_for
    from .lama.tiling import Tiling

    torch.backends.mkldnn.enabled = case.mkldnn
    used = threads.configure(count)["threads"]
    tiling = Tiling(None) if case.method == "2024" else tiling_for(case.mkldnn)
    engine = LamaEngine(_predictor(case.model, tiling), Path(case.model or "random big-lama"), None, used,
                        case.mkldnn)
    options = InpaintOptions() if case.method == "engine" else InpaintOptions(strategy="original")
    rgb, mask = photo(case.photo, case.width, case.height), object_mask(case.width, case.height)
    if case.warm_up:
        engine.inpaint(rgb, mask, options)
    seconds = []
    for _ in range(case.repeats):
        start = time.perf_counter()
        result = engine.inpaint(rgb, mask, options)
        seconds.append(time.perf_counter() - start)
    assert np.array_equal(result[~mask], rgb[~mask])
    return {"seconds": seconds, "threads": used}


def run_case(case: Case) -> Outcome:
    """Run ``case`` in a fresh interpreter; peak RSS is that child's own ru_maxrss (os.wait4)."""
    cmd = [sys.executable, "-m", "magiceraser.bench", "--worker", json.dumps(asdict(case))]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    peak = usage.ru_maxrss / 1024
    if proc.returncode:
        last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit {proc.returncode}"
        return Outcome(case, [], peak, f"failed: {last}")
    return Outcome(case, json.loads(stdout.strip().splitlines()[-1])["seconds"], peak)


def _total_memory_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def legacy_skip_reason(case: Case) -> str | None:
    """The 2024 method without oneDNN needs the whole-image im2col buffer; skip it when RAM cannot hold it."""
    if case.method != "2024" or case.mkldnn:
        return None
    h, w = -(-case.height // 8) * 8, -(-case.width // 8) * 8
    need = LEGACY_BYTES_PER_PIXEL * h * w
    if need > 0.6 * _total_memory_bytes():
        return f"needs ~{need / 1e9:.0f} GB (im2col), not run"
    return None


def plan_cases(sizes: list[tuple[int, int]], mkldnn_modes: list[bool], repeats: int, threads: int | None = None,
               model: str | None = None) -> list[Case]:
    """2024 method and this engine for each size and oneDNN mode, plus one full-frame run (largest size)."""
    cases = []
    for mkldnn in mkldnn_modes:
        for width, height in sizes:
            for method in ("2024", "engine"):
                cases.append(Case(method, width, height, mkldnn, repeats, threads=threads, model=model))
    width, height = max(sizes, key=lambda s: s[0] * s[1])
    cases.append(Case("full-frame", width, height, False, 1, warm_up=False, threads=threads, model=model))
    return cases


def _fmt_seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def blas_report(count: int | None, seconds: float = 2.0) -> dict:
    """The BLAS the engine uses, judged in a child that imports numpy and torch as a worker does
    (same thread settings): library, core, CPU vector unit, sgemm GFLOP/s, verdict."""
    env = dict(os.environ)
    env.setdefault("OPENBLAS_NUM_THREADS", str(count or threads.available_cores()))
    cmd = [sys.executable, "-m", "magiceraser.blas", "--import", "numpy,torch", "--json", "--seconds", str(seconds)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    if proc.returncode:
        last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        return {"lines": [f"BLAS probe failed: {last}"], "error": last}
    return json.loads(proc.stdout)


def render(outcomes: list[Outcome], command: str, blas_lines: list[str] | None = None) -> str:
    """The ``## Eraser engine`` markdown section."""
    host = f"{platform.machine()}, {os.cpu_count()} cores, {_total_memory_bytes() / 2**30:.0f} GB RAM"
    import torch

    model = next((o.case.model for o in outcomes if o.case.model), None)
    model_text = f"model: `{model}`" if model else "big-lama architecture with random weights"

    lines = [SECTION, "",
             f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC. Machine: {host}, "
             f"{platform.platform()}, torch {torch.__version__}. Command: `{command}`.", "",
             f"{model_text}; photo: scikit-image `coffee` resized to the size; "
             "mask: one 200x150 ellipse. Time = median of the timed runs after one warm-up run "
             "(the full-frame run has no warm-up); each configuration in its own process; peak RSS = that "
             "process's ru_maxrss. Load average (1/5/15 min) when the table was written: "
             + "/".join(f"{v:.1f}" for v in os.getloadavg()) + f" on {os.cpu_count()} cores.", "",
             *([*(f"- {line}" for line in blas_lines), ""] if blas_lines else []),
             "| oneDNN | size | method | runs | median s | peak RSS MB | speed-up vs 2024 |",
             "|---|---|---|---|---|---|---|"]
    legacy = {(o.case.width, o.case.height, o.case.mkldnn): o.median for o in outcomes if o.case.method == "2024"}
    for o in outcomes:
        c = o.case
        base = legacy.get((c.width, c.height, c.mkldnn))
        speedup = f"{base / o.median:.1f}x" if base and o.median and c.method != "2024" else ""
        rss = f"{o.peak_rss_mb:.0f}" if o.peak_rss_mb is not None else "-"
        median = o.note or _fmt_seconds(o.median)
        runs = len(o.seconds) or "-"
        lines.append(f"| {'on' if c.mkldnn else 'off'} | {c.width}x{c.height} | {c.label} | {runs} | {median} "
                     f"| {rss} | {speedup} |")
    return "\n".join(lines) + "\n"


def send_back_note(machine: str, output: Path | None, json_path: Path | None) -> str | None:
    """What to send back from a riscv64 machine: docs/benchmarks.md holds only an estimate for
    the laptop until someone measures one."""
    if machine != "riscv64":
        return None
    section = f"the '{SECTION[3:]}' section written to {output}" if output else "the section printed above"
    data = f" and {json_path}" if json_path else " (with --json FILE for the same as data)"
    return (f"To replace the riscv64 estimate in the project's docs/benchmarks.md with this machine's numbers, "
            f"send {section}{data}. It holds the machine, CPU, BLAS (kernel, vector unit, sgemm GFLOP/s) "
            "and the timings; check the command line in it for paths you would rather not share.")


def write_section(path: Path, section: str) -> None:
    """Replace (or append) the ``## Eraser engine`` section of a shared markdown file, keeping the rest
    of the file and the section's "How the defaults were chosen" notes."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start = text.find(SECTION + "\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(SECTION))
        old = text[start:end + 1] if end >= 0 else text[start:]
        kept = old[old.find(KEPT):].rstrip("\n") + "\n" if KEPT in old else ""
        rest = "\n" + text[end + 1:] if end >= 0 else ""
        text = text[:start] + section + kept + rest
    path.write_text(text)


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1280x720, not {text!r}") from None
    if width < 64 or height < 64:
        raise argparse.ArgumentTypeError(f"size {text} is too small (at least 64x64)")
    return width, height


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def _run_worker(case: Case) -> int:
    """Child process entry: one JSON line with the timings; a bad model file is one clear line on stderr."""
    try:
        result = _worker(case)
    except ModelError as exc:
        print(f"{exc.path}: {exc.problem} (fix: {exc.hint})", file=sys.stderr, flush=True)
        return 1
    print(json.dumps(result), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="magiceraser bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda s: [_size(p) for p in s.split(",")],
                        default=[(1280, 720), (1920, 1080)], help="comma-separated WxH (default 1280x720,1920x1080)")
    parser.add_argument("--mkldnn", choices=["on", "off", "both"], default="both", help="oneDNN modes to run")
    parser.add_argument("--no-mkldnn", action="store_true", help="same as --mkldnn off (behave like a riscv64 torch)")
    parser.add_argument("--threads", type=_positive, help="this engine's threads (default: all cores; the 2024 "
                        "method always runs on 1)")
    parser.add_argument("--model", help="time this model (big-lama dir, best.ckpt or big-lama.pt) instead of "
                        "big-lama with random weights")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per configuration (median reported)")
    parser.add_argument("--quick", action="store_true", help="one small size (640x360), one run, oneDNN off")
    parser.add_argument("--output", type=Path, help="markdown file whose '## Eraser engine' section is replaced")
    parser.add_argument("--json", type=Path, help="also write the results and the BLAS report to this JSON file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _run_worker(Case(**json.loads(args.worker)))
    if args.model and not Path(args.model).expanduser().exists():
        parser.error(f"--model {args.model}: no such file or directory (give a big-lama directory, its "
                     "models/best.ckpt or big-lama.pt; `invoke fetch-model` installs one)")
    model = str(Path(args.model).expanduser().resolve()) if args.model else None
    modes = [False] if args.no_mkldnn else {"on": [True], "off": [False], "both": [True, False]}[args.mkldnn]
    sizes, repeats = args.sizes, max(1, args.repeats)
    if args.quick:
        sizes, repeats, modes = [(640, 360)], 1, [False]
    blas = blas_report(args.threads)
    print("\n".join(blas["lines"]), flush=True)
    outcomes = []
    for case in plan_cases(sizes, modes, repeats, args.threads, model):
        reason = legacy_skip_reason(case)
        outcome = Outcome(case, [], None, reason) if reason else run_case(case)
        outcomes.append(outcome)
        print(f"{case.label:45s} {case.width}x{case.height} oneDNN {'on ' if case.mkldnn else 'off'} "
              f"{outcome.note or _fmt_seconds(outcome.median) + ' s'}  peak "
              f"{'-' if outcome.peak_rss_mb is None else f'{outcome.peak_rss_mb:.0f} MB'}", flush=True)
    command = "magiceraser bench " + " ".join(argv if argv is not None else sys.argv[1:])
    shared_lines = blas_probe.lines(blas, short=True) if "vector" in blas else blas["lines"]  # no local paths
    section = render(outcomes, command.strip(), shared_lines)
    if args.json:
        args.json.write_text(json.dumps({"command": command.strip(), "blas": blas, "results": [
            {**asdict(o.case), "seconds": o.seconds, "median": o.median, "peak_rss_mb": o.peak_rss_mb, "note": o.note}
            for o in outcomes]}, indent=2) + "\n")
    if args.output:
        write_section(args.output, section)
        print(f"wrote {SECTION[3:]!r} to {args.output}")
    else:
        print(section)
    note = send_back_note(platform.machine(), args.output, args.json)
    if note:
        print(note)
    return 0 if all(not o.note.startswith("failed") for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
