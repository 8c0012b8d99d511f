"""The error edge of every task: ``ForgeError`` becomes its message and exit code, never a traceback."""

from __future__ import annotations

import sys
from typing import Any, Callable, TypeVar

from invoke.exceptions import Exit

from rvforge.errors import ForgeError

T = TypeVar("T")


def run_task(body: Callable[..., T], **options: Any) -> T:
    """Call a task body; report a ``ForgeError`` or Ctrl-C in one line and exit with its code."""
    try:
        return body(**options)
    except ForgeError as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        raise Exit(code=err.exit_code) from None
    except KeyboardInterrupt:
        print("interrupted: finished work is kept; run the same command again to continue", file=sys.stderr)
        raise Exit(code=130) from None
