"""Which engine serves: LaMa when a model is found and torch loads, else the classical one.

Importing this module never imports torch: without torch or without a model file the service
still starts, on the classical (numpy) engine, and info() says how to install LaMa.
"""

from __future__ import annotations

import os
from pathlib import Path

from .classical.engine import ClassicalEngine
from .contract import Engine
from .errors import INSTALL_HINT, ModelError
from .modelpath import ENV_MODEL, default_candidates, public_model_path, resolve_model_path
from .threads import prepare_environment


def load_engine(model: str | Path | None = None, threads: int | None = None, mkldnn: bool = True,
                warm_up: bool = True, trusted: bool = False) -> Engine:
    """The LaMa engine for the resolved model path, else the classical engine.

    model: --model value (a big-lama directory, its best.ckpt, or a TorchScript big-lama.pt);
    None falls back to MAGICERASER_MODEL, then the per-user data dir. threads: default all cores.
    mkldnn=False disables oneDNN (reproduces riscv64 torch). Raises ModelError when the model named by
    --model or MAGICERASER_MODEL is missing or corrupt (a damaged installed one gives the classical
    engine and a hint); a missing torch gives the classical engine with a hint. trusted=True lets a
    checkpoint that the safe loaders refuse run its pickled code (only for files you made yourself)."""
    path = resolve_model_path(model)
    if path is None:
        return ClassicalEngine()
    if not path.exists():
        raise ModelError(path, "no such file or directory")
    prepare_environment(threads)  # thread pools and allocator caches are sized before torch loads
    try:
        import torch  # noqa: F401  (optional: the classical engine needs none)
    except ImportError:
        return ClassicalEngine(f"torch is not installed, so the LaMa model {path} cannot run; "
                               f"install torch (the wheelhouse has one), then restart. {INSTALL_HINT}")
    from .lama.runner import LamaEngine  # imports torch, so only once torch is known to load

    try:
        return LamaEngine.load(path, threads=threads, mkldnn=mkldnn, warm_up=warm_up, trusted=trusted)
    except ModelError as exc:
        if model or os.environ.get(ENV_MODEL) or path not in default_candidates():
            raise  # a model the user named: starting without it would hide the mistake
        # The installed model is damaged (a disk error, a file edited by hand): erasing still works.
        return ClassicalEngine(f"the installed LaMa model {public_model_path(path)} cannot be loaded "
                               f"({exc.problem}); reinstall it with `invoke fetch-model`, then restart")
