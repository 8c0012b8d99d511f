"""A real ``magiceraser serve`` process on 127.0.0.1 for tests (API, queue, memory, browser UI).

Import from other test folders with::

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
    from live_server import live_server
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from rvforge.common import free_port


def serve_command() -> list[str]:
    """The installed console script when present (what users run), else ``python -m magiceraser``."""
    script = Path(sys.executable).parent / "magiceraser"
    return [str(script)] if script.exists() else [sys.executable, "-m", "magiceraser"]


@dataclass
class LiveServer:
    url: str              # base URL, no trailing slash
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def rss_kb(self) -> int:
        """Resident memory of the server process (VmRSS from /proc)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("VmRSS missing from /proc status")

    def health(self) -> dict:
        response = requests.get(f"{self.url}/api/v1/health", timeout=10)
        response.raise_for_status()
        return response.json()


@contextmanager
def live_server(model: Path | None, *args: str, env: dict | None = None, timeout: float = 120) -> Iterator[LiveServer]:
    """Start ``magiceraser serve --model MODEL --port <free> ARGS`` (no --model when None: the installed
    one); wait until /api/v1/health answers."""
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="magiceraser-server-"))
    log_path = workdir / "server.log"
    command = [*serve_command(), "serve", *(["--model", str(model)] if model else []), "--port", str(port), *args]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
                                   env={**os.environ, **(env or {})})
    server = LiveServer(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"server exited with {process.returncode}:\n{server.log()}")
            try:
                if requests.get(f"{server.url}/api/v1/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"server not ready after {timeout} s:\n{server.log()}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
