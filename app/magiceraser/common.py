"""Small helpers more than one part of the eraser needs, written once (standard library only)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

# Listening on every interface: a browser cannot open that address, so loopback is shown.
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file beside ``path`` so a failure never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file read in 1 MiB blocks (model weights are too big to read whole)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def url_for_host(host: str, port: int) -> str:
    """The URL a user can open for a server listening on ``host``:``port``."""
    shown = "127.0.0.1" if host in WILDCARD_HOSTS else (f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}/"
