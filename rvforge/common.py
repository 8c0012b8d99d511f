"""Small helpers every stage needs, written once. Standard library only: the on-target code uses it."""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rvforge.errors import Busy

#: Addresses that mean "every interface": a browser cannot open them, so they are shown as loopback.
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def write_atomic(path: Path, data: str | bytes, *, mode: int | None = None, fsync: bool = False) -> None:
    """Write ``path`` through a temp file beside it and ``os.replace``: a kill leaves old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def file_digests(path: Path, algorithms: tuple[str, ...] = ("sha256",)) -> dict[str, str]:
    """Hex digests of a file read in 1 MiB blocks (models and wheels are too big to read whole)."""
    hashes = {name: hashlib.new(name) for name in algorithms}
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            for digest in hashes.values():
                digest.update(block)
    return {name: digest.hexdigest() for name, digest in hashes.items()}


def sha256_file(path: Path) -> str:
    return file_digests(path)["sha256"]


def free_port() -> int:
    """A loopback port free right now (for a staged release's health check and for tests)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def accepts_connections(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections at ``host:port`` within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def process_stat(pid: int | str) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state, ppid, pgrp, ...), None when
    the process is gone. The name is cut at its last ')': it may hold spaces and parentheses."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (OSError, ValueError):
        return None


def last_lines(text: str, count: int = 1, empty: str = "(no output)") -> str:
    """The last ``count`` lines of ``text`` that say something, joined by " | " (for one-line errors)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(lines[-count:]) or empty


def display_host(host: str) -> str:
    """The host part of a URL a user can open for a server bound to ``host``."""
    if host in WILDCARD_HOSTS:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


@contextmanager
def exclusive_lock(path: Path, label: str, what: str, hint: str) -> Iterator[int]:
    """Hold a kernel ``flock`` on ``path`` (a killed holder never leaves a stale lock) and write who
    holds it there; a second taker gets ``Busy("WHAT is in use by <holder>")``. Yields the fd: a child
    process given it keeps the lock after this one exits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(f"{what} is in use by {lock_holder(path) or 'another process'}", hint=hint) from None
        note_holder(fd, os.getpid(), label)
        yield fd
    finally:
        os.close(fd)


def note_holder(fd: int, pid: int, label: str) -> None:
    """Record in a held lock who holds it (a child that inherited it may take over the note)."""
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {pid} ({label}), started {started}\n".encode(), 0)
    except OSError:
        pass  # a full disk: the lock holds all the same, only its holder goes unnamed


def lock_holder(path: Path) -> str | None:
    """Who holds the ``exclusive_lock`` on ``path`` now (what they wrote), None when nobody does."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return None
    except BlockingIOError:
        return os.pread(fd, 4096, 0).decode(errors="replace").strip() or "another process"
    finally:
        os.close(fd)
