"""Compare an erased image with the LaMa reference golden result.

    python golden_compare.py RESULT.png REFERENCE_DIR

Passes when every pixel is within +-1 of ``result_uint8`` (the reference tolerance: a few
hole pixels sit within 1e-3 of a rounding edge) and every pixel outside the mask is exactly
the input's. Needs only numpy and Pillow, so it runs with a deployed release's Python.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image


def compare(result_path: Path, reference: Path) -> list[str]:
    """Problems found (empty when the result matches)."""
    golden = np.load(reference / "golden.npz")["result_uint8"].astype(np.int16)
    image = np.asarray(Image.open(reference / "image.png").convert("RGB"), dtype=np.int16)
    hole = np.asarray(Image.open(reference / "mask.png").convert("L")) > 0
    result = np.asarray(Image.open(result_path).convert("RGB"), dtype=np.int16)
    if result.shape != golden.shape:
        return [f"result is {result.shape[1]}x{result.shape[0]}, golden is {golden.shape[1]}x{golden.shape[0]}"]
    problems = []
    diff = np.abs(result - golden)
    if diff.max() > 1:
        problems.append(f"{int((diff.max(axis=2) > 1).sum())} pixels differ from the golden result by more "
                        f"than 1 (max {int(diff.max())})")
    changed = np.any(result != image, axis=2) & ~hole
    if changed.any():
        problems.append(f"{int(changed.sum())} pixels outside the mask changed")
    if not np.any(result != image, axis=2)[hole].any():
        problems.append("no pixel inside the mask changed: nothing was erased")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    problems = compare(Path(argv[0]), Path(argv[1]))
    for problem in problems:
        print(f"golden mismatch: {problem}", file=sys.stderr)
    if not problems:
        print("result matches the golden result; only masked pixels changed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
