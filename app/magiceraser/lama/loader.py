"""Load the official big-lama checkpoint directory into FFCResNetGenerator without running pickled code.

Lightning checkpoints carry more than tensors (callback state keyed by class, maybe OmegaConf
hyper-parameters). torch's weights_only unpickler refuses those classes, so the fallback is an
unpickler that resolves only torch's tensor-rebuild helpers and turns every other class into an
inert stub: nothing from the file is imported or executed. ``trusted=True`` allows a plain load.
"""

from __future__ import annotations

import pickle
import types
import zipfile
from pathlib import Path

import torch

from ..errors import CheckpointError, ModelError
from .ffc import FFCResNetGenerator, generator_holding
from .tiling import Tiling
from .weights.checkpoint_index import stub_class
from .weights.config import load_config

PREFIX = "generator."
_TORCH_REBUILDERS = {("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"),
                     ("torch._utils", "_rebuild_parameter_with_state"), ("torch", "device"),
                     ("collections", "OrderedDict"), ("torch", "Size")}


class _StubUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _TORCH_REBUILDERS:
            return super().find_class(module, name)
        if module == "torch" and name.endswith("Storage"):
            return getattr(torch, name)
        if module == "builtins" and name in ("set", "frozenset", "slice", "complex", "tuple", "list", "dict"):
            return super().find_class(module, name)
        return stub_class(module, name)


_STUB_PICKLE = types.SimpleNamespace(Unpickler=_StubUnpickler, load=pickle.load,
                                     UnpicklingError=pickle.UnpicklingError, __name__="stub_pickle")


def checkpoint_paths(path: str | Path) -> tuple[Path, Path]:
    """(config.yaml, best.ckpt) for a big-lama directory or a best.ckpt file inside one."""
    path = Path(path)
    if path.is_dir():
        ckpt = path / "models" / "best.ckpt"
        if not ckpt.is_file():
            found = sorted(path.glob("models/*.ckpt"))
            if not found:
                raise CheckpointError(path, "no models/best.ckpt in this directory",
                                      hint="unpack big-lama.zip so it holds config.yaml and models/best.ckpt")
            ckpt = found[0]
        return path / "config.yaml", ckpt
    return path.parent.parent / "config.yaml", path


def _torch_load(ckpt: Path, trusted: bool) -> object:
    try:
        if trusted:
            return torch.load(ckpt, map_location="cpu", weights_only=False)
        try:
            return torch.load(ckpt, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:
            return torch.load(ckpt, map_location="cpu", weights_only=False, pickle_module=_STUB_PICKLE)
    except (zipfile.BadZipFile, EOFError, RuntimeError, pickle.UnpicklingError, ValueError, KeyError,
            AttributeError, TypeError, OSError) as exc:
        raise CheckpointError(ckpt, f"cannot read the checkpoint (truncated or corrupt?): {exc}",
                              hint="download big-lama again with `invoke fetch-model`") from None


def generator_state(ckpt: Path, trusted: bool = False) -> dict[str, torch.Tensor]:
    """The checkpoint's ``generator.*`` tensors with the prefix stripped."""
    data = _torch_load(ckpt, trusted)
    state = data.get("state_dict", data) if isinstance(data, dict) else None
    if not isinstance(state, dict):
        raise CheckpointError(ckpt, "no state_dict in the checkpoint")
    found = {key[len(PREFIX):]: value for key, value in state.items()
             if isinstance(key, str) and key.startswith(PREFIX) and isinstance(value, torch.Tensor)}
    if not found:
        raise CheckpointError(ckpt, "the checkpoint holds no generator.* weights")
    return found


def load_generator(path: str | Path, tiling: Tiling | None = None, trusted: bool = False) -> FFCResNetGenerator:
    """Build the generator from config.yaml and load best.ckpt strictly (eval mode, CPU, no grad)."""
    config_path, ckpt = checkpoint_paths(path)
    cfg = load_config(config_path)
    state = generator_state(ckpt, trusted)
    try:
        return generator_holding(state, cfg, tiling)
    except RuntimeError as exc:
        detail = str(exc).splitlines()
        raise ModelError(ckpt, f"weights do not match {config_path.name}: {' '.join(detail[1:3])[:400]}",
                         hint="use the config.yaml that came with this checkpoint") from None
