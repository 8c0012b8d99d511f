"""Load IOPaint's TorchScript ``big-lama.pt``: forward(image, mask) -> composited image.

When the scripted module carries the big-lama generator weights under their usual names (it is
a trace of the official model), they are moved into this package's generator, so the banded
convolutions bound memory exactly as for the checkpoint (BatchNorm folded, fold.py). Otherwise
the scripted graph runs as is (with the profiling executor off, as IOPaint does).
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import ModelError
from .ffc import FFCResNetGenerator, generator_holding
from .fold import fold_batchnorm
from .predictor import Predictor, generator_predictor
from .tiling import Tiling
from .weights.config import BIG_LAMA
from .weights.spec import expected_shapes

_ANCHOR = "model.1.ffc.convl2l.weight"


def _profiling_off() -> None:
    """Without this the 2nd/3rd forward of a scripted model re-profiles and is very slow."""
    torch._C._jit_set_profiling_executor(False)
    torch._C._jit_set_profiling_mode(False)
    torch._C._jit_override_can_fuse_on_cpu(False)
    torch._C._jit_override_can_fuse_on_gpu(False)
    torch._C._jit_set_texpr_fuser_enabled(False)


def native_generator(module: torch.nn.Module, tiling: Tiling | None) -> FFCResNetGenerator | None:
    """The scripted model's big-lama weights in an FFCResNetGenerator, or None if they are not all there."""
    state = module.state_dict()
    expected = expected_shapes(BIG_LAMA, prefix="")
    for anchor in (key for key in state if key.endswith(_ANCHOR)):
        prefix = anchor[: -len(_ANCHOR)]
        found = {key: state.get(prefix + key) for key in expected}
        if all(t is not None and tuple(t.shape) == shape for (key, shape), t in zip(expected.items(), found.values())):
            return generator_holding(found, BIG_LAMA, tiling)
    return None


def load_jit(path: str | Path, tiling: Tiling | None = None) -> Predictor:
    """The scripted model as a Predictor (padded image and binary mask in, composited image out)."""
    path = Path(path)
    _profiling_off()
    try:
        module = torch.jit.load(str(path), map_location="cpu").eval()
    except (RuntimeError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise ModelError(path, f"not a loadable TorchScript model (truncated or not big-lama.pt?): {first}",
                         hint="download it again with `invoke fetch-model --kind big-lama-jit`") from None
    generator = native_generator(module, tiling)
    if generator is not None:
        return generator_predictor(fold_batchnorm(generator))

    def predict(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return module(image, mask)

    return predict
