"""invoke fetch-model: real zips and checkpoints, a real HTTP server with Range on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from deploy_support import RangeFileHandler, installed_state, invoke, make_big_lama_zip


@pytest.fixture
def installed(tiny_zip, homes) -> dict[str, str]:
    """A good model already installed: what a failed fetch must leave alone."""
    invoke("fetch-model", "--from", str(tiny_zip), env=homes, check=True)
    return installed_state(Path(homes["MAGICERASER_HOME"]))


@pytest.fixture(scope="module")
def wrong_keys_zip(lama_reference, tmp_path_factory) -> Path:
    """The tiny checkpoint with one generator tensor renamed and one reshaped."""
    torch = pytest.importorskip("torch")
    ref = lama_reference / "tiny-lama"
    ckpt = torch.load(ref / "models" / "best.ckpt", map_location="cpu", weights_only=True)
    state = ckpt["state_dict"]
    state["generator.model.1.ffc.convl2l.weight_renamed"] = state.pop("generator.model.1.ffc.convl2l.weight")
    state["generator.model.1.bn_l.bias"] = torch.zeros(3)
    tmp = tmp_path_factory.mktemp("wrong")
    torch.save(ckpt, tmp / "best.ckpt")
    return make_big_lama_zip(tmp / "big-lama.zip", ref / "config.yaml", tmp / "best.ckpt")


def test_official_zip_is_installed_where_the_eraser_looks(tiny_zip, homes, lama_reference):
    proc = invoke("fetch-model", "--from", str(tiny_zip), env=homes, check=True)
    models = Path(homes["MAGICERASER_HOME"]) / "models"
    ref = lama_reference / "tiny-lama"
    assert (models / "big-lama" / "config.yaml").read_bytes() == (ref / "config.yaml").read_bytes()
    assert (models / "big-lama" / "models" / "best.ckpt").read_bytes() == (ref / "models" / "best.ckpt").read_bytes()
    assert "157 generator tensors match config.yaml" in proc.stdout
    manifest = json.loads((models / "manifest.json").read_text())
    assert manifest["big-lama"]["sha256"] == hashlib.sha256(tiny_zip.read_bytes()).hexdigest()
    assert manifest["big-lama"]["source"] == str(tiny_zip)
    # the app resolves exactly this directory
    from magiceraser.modelpath import resolve_model_path
    assert resolve_model_path(None) == models / "big-lama"
    again = invoke("fetch-model", "--from", str(tiny_zip), env=homes, check=True)
    assert "already installed" in again.stdout


def test_verification_needs_no_torch(tiny_zip, homes, tmp_path):
    """The laptop's tool venv has no torch: the whole check must run without it."""
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text("import sys\nsys.modules['torch'] = None\n")
    env = {**homes, "PYTHONPATH": str(blocker)}
    proc = invoke("fetch-model", "--from", str(tiny_zip), env=env, check=True)
    assert "157 generator tensors match config.yaml" in proc.stdout
    blocked = subprocess.run([sys.executable, "-c", "import torch"], env={**os.environ, **env},
                             capture_output=True, text=True)
    assert "ModuleNotFoundError" in blocked.stderr  # the blocker really was active


