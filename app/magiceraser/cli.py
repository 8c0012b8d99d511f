"""``magiceraser erase | serve | bench``: batch erasing, the local web server, the benchmark."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from . import bench
from .common import write_atomic
from .contract import Engine
from .engine import load_engine
from .erase_bytes import erase, parse_options
from .errors import ModelError, UsageError
from .imageio import DEFAULT_MAX_PIXELS, SUPPORTED_FORMATS
from .progress import Progress
from .server import create_app, serve
from .strategy import InpaintOptions

OPTION_FIELDS = ("strategy", "crop_trigger", "crop_margin", "resize_limit")
IMAGE_SUFFIXES = {ext for ext, fmt in Image.registered_extensions().items() if fmt in SUPPORTED_FORMATS}


@dataclass
class Job:
    image: Path
    mask: Path | None
    problem: str | None
    output: Path


def _is_image(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_SUFFIXES


def _mask_for(image: Path, mask_arg: Path) -> tuple[Path | None, str | None]:
    if mask_arg.is_file():
        return mask_arg, None
    matches = sorted(p for p in mask_arg.iterdir() if p.stem == image.stem and _is_image(p))
    if not matches:
        return None, f"no mask named {image.stem}.* in {mask_arg}"
    return matches[0], None


def plan_jobs(image_arg: Path, mask_arg: Path, out_arg: Path) -> list[Job]:
    """Pair every image with its mask and output path; refuse anything that would overwrite an input."""
    if not image_arg.exists():
        raise UsageError(f"{image_arg} does not exist")
    if not mask_arg.exists():
        raise UsageError(f"mask {mask_arg} does not exist")
    if image_arg.is_dir():
        images = sorted(p for p in image_arg.iterdir() if _is_image(p))
        if not images:
            raise UsageError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {image_arg}")
        if out_arg.is_file():
            raise UsageError(f"-o {out_arg} is a file; give a directory for a directory of images")
        if out_arg.resolve() == image_arg.resolve():
            raise UsageError(f"-o {out_arg} is the input directory; choose another so no input is overwritten")
        outputs = [out_arg / image.name for image in images]
    else:
        images = [image_arg]
        to_dir = out_arg.is_dir() or str(out_arg).endswith(os.sep)
        outputs = [out_arg / image_arg.name if to_dir else out_arg]
    jobs = [Job(image, *_mask_for(image, mask_arg), output) for image, output in zip(images, outputs)]
    inputs = {p.resolve() for job in jobs for p in (job.image, job.mask) if p is not None}
    for job in jobs:
        if job.output.resolve() in inputs:
            job.problem = f"output {job.output} would overwrite an input; choose another -o"
    return jobs


def _suffix_problem(job: Job, fmt: str) -> str | None:
    """An explicit output name with another image type's extension would mislabel the file."""
    if job.output.suffix.lower() == job.image.suffix.lower():
        return None
    wanted = Image.registered_extensions().get(job.output.suffix.lower())
    if wanted and wanted != fmt:
        return f"output {job.output.name} names a {wanted} file but the image is {fmt}; results keep the input's format"
    return None


def _options(args: argparse.Namespace) -> InpaintOptions | None:
    given = {name: getattr(args, name) for name in OPTION_FIELDS if getattr(args, name) is not None}
    try:
        return parse_options(given)
    except ValueError as exc:
        raise UsageError(f"bad option: {exc}") from None


def _load_engine(args: argparse.Namespace, warm_up: bool) -> Engine:
    try:
        return load_engine(model=args.model, threads=args.threads, mkldnn=args.mkldnn, warm_up=warm_up)
    except ModelError as exc:
        raise UsageError(str(exc)) from None


