"""Base64 and data-URL payloads as browsers and the 2024 MagicEraser client send them.

Tolerant exactly where that client and its server were: an optional ``data:<mime>;base64,``
prefix, missing or surplus ``=`` padding (its server appended padding blindly), the URL-safe
alphabet (it decoded with ``urlsafe_b64decode``) and line breaks. Anything else is an error.
"""

from __future__ import annotations

import base64
import binascii
import re

from .errors import UndecodableImage, UnsupportedImage
from .imageio import SUPPORTED_FORMATS

_BASE64_BODY = re.compile(r"[A-Za-z0-9+/]*")
_SUPPORTED_MIMES = {f"image/{name.lower()}" for name in SUPPORTED_FORMATS} | {"image/jpg", "image/x-ms-bmp"}


def decode_payload(text: object, what: str) -> bytes:
    """Bytes of a base64 string or data URL; ``what`` names the field in error messages."""
    if not isinstance(text, str) or not text:
        raise UndecodableImage(f"'{what}' must be a non-empty base64 string or data URL")
    body = text
    if text.startswith("data:"):
        header, comma, body = text.partition(",")
        if not comma:
            raise UndecodableImage(f"'{what}' data URL has no ',' before its data")
        mime, *flags = header[5:].split(";")
        if "base64" not in flags:
            raise UndecodableImage(f"'{what}' data URL must be base64-encoded (data:<type>;base64,...)")
        if mime and mime.lower() not in _SUPPORTED_MIMES:
            raise UnsupportedImage(f"'{what}' has type {mime}; supported: {', '.join(sorted(_SUPPORTED_MIMES))}")
    body = "".join(body.split()).translate(str.maketrans("-_", "+/")).rstrip("=")
    if not _BASE64_BODY.fullmatch(body) or len(body) % 4 == 1:
        raise UndecodableImage(f"'{what}' is not valid base64")
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except binascii.Error as exc:
        raise UndecodableImage(f"'{what}' is not valid base64: {exc}") from None


def encode_data_url(data: bytes, mime: str) -> str:
    """A ``data:`` URL a browser can show directly (what ``result_image`` carries)."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
