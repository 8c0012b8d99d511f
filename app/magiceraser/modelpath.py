"""Where the LaMa weights are: --model, then MAGICERASER_MODEL, then the per-user data dir.

The per-user dir mirrors rvforge.paths.user_data_dir() (the eraser must not import rvforge):
``$MAGICERASER_HOME`` or ``$XDG_DATA_HOME/magiceraser`` (default ~/.local/share/magiceraser), with
``models/big-lama/`` (official config.yaml + models/best.ckpt) preferred over ``models/big-lama.pt``
(IOPaint's TorchScript export) - the layout ``invoke fetch-model`` installs.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_MODEL = "MAGICERASER_MODEL"


def user_data_dir() -> Path:
    """Per-user data that survives deploys (same rule as rvforge.paths.user_data_dir)."""
    env = os.environ.get("MAGICERASER_HOME")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "magiceraser"


def default_candidates() -> list[Path]:
    """Installed model locations in order of preference."""
    models = user_data_dir() / "models"
    return [models / "big-lama", models / "big-lama.pt"]


def resolve_model_path(explicit: str | os.PathLike | None) -> Path | None:
    """The model the user asked for (even if it does not exist, so the error can name it),
    else the first installed default, else None (the classical engine is used)."""
    for chosen in (explicit, os.environ.get(ENV_MODEL)):
        if chosen:
            return Path(chosen).expanduser()
    for candidate in default_candidates():
        if (candidate / "config.yaml").is_file() or candidate.is_file():
            return candidate
    return None


def public_model_path(path: Path) -> str:
    """How health and logs name the model: relative to the models dir when it is installed there,
    else its file name, so no answer reveals the server's home directory or folder layout."""
    models = (user_data_dir() / "models").absolute()
    try:
        return Path(path).absolute().relative_to(models).as_posix()
    except ValueError:
        return Path(path).name
