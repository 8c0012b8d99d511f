"""JSON error bodies safe to hand to any client: bounded in size, no paths of the server's machine.

Messages quote what the client sent (an unknown option, a bad value) and, for unexpected failures,
an exception's text, which may hold a file path. Both are cut to MAX_MESSAGE_CHARS, and absolute
paths are cut to their last component so the server's layout and home directory stay private.
"""

from __future__ import annotations

import json
import re

MAX_MESSAGE_CHARS = 1000
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.])~?/(?:[^\s'\"/:,;()]+/)+(?=[^\s'\"/:,;()])")


def public_message(message: str) -> str:
    """``message`` with absolute paths shortened to their last component and at most MAX_MESSAGE_CHARS long."""
    message = _ABSOLUTE_PATH.sub(".../", message)
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS - 30] + f"... ({len(message):,} characters)"
    return message


def error_body(message: str) -> bytes:
    """``{"error": message}`` as a JSON response body."""
    return (json.dumps({"error": public_message(message)}) + "\n").encode()
