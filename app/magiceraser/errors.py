"""Every error the eraser reports to a user, each naming what went wrong and how to fix it.

Standard library only: the torch-free model checks (``magiceraser.lama.weights``) raise these where
neither torch nor numpy is installed.
"""

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


class ImageError(Exception):
    """A problem with an uploaded image or mask; ``status`` is the HTTP status it maps to."""

    status = 400


class UndecodableImage(ImageError):
    """Not an image at all, truncated, or not valid base64."""


class UnsupportedImage(ImageError):
    """A real image in a format, type or layout the eraser does not handle."""

    status = 415


class ImageTooLarge(ImageError):
    """More pixels than the server's limit; refused before any pixel is decoded."""

    status = 413


class MaskError(ImageError):
    """The mask does not fit the image or marks nothing to erase."""


class ApiError(Exception):
    """A client mistake in the request itself (not in the image): JSON error with ``status``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class QueueFull(Exception):
    """Too many requests waiting; ``retry_after`` is a whole-second estimate for the client."""

    def __init__(self, waiting: int, retry_after: int) -> None:
        super().__init__(f"server busy: {waiting} request(s) already waiting for the eraser; retry in {retry_after} s")
        self.retry_after = retry_after


class UsageError(Exception):
    """The command line itself cannot work (exit 2); per-file problems are reported and skipped instead."""
