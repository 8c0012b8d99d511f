"""The classical engine against OpenCV's Telea and Navier-Stokes on real photos, plus its speed.

    .venv/bin/python tests/app/bench_classical.py [--holes N] [--sheet docs/img/classical-contact-sheet.png]

Each photo gets N seeded object-sized ellipse holes (tests/app/inpaint_quality.py); every method
fills the same holes. Prints the markdown tables for docs/benchmarks.md ("Classical engine") and
writes a contact sheet: input, mask, Telea, this engine."""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inpaint_quality import (  # noqa: E402
    PHOTOS,
    Fill,
    ellipse,
    holed,
    object_holes,
    opencv_fill,
    photo,
    score,
    texture_ratio,
)

from magiceraser.classical.engine import ClassicalEngine  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHEET = REPO / "docs" / "img" / "classical-contact-sheet.png"
TILE = 220


def methods() -> dict[str, Fill]:
    return {"Telea": opencv_fill("telea"), "NS": opencv_fill("ns"), "classical": ClassicalEngine().inpaint}


def quality(holes_per_photo: int) -> list[dict]:
    """One row per photo: mean PSNR in the holes, texture ratio and seconds per hole for each method,
    and the texture ratio of the true photo (what a perfect fill would score)."""
    rows, fills = [], methods()
    for index, name in enumerate(PHOTOS):
        rgb = photo(name)
        scores: dict[str, list[tuple[float, float, float]]] = {method: [] for method in fills}
        truth = []
        for hole in object_holes(rgb.shape[:2], holes_per_photo, seed=index):
            truth.append(texture_ratio(rgb, hole))
            for method, fill in fills.items():
                start = time.perf_counter()
                psnr, texture, _ = score(fill, rgb, hole)
                scores[method].append((psnr, texture, time.perf_counter() - start))
        row = {"photo": f"{name} {rgb.shape[1]}x{rgb.shape[0]}", "holes": holes_per_photo, "truth": np.mean(truth)}
        for method, values in scores.items():
            row[method] = np.mean(values, axis=0)
        rows.append(row)
        print(f"{name}: " + ", ".join(f"{m} {row[m][0]:.2f} dB" for m in scores), file=sys.stderr)
    return rows


def quality_table(rows: list[dict]) -> str:
    names = list(methods())
    lines = ["| photo | holes | " + " | ".join(f"PSNR {m}" for m in names) + " | "
             + " | ".join(f"texture {m}" for m in names) + " | texture truth | s/hole classical |",
             "|---" * (4 + 2 * len(names)) + "|"]
    total = {"photo": "**mean**", "holes": sum(r["holes"] for r in rows), "truth": np.mean([r["truth"] for r in rows])}
    total.update({m: np.mean([r[m] for r in rows], axis=0) for m in names})
    for row in rows + [total]:
        lines.append(f"| {row['photo']} | {row['holes']} | " + " | ".join(f"{row[m][0]:.2f}" for m in names)
                     + " | " + " | ".join(f"{row[m][1]:.2f}" for m in names)
                     + f" | {row['truth']:.2f} | {row['classical'][2]:.2f} |")
    return "\n".join(lines)


SPEED_CASES = (((1280, 720), (200, 150), 5), ((1920, 1080), (600, 400), 1), ((1920, 1080), (900, 600), 1),
               ((4000, 3000), (2800, 2100), 1))


def speed(size: tuple[int, int], hole_size: tuple[int, int], runs: int) -> str:
    """One centred ellipse in scikit-image's coffee resized to ``size``: wall and CPU time, and the
    peak numpy memory of one more run.

    The engine is single-threaded numpy, so on a busy machine wall time exceeds CPU time by the
    share of the core other jobs take; the load average is printed with it."""
    rgb = np.asarray(Image.fromarray(data.coffee()).resize(size, Image.Resampling.LANCZOS))
    hole = ellipse(rgb.shape[:2], (size[0] / 2, size[1] / 2), (hole_size[0] / 2, hole_size[1] / 2))
    engine = ClassicalEngine()
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        engine.inpaint(rgb, hole)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    tracemalloc.start()
    engine.inpaint(rgb, hole)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    load = "/".join(f"{value:.1f}" for value in os.getloadavg())
    return (f"| {size[0]}x{size[1]} coffee, {hole_size[0]}x{hole_size[1]} ellipse | {runs} | {np.median(times):.2f} s "
            f"| {min(times):.2f} s | {np.median(cpu):.2f} s | {peak / 2 ** 20:.0f} MB | {load} |")


def _tile(image: np.ndarray, box: tuple[slice, slice], label: str) -> Image.Image:
    crop = Image.fromarray(image[box])
    scale = TILE / max(crop.size)
    crop = crop.resize((round(crop.width * scale), round(crop.height * scale)), Image.Resampling.LANCZOS)
    tile = Image.new("RGB", (TILE, TILE + 16), "white")
    tile.paste(crop, ((TILE - crop.width) // 2, 16))
    ImageDraw.Draw(tile).text((4, 2), label, fill="black")
    return tile


def _box(hole: np.ndarray, margin: int) -> tuple[slice, slice]:
    rows, cols = np.nonzero(hole.any(axis=1))[0], np.nonzero(hole.any(axis=0))[0]
    return (slice(max(rows[0] - margin, 0), rows[-1] + margin + 1),
            slice(max(cols[0] - margin, 0), cols[-1] + margin + 1))


def sheet_cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The issue's coffee box (cup rim, saucer, table) and the first seeded hole of a few photos."""
    coffee = photo("coffee")
    box = np.zeros(coffee.shape[:2], bool)
    box[60:170, 70:210] = True
    cases = [("coffee, 140x110 box", coffee, box)]
    for name in ("astronaut", "brick", "chelsea", "motorcycle"):
        rgb = photo(name)
        cases.append((name, rgb, next(object_holes(rgb.shape[:2], 1, seed=PHOTOS.index(name)))))
    return cases


def contact_sheet(path: Path) -> None:
    telea, engine = opencv_fill("telea"), ClassicalEngine()
    rows = []
    for label, rgb, hole in sheet_cases():
        box = _box(hole, 40)
        cut = holed(rgb, hole)
        mask = np.repeat(hole[..., None] * np.uint8(255), 3, axis=2)
        tiles = [_tile(rgb, box, f"original: {label}"), _tile(mask, box, "mask"),
                 _tile(telea(cut, hole), box, "OpenCV Telea"), _tile(engine.inpaint(cut, hole), box, "classical")]
        row = Image.new("RGB", (TILE * len(tiles), TILE + 16), "white")
        for i, tile in enumerate(tiles):
            row.paste(tile, (i * TILE, 0))
        rows.append(row)
    out = Image.new("RGB", (rows[0].width, sum(r.height for r in rows)), "white")
    for i, row in enumerate(rows):
        out.paste(row, (0, i * row.height))
    path.parent.mkdir(parents=True, exist_ok=True)
    out.save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holes", type=int, default=6, help="holes per photo")
    parser.add_argument("--sheet", type=Path, default=SHEET, help="contact sheet PNG to write")
    args = parser.parse_args()
    print(quality_table(quality(args.holes)))
    print()
    print("| case | runs | median wall | best wall | median CPU | peak numpy memory | load average (1/5/15 min) |")
    print("|---|---|---|---|---|---|---|")
    for case in SPEED_CASES:
        print(speed(*case))
    contact_sheet(args.sheet)
    print(f"\ncontact sheet: {args.sheet.relative_to(REPO) if args.sheet.is_relative_to(REPO) else args.sheet}")


if __name__ == "__main__":
    main()
