"""Request bodies as JSON objects, with their structure bounded before the parser recurses.

Python's JSON parser recurses once per nesting level, so a body of a few thousand ``[`` used to
end in RecursionError (a 500). The requests this API takes are a flat object of strings with at
most one nested ``options`` object; anything far deeper or with far more structure is refused
as a client error before parsing.
"""

from __future__ import annotations

import json
import re

from .errors import ApiError

MAX_DEPTH = 32
MAX_STRUCTURE_CHARS = 64 * 1024  # what is left once strings are removed: keys' quotes, ':', ',', numbers
OBJECT_EXAMPLE = 'a JSON object like {"image": "data:image/png;base64,...", "mask": "data:image/png;base64,..."}'

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def _text(raw: bytes) -> str:
    """The body as text in the encoding JSON allows (UTF-8, -16 or -32, detected as json.loads does)."""
    try:
        return raw.decode(json.detect_encoding(raw))
    except UnicodeDecodeError as exc:
        raise ApiError(f"request body is not valid UTF-8 JSON ({exc.reason} at byte {exc.start}); "
                       f"send {OBJECT_EXAMPLE}") from None


def _check_structure(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH in time linear in the body, without recursion."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return  # the usual body: base64 has no brackets, so there is nothing to scan
    structure = _STRING.sub("", text)
    if len(structure) > MAX_STRUCTURE_CHARS:
        raise ApiError(f"request JSON has {len(structure):,} characters outside strings (limit "
                       f"{MAX_STRUCTURE_CHARS:,}); send {OBJECT_EXAMPLE}")
    depth = 0
    for bracket in _BRACKETS.findall(structure):
        depth += 1 if bracket in "[{" else -1
        if depth > MAX_DEPTH:
            raise ApiError(f"request JSON is nested more than {MAX_DEPTH} levels deep; send {OBJECT_EXAMPLE}")


def parse_object(raw: bytes) -> dict:
    """The body's JSON object; ApiError (400) naming the problem for anything else."""
    text = _text(raw)
    _check_structure(text)
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApiError(f"request body must be {OBJECT_EXAMPLE}")
    return body
