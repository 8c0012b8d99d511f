"""Time the image side of one erase (decode image + mask, compose + encode) at photo sizes.

    .venv/bin/python tests/app/bench_imageio.py

Prints a markdown table for docs/benchmarks.md ("Image I/O around the engine")."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eraser_samples import box_mask, encode  # noqa: E402

from magiceraser.imageio import decode_image, decode_mask  # noqa: E402

SIZES = [(1920, 1080), (4032, 3024)]
FORMATS = [("JPEG", {"quality": 90}), ("PNG", {})]


def best_of(runs: int, raw: bytes, mask: bytes) -> tuple[float, float, int]:
    decode_times, encode_times = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        decoded = decode_image(raw)
        hole = decode_mask(mask, decoded.size)
        t1 = time.perf_counter()
        out = decoded.encode(decoded.rgb, hole)
        encode_times.append(time.perf_counter() - t1)
        decode_times.append(t1 - t0)
    return min(decode_times), min(encode_times), len(out)


def main() -> None:
    tile = data.astronaut()
    print("| input | file | decode image + mask | compose + encode | result file |")
    print("|---|---|---|---|---|")
    for width, height in SIZES:
        pixels = np.ascontiguousarray(np.tile(tile, (height // 512 + 1, width // 512 + 1, 1))[:height, :width])
        mask = encode(box_mask(height, width))
        for fmt, params in FORMATS:
            raw = encode(pixels, fmt, **params)
            decode_s, encode_s, size = best_of(3, raw, mask)
            print(f"| {width}x{height} {fmt} | {len(raw) // 1024} KiB | {decode_s:.2f} s | {encode_s:.2f} s "
                  f"| {size // 1024} KiB |")


if __name__ == "__main__":
    main()
