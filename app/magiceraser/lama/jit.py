"""Load IOPaint's TorchScript ``big-lama.pt``: forward(image, mask) -> composited image."""

from __future__ import annotations

from pathlib import Path

import torch

from .errors import ModelError
from .pipeline import Predictor


def _profiling_off() -> None:
    """Without this the 2nd/3rd forward of a scripted model re-profiles and is very slow."""
    torch._C._jit_set_profiling_executor(False)
    torch._C._jit_set_profiling_mode(False)
    torch._C._jit_override_can_fuse_on_cpu(False)
    torch._C._jit_override_can_fuse_on_gpu(False)
    torch._C._jit_set_texpr_fuser_enabled(False)


def load_jit(path: str | Path) -> Predictor:
    """The scripted model as a Predictor (padded image and binary mask in, composited image out)."""
    path = Path(path)
    _profiling_off()
    try:
        module = torch.jit.load(str(path), map_location="cpu").eval()
    except (RuntimeError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise ModelError(path, f"not a loadable TorchScript model (truncated or not big-lama.pt?): {first}",
                         hint="download it again with `invoke fetch-model --kind big-lama-jit`") from None

    def predict(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return module(image, mask)

    return predict
