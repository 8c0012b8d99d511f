"""The official LaMa prediction contract around a model: pad, mask, blend, crop, truncate to uint8.

Pixels outside the mask survive bit-exactly: k/255*255 truncates back to k for every k.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from .region import mask_box

MODULO = 8
MIN_SIZE = 16  # the 1/8-scale feature map needs 2 px for the reflect padding of the 3x3 convs
# (image (1,3,H,W) in [0,1], binary mask (1,1,H,W)) -> composited image (1,3,H,W)
Predictor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def pad_to_modulo(array: np.ndarray, modulo: int = MODULO, min_size: int = MIN_SIZE) -> np.ndarray:
    """Pad a CHW array at the bottom/right to a multiple of ``modulo`` (and at least ``min_size``),
    repeating the edge ('symmetric') as the official code does."""
    _, h, w = array.shape
    pad_h, pad_w = max(min_size, h + -h % modulo) - h, max(min_size, w + -w % modulo) - w
    return np.pad(array, ((0, 0), (0, pad_h), (0, pad_w)), mode="symmetric")


def generator_predictor(generator: torch.nn.Module) -> Predictor:
    """Wrap a raw generator: masked image + mask in, mask*pred + (1-mask)*image out. The prediction
    is needed only inside the mask's bounding box (region.py)."""

    def predict(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        pred = generator(torch.cat([image * (1 - mask), mask], dim=1), needed=mask_box(mask))
        return mask * pred + (1 - mask) * image

    return predict


def to_uint8(result_hwc: np.ndarray) -> np.ndarray:
    """Truncate like the official code (np.clip(x*255).astype), not round."""
    return np.clip(result_hwc * 255, 0, 255).astype(np.uint8)


def inpaint_float(predict: Predictor, rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(H,W,3) uint8 + (H,W) mask (nonzero = erase) -> (H,W,3) float32 composited result in [0,1]."""
    h, w = mask.shape
    image = pad_to_modulo(rgb.transpose(2, 0, 1).astype(np.float32) / 255)
    hole = (pad_to_modulo(mask[None].astype(np.float32)) > 0).astype(np.float32)
    with torch.inference_mode():
        out = predict(torch.from_numpy(image)[None], torch.from_numpy(hole)[None])
    return out[0, :, :h, :w].permute(1, 2, 0).numpy()


def inpaint_uint8(predict: Predictor, rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """inpaint_float converted to uint8; unmasked pixels are copied from ``rgb`` bit for bit."""
    result = to_uint8(inpaint_float(predict, rgb, mask))
    keep = mask == 0
    result[keep] = rgb[keep]
    return result
