"""Helpers shared by the deploy tests (imported by name: conftest modules shadow each other)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import zipfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _root_conftest():
    spec = importlib.util.spec_from_file_location("deploy_root_conftest", REPO / "tests" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: ``invoke(*args, env=...)`` runs a task from the checkout as a user does.
invoke = _root_conftest().invoke


def make_big_lama_zip(path: Path, config: Path, ckpt: Path) -> Path:
    """The official release layout: big-lama/config.yaml + big-lama/models/best.ckpt."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(config, "big-lama/config.yaml")
        archive.write(ckpt, "big-lama/models/best.ckpt")
    return path


def offline_env(**extra: str) -> dict[str, str]:
    """No index, no config, no find-links: any pip call that tries the network fails."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_INDEX_URL="http://127.0.0.1:9/simple", PIP_CONFIG_FILE=os.devnull,
               PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def copy_wheelhouse(src: Path, dest: Path) -> Path:
    """A private wheelhouse (hard links: deploy adds the app wheel to it)."""
    shutil.copytree(src, dest, copy_function=os.link)
    return dest


def installed_state(data: Path) -> dict[str, str]:
    """sha256 of every installed model file plus the manifest: 'untouched' means equal."""
    models = data / "models"
    files = [models / "manifest.json", models / "big-lama" / "config.yaml",
             models / "big-lama" / "models" / "best.ckpt"]
    return {str(p.relative_to(models)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


class RangeFileHandler(BaseHTTPRequestHandler):
    """Serves ``server.payload`` honouring ``Range: bytes=N-`` and records each request's Range
    header in ``server.ranges``; subclasses decide how much of the body to send."""

    def send_range_headers(self) -> bytes:
        """Status and headers for this request; returns the body the range asks for."""
        data, header = self.server.payload, self.headers.get("Range")
        self.server.ranges.append(header)
        start = int(header.split("=")[1].split("-")[0]) if header else 0
        self.send_response(206 if header else 200)
        if header:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        return data[start:]

    def log_message(self, *args):
        pass

