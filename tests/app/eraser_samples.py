"""Small test images and masks (skimage photos) as the bytes and data URLs clients send."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image
from skimage import data


def photo(height: int = 96, width: int = 128) -> np.ndarray:
    """A crop of a real photo (astronaut), resized to the asked size."""
    return np.asarray(Image.fromarray(data.astronaut()).resize((width, height), Image.Resampling.BILINEAR))


def box_mask(height: int, width: int) -> np.ndarray:
    """A filled box in the middle third: True = erase."""
    mask = np.zeros((height, width), bool)
    mask[height // 3: 2 * height // 3, width // 3: 2 * width // 3] = True
    return mask


def encode(pixels: np.ndarray | Image.Image, fmt: str = "PNG", **params) -> bytes:
    im = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def mask_png(mask: np.ndarray) -> bytes:
    """The 2024 client's mask: opaque RGBA, white = erase, black = keep."""
    white = np.where(mask, 255, 0).astype(np.uint8)
    return encode(np.dstack([white, white, white, np.full_like(white, 255)]))


def data_url(raw: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}"


def decode(raw: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(raw))
    im.load()
    return im
