"""Wheelhouses whose ``magiceraser`` is a small stdlib HTTP server, so a real deploy (venv, offline
pip install, torch layer, staged check, switch) takes seconds and a test can choose how it fails.

A release started with ``--port P`` writes ``MAGICERASER_HOME/started-VERSION-P.pid`` and answers
``/api/v1/health`` with ``{"status": "ok", "version": VERSION}``. Behaviours: ``ok``; ``crash``
(exits at start); ``crash-as-service:PORT`` (exits only on the service's port, so it passes the
staged check); ``slow`` (listens after 20 s).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import urllib.request
import zipfile
from pathlib import Path

from deploy_support import invoke

from rvforge.ontarget.service import ServiceConfig
from rvforge.ontarget.settings import Settings

MAIN = textwrap.dedent('''
    import http.server, json, os, sys, time
    VERSION, MODE = {version!r}, {mode!r}
    args = sys.argv[1:]
    port = int(args[len(args) - args[::-1].index("--port")])  # the last --port wins, as with argparse
    home = os.environ["MAGICERASER_HOME"]
    os.makedirs(home, exist_ok=True)
    with open(os.path.join(home, f"started-{{VERSION}}-{{port}}.pid"), "w") as f:
        f.write(str(os.getpid()))
    if MODE == "crash" or MODE == f"crash-as-service:{{port}}":
        sys.exit(f"release {{VERSION}} cannot start: the settings it needs are broken")
    if MODE == "slow":
        time.sleep(20)
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({{"status": "ok", "version": VERSION}}).encode()
            self.send_response(200); self.end_headers(); self.wfile.write(body)
        def log_message(self, *a): pass
    print(f"MagicEraser on http://127.0.0.1:{{port}}/ (release {{VERSION}})", flush=True)
    http.server.HTTPServer(("127.0.0.1", port), Health).serve_forever()
''')


def _wheel(directory: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """A minimal valid py3-none-any wheel (METADATA, WHEEL, RECORD with hashes)."""
    info = f"{name}-{version}.dist-info"
    files = {**files, f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{info}/RECORD,,")
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel


def wheelhouse(root: Path, version: str, mode: str = "ok") -> Path:
    """ROOT/wheelhouse-VERSION: the fake app and a fake torch (the same file each time: one layer)."""
    house = root / f"wheelhouse-{version}"
    house.mkdir(parents=True)
    _wheel(house, "magiceraser", version, {"magiceraser/__init__.py": "",
                                           "magiceraser/__main__.py": MAIN.format(version=version, mode=mode)})
    _wheel(house, "torch", "0.0.1", {"torch/__init__.py": "__version__ = '0.0.1'\n"})
    return house


class Site:
    """A local prefix served on one port, deployed with ``python -m rvforge.ontarget`` as on a target."""

    def __init__(self, root: Path, port: int, prefix: Path | None = None) -> None:
        self.root, self.port = root, port
        self.prefix = prefix or root / "prefix"
        self.data = root / "data"
        self.env = {**os.environ, "MAGICERASER_HOME": str(self.data), "RVFORGE_HOME": str(root / "cache")}

    def settings(self, house: Path) -> str:
        return Settings(prefix=str(self.prefix), wheelhouse=str(house), python=sys._base_executable,
                        torch="wheelhouse", manager="pidfile", health_timeout=15,
                        service=ServiceConfig(port=self.port, data_dir=str(self.data))).to_json()

    def deploy_command(self, house: Path) -> list[str]:
        return [sys.executable, "-m", "rvforge.ontarget", "deploy", "--settings", self.settings(house)]

    def deploy(self, house: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.deploy_command(house), capture_output=True, text=True, env=self.env, timeout=300)

    def serving(self) -> str | None:
        """The version answering on the service port, None when nothing answers."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/health", timeout=5) as resp:
                return str(json.loads(resp.read())["version"])
        except OSError:
            return None

    def status(self) -> str:
        """``invoke deploy --status`` on a target file for this prefix, as a user runs it."""
        target = self.root / "status-target.yaml"
        target.write_text(f"prefix: {self.prefix}\nmanager: pidfile\nservice:\n  port: {self.port}\n")
        proc = invoke("deploy", "--target", str(target), "--status", env=self.env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    def current(self) -> str:
        return os.readlink(self.prefix / "current").removeprefix("releases/")

    def release_dirs(self) -> list[str]:
        return sorted(p.name for p in (self.prefix / "releases").iterdir())

    def service_pid(self) -> int:
        return int((self.prefix / "run" / "magiceraser.pid").read_text())

    def stop(self) -> None:
        ctl = self.prefix / "bin" / "magiceraserctl"
        if ctl.exists():
            subprocess.run([str(ctl), "stop"], capture_output=True)
