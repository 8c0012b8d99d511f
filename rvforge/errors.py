"""Typed errors: each kind carries its exit code and a message that names the fix.

Tasks catch ``ForgeError`` at the edge and print ``str(err)`` (never a traceback).
"""

from __future__ import annotations


class ForgeError(Exception):
    """Base of every error the tool reports to the user."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.hint}" if self.hint else self.message


class ConfigError(ForgeError):
    """A profile, recipe or target file, or a command-line flag, is missing or malformed."""

    exit_code = 2


class CheckFailed(ForgeError):
    """A blocking doctor check failed."""

    exit_code = 3


class SourceError(ForgeError):
    """A source could not be fetched or did not match its sha256."""

    exit_code = 4


class BuildFailed(ForgeError):
    """A package build or its import test failed."""

    exit_code = 5


class DeployError(ForgeError):
    """A deploy step failed; the running release was left untouched."""

    exit_code = 6


class ModelError(ForgeError):
    """A model file is missing, corrupt or does not match its architecture."""

    exit_code = 7


class EmulationError(ForgeError):
    """The riscv64 userland could not be created, entered or used."""

    exit_code = 8


class GuestLingered(EmulationError):
    """A guest command finished but left processes that kept the emulated session open."""


class Busy(ForgeError):
    """Another run holds what this run needs: the build cache, a deploy prefix or the models dir."""

    exit_code = 9
