"""Where the tool keeps its own files: never under /usr or any system path."""

from __future__ import annotations

import os
from pathlib import Path

from rvforge import environment


def cache_dir() -> Path:
    """Tool-owned cache (sources, synthesized .pc files, build venvs, logs).

    ``RVFORGE_HOME`` overrides it (tests point it at a temp dir)."""
    env = environment.get("RVFORGE_HOME")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rvforge"


def user_data_dir() -> Path:
    """Per-user data that survives every deploy: models, config overrides, saved results."""
    env = environment.get("MAGICERASER_HOME")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "magiceraser"


#: What a --model flag may name, and how to get one.
MODEL_PATH_HINT = "give a big-lama directory, its models/best.ckpt or big-lama.pt (`invoke fetch-model` installs one)"


def models_dir() -> Path:
    """Installed LaMa weights: where ``invoke fetch-model`` puts them and the eraser looks."""
    return user_data_dir() / "models"
