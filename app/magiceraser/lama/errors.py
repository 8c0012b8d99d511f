"""Model errors that name the offending file and the fix; torch-free so fetch-model can use them."""

from __future__ import annotations

from pathlib import Path

INSTALL_HINT = "install the LaMa weights with `invoke fetch-model` (or pass --model / set MAGICERASER_MODEL)"


class ModelError(Exception):
    """A model file or directory is missing, corrupt or not a LaMa big-lama generator."""

    def __init__(self, path: str | Path, problem: str, hint: str = INSTALL_HINT) -> None:
        self.path = Path(path)
        self.problem = problem
        self.hint = hint
        super().__init__(f"{path}: {problem}\n  fix: {hint}")


class ConfigError(ModelError):
    """config.yaml is unreadable or describes a generator this engine does not implement."""


class CheckpointError(ModelError):
    """best.ckpt (a torch.save zip) is truncated, corrupt or lacks the generator weights."""