def test_truncated_zip_is_refused_and_the_model_kept(tiny_zip, installed, homes, tmp_path):
    broken = tmp_path / "big-lama.zip"
    broken.write_bytes(tiny_zip.read_bytes()[: tiny_zip.stat().st_size // 2])
    proc = invoke("fetch-model", "--from", str(broken), env=homes)
    assert proc.returncode == 7
    assert f"{broken}: not a complete zip archive" in proc.stderr
    assert "truncated" in proc.stderr
    assert installed_state(Path(homes["MAGICERASER_HOME"])) == installed


def test_checkpoint_with_wrong_keys_is_refused_and_the_model_kept(wrong_keys_zip, installed, homes):
    proc = invoke("fetch-model", "--from", str(wrong_keys_zip), env=homes)
    assert proc.returncode == 7, proc.stdout + proc.stderr
    assert str(wrong_keys_zip) in proc.stderr
    assert "missing generator.model.1.ffc.convl2l.weight" in proc.stderr
    assert "unexpected generator.model.1.ffc.convl2l.weight_renamed" in proc.stderr
    assert "generator.model.1.bn_l.bias: shape 3, expected 8" in proc.stderr
    assert installed_state(Path(homes["MAGICERASER_HOME"])) == installed
    leftovers = list((Path(homes["MAGICERASER_HOME"]) / "models" / ".versions").glob(".incoming-*"))
    assert leftovers == []


def test_checksum_mismatch_is_refused_and_the_model_kept(tiny_zip, installed, homes):
    proc = invoke("fetch-model", "--from", str(tiny_zip), "--checksum", "sha256:" + "0" * 64, env=homes)
    assert proc.returncode == 7
    assert f"{tiny_zip}: checksum mismatch: sha256 is" in proc.stderr
    assert installed_state(Path(homes["MAGICERASER_HOME"])) == installed


def test_torchscript_with_the_wrong_md5_is_refused(homes, tmp_path):
    """big-lama-jit has a published md5; anything else named big-lama.pt is refused before use."""
    fake = tmp_path / "big-lama.pt"
    fake.write_bytes(b"not the TorchScript model")
    proc = invoke("fetch-model", "--from", str(fake), env=homes)
    assert proc.returncode == 7
    assert "checksum mismatch: md5 is" in proc.stderr and "expected e3aa4aaa15225a33ec84f9f4bc47e500" in proc.stderr
    assert not (Path(homes["MAGICERASER_HOME"]) / "models" / "big-lama.pt").exists()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit is what IOPaint ships
def test_torchscript_export_is_installed_as_big_lama_pt(homes, tmp_path):
    """The IOPaint layout: one TorchScript file; its checksum given explicitly (not the published one)."""
    torch = pytest.importorskip("torch")
    model = tmp_path / "big-lama.pt"
    torch.jit.save(torch.jit.script(torch.nn.Conv2d(4, 3, 3)), str(model))
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    invoke("fetch-model", "--from", str(model), "--checksum", f"sha256:{digest}", env=homes, check=True)
    installed = Path(homes["MAGICERASER_HOME"]) / "models" / "big-lama.pt"
    assert installed.read_bytes() == model.read_bytes()
    manifest = json.loads((installed.parent / "manifest.json").read_text())
    assert manifest["big-lama-jit"]["sha256"] == digest
    not_script = tmp_path / "other.pt"
    not_script.write_bytes(b"")
    proc = invoke("fetch-model", "--from", str(not_script), "--kind", "big-lama-jit", "--checksum",
                  "md5:d41d8cd98f00b204e9800998ecf8427e", env=homes)
    assert proc.returncode == 7 and f"{not_script}: not a complete zip archive" in proc.stderr
    assert installed.read_bytes() == model.read_bytes()


class RangeServer(ThreadingHTTPServer):
    """Serves one file with Range support; can drop the first response half way through."""

    def __init__(self, payload: bytes, drop_first: bool) -> None:
        super().__init__(("127.0.0.1", 0), RangeHandler)
        self.payload, self.drop_first, self.ranges = payload, drop_first, []


class RangeHandler(RangeFileHandler):
    def do_GET(self):  # noqa: N802 (http.server API)
        body = self.send_range_headers()
        if self.server.drop_first and len(self.server.ranges) == 1:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(2)  # the connection dies mid-transfer
            return
        self.wfile.write(body)


@pytest.fixture
def http_file():
    servers = []

    def serve(payload: bytes, drop_first: bool = False) -> RangeServer:
        server = RangeServer(payload, drop_first)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_download_resumes_with_range_after_a_dropped_connection(tiny_zip, homes, http_file):
    payload = tiny_zip.read_bytes()
    server = http_file(payload, drop_first=True)
    url = f"http://127.0.0.1:{server.server_port}/models/big-lama.zip"
    proc = invoke("fetch-model", "--from", url, env=homes, check=True)
    assert server.ranges[0] is None
    resumed_at = int(server.ranges[1].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= len(payload) // 2  # resumed from the bytes it had, not restarted
    assert "connection lost at" in proc.stderr and "resuming" in proc.stderr
    assert "big-lama.zip: 100%" in proc.stderr  # progress
    models = Path(homes["MAGICERASER_HOME"]) / "models"
    assert json.loads((models / "manifest.json").read_text())["big-lama"]["source"] == url
    assert list((Path(homes["RVFORGE_HOME"]) / "downloads").iterdir()) == []  # no stale partial left


def test_downloaded_file_that_fails_verification_is_not_kept(tiny_zip, homes, http_file):
    server = http_file(tiny_zip.read_bytes())
    url = f"http://127.0.0.1:{server.server_port}/big-lama.zip"
    proc = invoke("fetch-model", "--from", url, "--checksum", "md5:" + "f" * 32, env=homes)
    assert proc.returncode == 7 and f"{url}: checksum mismatch" in proc.stderr
    assert list((Path(homes["RVFORGE_HOME"]) / "downloads").iterdir()) == []
    assert not (Path(homes["MAGICERASER_HOME"]) / "models" / "big-lama").exists()