def cmd_erase(args: argparse.Namespace) -> int:
    jobs = plan_jobs(Path(args.image), Path(args.mask), Path(args.output))
    options = _options(args)
    engine = _load_engine(args, warm_up=False)  # a batch needs no speed estimate; image 1 warms up
    progress = Progress(len(jobs))
    failed: list[tuple[Job, str]] = []
    for job in jobs:
        problem = job.problem
        if problem is None:
            try:
                erased = erase(engine, job.image.read_bytes(), job.mask.read_bytes(), options,
                               max_pixels=args.max_pixels)
                problem = _suffix_problem(job, erased.format)
                if problem is None:
                    write_atomic(job.output, erased.data)
            except Exception as exc:  # one bad file must not stop the batch; it is reported below
                problem = str(exc) or type(exc).__name__
        if problem is not None:
            failed.append((job, problem))
        progress.step(job.image.name, "ok" if problem is None else f"FAILED ({problem})")
    print(f"erased {len(jobs) - len(failed)} of {len(jobs)} image(s) -> {args.output}", file=sys.stderr)
    for job, problem in failed:
        print(f"  failed: {job.image}: {problem}", file=sys.stderr)
    return 1 if failed else 0


def cmd_serve(args: argparse.Namespace) -> int:
    config = {"MAX_WAITING": args.max_waiting, "MAX_PIXELS": args.max_pixels, "CORS_ORIGINS": args.cors_origin,
              "MAX_CONTENT_LENGTH": int(args.max_request_mb * 2**20), "ENGINE": _load_engine(args, warm_up=True)}
    try:
        serve(create_app(config), host=args.host, port=args.port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc}; is another server using the port? "
                         "try --port") from None
    return 0


def _engine_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="LaMa model directory (config.yaml + models/best.ckpt) or file; "
                                        "default: $MAGICERASER_MODEL or the per-user data dir")
    parser.add_argument("--threads", type=int, help="torch CPU threads, fixed (default: per request, the cores "
                        "other programs leave idle)")
    parser.add_argument("--no-mkldnn", dest="mkldnn", action="store_false",
                        help="disable oneDNN, so an x86 host behaves like a riscv64 torch build")
    parser.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                        help=f"refuse images above this many pixels (default {DEFAULT_MAX_PIXELS:,})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="magiceraser", description="Offline AI photo eraser (LaMa).")
    sub = parser.add_subparsers(dest="command", required=True)

    erase_cmd = sub.add_parser("erase", help="erase the masked areas of one image or a directory of images")
    erase_cmd.add_argument("image", help="image file or directory of images")
    erase_cmd.add_argument("--mask", required=True,
                       help="mask file (used for every image) or directory of masks matched by file stem")
    erase_cmd.add_argument("-o", "--output", required=True, help="output file, or directory (created if needed)")
    erase_cmd.add_argument("--strategy", help="original | crop | resize (default: the engine's)")
    erase_cmd.add_argument("--crop-trigger", type=int, help="long side above which the crop strategy kicks in")
    erase_cmd.add_argument("--crop-margin", type=int, help="context margin around each masked area, in pixels")
    erase_cmd.add_argument("--resize-limit", type=int, help="long side the resize strategy scales down to")
    _engine_flags(erase_cmd)
    erase_cmd.set_defaults(func=cmd_erase)

    serve_cmd = sub.add_parser("serve", help="run the web UI and HTTP API")
    serve_cmd.add_argument("--host", default="127.0.0.1",
                           help="address to listen on (default 127.0.0.1: this machine only)")
    serve_cmd.add_argument("--port", type=int, default=7777, help="port (default 7777, what the 2024 client expects)")
    serve_cmd.add_argument("--max-waiting", type=int, default=2, help="requests allowed to wait before 503 (default 2)")
    serve_cmd.add_argument("--max-request-mb", type=float, default=100,
                       help="refuse request bodies above this size in MiB (default 100)")
    serve_cmd.add_argument("--cors-origin", action="append",
                       help="browser origin allowed to call the API (repeatable; '*' for any; default: loopback)")
    _engine_flags(serve_cmd)
    serve_cmd.set_defaults(func=cmd_serve)

    sub.add_parser("bench", add_help=False, help="time the engine on this machine (see magiceraser bench --help)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        return bench.main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"magiceraser {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
