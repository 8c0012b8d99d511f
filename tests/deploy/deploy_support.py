"""Helpers shared by the deploy tests (imported by name: conftest modules shadow each other)."""

from __future__ import annotations

import ctypes.util
import hashlib
import importlib.util
import json
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


def make_blas_wheel(root: Path, machine: str) -> Path:
    """An ``openblas`` library wheel, packed by the tool, whose flavours are this machine's own
    OpenBLAS: ``generic`` (the fallback), ``good`` (the same library, a flavour any x86_64 or
    riscv64 CPU runs) and ``bad`` (libm: no OpenBLAS, so its self-test must refuse it)."""
    from rvforge.build import library_wheel, recipes

    system, libm = ctypes.util.find_library("openblas"), ctypes.util.find_library("m")
    recipe_file = root / "recipes" / "openblas.yaml"
    recipe_file.parent.mkdir(parents=True)
    needs = "sse2" if machine == "x86_64" else ""
    recipe_file.write_text(json.dumps({
        "schema": 1, "name": "openblas", "version": "0.0.1", "source": {"kind": "local", "path": "."},
        "library": {"package": "rvforge_openblas", "script": "true", "flavours": [
            {"name": "generic", "machine": machine},
            {"name": "good", "machine": machine, "needs": needs or "rvv1.0"},
            {"name": "bad", "machine": machine, "needs": needs or "rvv1.0"}]},
        "test": {"script": "import rvforge_openblas"}}))
    recipe = recipes.load_recipe_file(recipe_file)
    stage = root / "stage"
    for flavour, source in (("generic", system), ("good", system), ("bad", libm)):
        (stage / flavour / "lib").mkdir(parents=True)
        found = [Path(d) / source for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/riscv64-linux-gnu", "/usr/lib64",
                                             "/usr/lib") if (Path(d) / source).exists()]
        shutil.copyfile(found[0], stage / flavour / "lib" / "libopenblas.so.0")
    return library_wheel.pack(recipe, stage, machine, 315532800, root / "dist", recipe.flavours(machine))


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

