"""Runs a task body and turns ``ForgeError`` into a message plus the error's exit code."""

from __future__ import annotations

import importlib
import sys
from typing import Any

from invoke import Exit

from .errors import ForgeError


def run(target: str, **kwargs: Any) -> Any:
    """Call ``module:function`` (imported lazily so ``invoke --list`` stays instant)."""
    module_name, _, func_name = target.partition(":")
    func = getattr(importlib.import_module(module_name), func_name)
    try:
        return func(**kwargs)
    except ForgeError as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        raise Exit(code=err.exit_code) from None
    except KeyboardInterrupt:
        print("interrupted: finished work is kept; run the same command again to continue", file=sys.stderr)
        raise Exit(code=130) from None
