"""What every inpainting engine promises the API and the CLI, and the input check they share.

Both engines (classical/engine.py, lama/runner.py) import this module and it imports neither, so the
torch-free classical engine never pulls in the LaMa one.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from .strategy import InpaintOptions


class Engine(Protocol):
    """An inpainting engine; one instance serves every request (model loaded and warmed up once)."""

    name: str  # "lama" | "classical"

    def inpaint(self, rgb: np.ndarray, mask: np.ndarray, options: InpaintOptions | None = None) -> np.ndarray:
        """rgb (H,W,3) uint8, mask (H,W) bool (any nonzero = erase) -> (H,W,3) uint8.

        Pixels where mask is False are bit-identical to rgb. options=None uses the defaults."""
        ...

    def info(self) -> dict[str, Any]:
        """{"engine", "model_path", "model_digest", "model_missing_hint", "torch_version", "threads",
        "mkldnn", "pixels_per_second"} - the last measured at warm-up, for UI time estimates."""
        ...


def check_inputs(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Validate the (rgb, mask) pair; return the mask as bool. Raises ValueError naming the problem."""
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"image must be an (H, W, 3) uint8 array, got {getattr(rgb, 'shape', None)} "
                         f"{getattr(rgb, 'dtype', type(rgb).__name__)}")
    mask = np.asarray(mask)
    if mask.shape != rgb.shape[:2]:
        raise ValueError(f"mask is {mask.shape[1::-1] if mask.ndim == 2 else mask.shape} but the image is "
                         f"{rgb.shape[1]}x{rgb.shape[0]}: they must have the same size")
    return mask.astype(bool, copy=False)
