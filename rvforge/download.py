"""Resumable HTTP download: a ``.part`` file grows with HTTP Range until it is complete.

A dropped connection (or a Ctrl-C and a re-run) continues where it stopped instead of
re-fetching hundreds of megabytes. The result is only a candidate: the caller verifies it
before moving it anywhere.
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path
from typing import TextIO
from urllib.parse import urlparse

import requests

from rvforge.errors import SourceError

CHUNK = 1 << 16
ATTEMPTS = 5


def part_path(url: str, directory: Path) -> Path:
    """Stable per URL, so a re-run finds the bytes an earlier run already fetched."""
    name = Path(urlparse(url).path).name or "download"
    return directory / f"{hashlib.sha1(url.encode()).hexdigest()[:12]}-{name}.part"


class Progress:
    """One status line on a terminal, a line every 10 % otherwise (logs stay short)."""

    def __init__(self, name: str, total: int | None, stream: TextIO = sys.stderr) -> None:
        self.name, self.total, self.stream = name, total, stream
        self.tty = stream.isatty()
        self.last_decile = -1
        self.start = time.monotonic()

    def update(self, done: int) -> None:
        mb = done / 1e6
        if not self.total:
            if self.tty:
                self.stream.write(f"\r  {self.name}: {mb:.1f} MB")
            return
        pct = min(100, done * 100 // self.total)
        if self.tty:
            self.stream.write(f"\r  {self.name}: {pct:3d}% {mb:.1f}/{self.total / 1e6:.1f} MB")
        elif pct // 10 != self.last_decile:
            self.last_decile = pct // 10
            self.stream.write(f"  {self.name}: {pct}% ({mb:.1f} of {self.total / 1e6:.1f} MB)\n")
        self.stream.flush()

    def finish(self, done: int) -> None:
        rate = done / 1e6 / max(time.monotonic() - self.start, 1e-6)
        self.stream.write(f"{chr(13) if self.tty else '  '}{self.name}: {done / 1e6:.1f} MB done "
                          f"({rate:.1f} MB/s)\n")
        self.stream.flush()


def _total_size(resp: requests.Response, have: int) -> int | None:
    if resp.status_code == 206:
        total = resp.headers.get("Content-Range", "").rpartition("/")[2]
        return int(total) if total.isdigit() else None
    length = resp.headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None


def _attempt(url: str, part: Path, progress_name: str, timeout: float) -> bool:
    """One GET from the current end of ``part``. True when the file is complete."""
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    with requests.get(url, headers=headers, stream=True, timeout=timeout) as resp:
        if resp.status_code == 416:  # the range starts at the end: nothing left to fetch
            return True
        if resp.status_code not in (200, 206):
            raise SourceError(f"{url}: HTTP {resp.status_code} {resp.reason}")
        if resp.status_code == 200 and have:
            have = 0  # the server ignored Range: start over
        total = _total_size(resp, have)
        progress = Progress(progress_name, total)
        done = have
        with open(part, "ab" if have else "wb") as out:
            for chunk in resp.iter_content(CHUNK):
                out.write(chunk)
                done += len(chunk)
                progress.update(done)
        progress.finish(done)
        return total is None or done >= total


def disk_failure(exc: SourceError) -> bool:
    """True when ``fetch`` failed writing to its own disk (a full cache), not reaching the server."""
    cause = exc.__cause__
    return isinstance(cause, OSError) and not isinstance(cause, requests.RequestException)


def fetch(url: str, directory: Path, timeout: float = 60) -> Path:
    """Download ``url`` into ``directory`` (resuming a previous ``.part``); returns the file."""
    directory.mkdir(parents=True, exist_ok=True)
    part = part_path(url, directory)
    name = Path(urlparse(url).path).name or url
    last_error: Exception | None = None
    for attempt in range(1, ATTEMPTS + 1):
        before = part.stat().st_size if part.exists() else 0
        try:
            if _attempt(url, part, name, timeout):
                return part
            last_error = None
        except (requests.ConnectionError, requests.Timeout,
                requests.exceptions.ChunkedEncodingError) as exc:
            last_error = exc
        except OSError as exc:  # writing the part failed (requests' own errors are OSErrors too)
            if isinstance(exc, requests.RequestException):
                raise
            have = part.stat().st_size if part.exists() else 0
            raise SourceError(f"could not save {url} into {directory} after {have / 1e6:.1f} MB: {exc}",
                              hint=f"free space on the disk holding {directory}, then run the same command again "
                                   "(the download resumes from the bytes kept)") from exc
        have = part.stat().st_size if part.exists() else 0
        if have <= before:
            break  # no progress: the server is unreachable or refuses, retrying will not help
        print(f"  connection lost at {have / 1e6:.1f} MB (attempt {attempt}/{ATTEMPTS}); resuming",
              file=sys.stderr, flush=True)
    kept = f"run the same command again to resume ({part} is kept), or " if part.exists() else ""
    raise SourceError(
        f"could not download {url}: {last_error or 'the transfer kept stopping early'}",
        hint=f"{kept}download the file on a machine with network access and pass it with --from PATH",
    )
