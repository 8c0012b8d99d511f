"""Helpers of the fault tests: an installed model, a small erase request."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import requests
from PIL import Image


def install(tiny_model: Path, home: Path) -> Path:
    """The tiny model where ``invoke fetch-model`` puts big-lama: HOME/models/big-lama."""
    target = home / "models" / "big-lama"
    shutil.copytree(tiny_model, target)
    return target


def png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, "PNG")
    return out.getvalue()


def erase(url: str, size: tuple[int, int] = (64, 48), timeout: float = 120, **fields: str) -> requests.Response:
    """POST a seeded photo and a rectangle mask to /api/v1/inpaint as multipart."""
    width, height = size
    rgb = np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)
    mask = np.zeros((height, width), np.uint8)
    mask[height // 4: height // 2, width // 4: width // 2] = 255
    return requests.post(f"{url}/api/v1/inpaint", timeout=timeout, data=fields,
                         files={"image": ("photo.png", png(rgb)), "mask": ("mask.png", png(mask))})
