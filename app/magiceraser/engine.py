"""The eraser's engine interface: what the HTTP API and the CLI call.

Importing this module never imports torch: without torch or without a model file the service
still starts, on the classical (numpy) engine, and info() says how to install LaMa.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from .lama.errors import INSTALL_HINT, ModelError
from .modelpath import resolve_model_path
from .strategy import InpaintOptions

__all__ = ["Engine", "InpaintOptions", "ModelError", "check_inputs", "load_engine", "resolve_model_path"]


class Engine(Protocol):
    """An inpainting engine; one instance serves every request (model loaded and warmed up once)."""

    name: str  # "lama" | "classical"

    def inpaint(self, rgb: np.ndarray, mask: np.ndarray, options: InpaintOptions | None = None) -> np.ndarray:
        """rgb (H,W,3) uint8, mask (H,W) bool (any nonzero = erase) -> (H,W,3) uint8.

        Pixels where mask is False are bit-identical to rgb. options=None uses the defaults."""
        ...

    def info(self) -> dict:
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


def load_engine(model: str | Path | None = None, threads: int | None = None, mkldnn: bool = True,
                warm_up: bool = True, trusted: bool = False) -> Engine:
    """The LaMa engine for the resolved model path, else the classical engine.

    model: --model value (a big-lama directory, its best.ckpt, or a TorchScript big-lama.pt);
    None falls back to MAGICERASER_MODEL, then the per-user data dir. threads: default all cores.
    mkldnn=False disables oneDNN (reproduces riscv64 torch). Raises ModelError when the chosen model
    is missing or corrupt; a missing torch gives the classical engine with a hint. trusted=True lets a
    checkpoint that the safe loaders refuse run its pickled code (only for files you made yourself)."""
    path = resolve_model_path(model)
    if path is None:
        from .classical import ClassicalEngine

        return ClassicalEngine()
    if not path.exists():
        raise ModelError(path, "no such file or directory")
    from . import threads as threading_setup

    threading_setup.prepare_environment(threads)
    try:
        import torch  # noqa: F401
    except ImportError:
        from .classical import ClassicalEngine

        return ClassicalEngine(f"torch is not installed, so the LaMa model {path} cannot run; "
                               f"install torch (the wheelhouse has one), then restart. {INSTALL_HINT}")
    from .lama.runner import LamaEngine

    return LamaEngine.load(path, threads=threads, mkldnn=mkldnn, warm_up=warm_up, trusted=trusted)
