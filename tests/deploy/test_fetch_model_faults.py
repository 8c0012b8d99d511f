"""fetch-model killed mid-download and mid-install, a full disk, a damaged install: the installed
model is the old one or the new one, never a mix, and the next run finishes the job."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from deploy_support import REPO, RangeFileHandler, installed_state, invoke

from magiceraser.modelpath import resolve_model_path


@pytest.fixture(scope="module")
def other_zip(tiny_zip, tmp_path_factory) -> Path:
    """The same model zipped with deflate: valid, but another file (another sha256) to install."""
    path = tmp_path_factory.mktemp("other") / "big-lama.zip"
    with zipfile.ZipFile(tiny_zip) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
    return path


@pytest.fixture
def old_install(tiny_zip, homes) -> dict[str, str]:
    invoke("fetch-model", "--from", str(tiny_zip), env=homes, check=True)
    return installed_state(Path(homes["MAGICERASER_HOME"]))


def installed_sha(homes: dict[str, str]) -> str:
    manifest = Path(homes["MAGICERASER_HOME"]) / "models" / "manifest.json"
    return json.loads(manifest.read_text())["big-lama"]["sha256"]


def start_fetch(homes: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "invoke", "fetch-model", *args], cwd=REPO,
                            env={**os.environ, **homes}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


class StallingServer(ThreadingHTTPServer):
    """Serves a file with Range; the first answer stops half way and hangs until ``release`` is set."""

    def __init__(self, payload: bytes) -> None:
        super().__init__(("127.0.0.1", 0), StallingHandler)
        self.payload, self.ranges, self.release = payload, [], threading.Event()


class StallingHandler(RangeFileHandler):
    def do_GET(self):  # noqa: N802 (http.server API)
        body = self.send_range_headers()
        if len(self.server.ranges) == 1:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.server.release.wait(60)
            return
        self.wfile.write(body)


def test_killed_mid_download_keeps_the_installed_model_and_the_next_run_resumes(old_install, other_zip, homes):
    server = StallingServer(other_zip.read_bytes())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/big-lama.zip"
    downloads = Path(homes["RVFORGE_HOME"]) / "downloads"
    try:
        proc = start_fetch(homes, "--from", url)
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size for p in downloads.glob("*.part")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[0]
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        assert installed_state(Path(homes["MAGICERASER_HOME"])) == old_install
        server.release.set()
        again = invoke("fetch-model", "--from", url, env=homes, check=True)
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
    assert int(server.ranges[-1].removeprefix("bytes=").rstrip("-")) > 0  # resumed, not restarted
    assert "installed big-lama" in again.stdout
    assert installed_sha(homes) == hashlib.sha256(other_zip.read_bytes()).hexdigest()
    assert list(downloads.iterdir()) == []


def test_killed_mid_install_leaves_the_old_model_or_the_new_one_never_a_mix(old_install, other_zip, homes):
    data = Path(homes["MAGICERASER_HOME"])
    proc = start_fetch(homes, "--from", str(other_zip))
    for line in proc.stdout:
        if line.startswith("==> unpack and verify"):
            proc.send_signal(signal.SIGKILL)
            break
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    state = installed_state(data)
    sha = installed_sha(homes)
    assert state == old_install or sha == hashlib.sha256(other_zip.read_bytes()).hexdigest()
    from magiceraser.lama.weights import verify_model_dir
    assert verify_model_dir(data / "models" / "big-lama")  # whatever is live is complete
    again = invoke("fetch-model", "--from", str(other_zip), env=homes, check=True)
    assert installed_sha(homes) == hashlib.sha256(other_zip.read_bytes()).hexdigest(), again.stdout
    assert [p.name for p in (data / "models" / ".versions").iterdir()] == [
        os.readlink(data / "models" / "big-lama").split("/")[-1]]  # no half-unpacked candidate left


def test_fetching_again_repairs_a_damaged_install(old_install, tiny_zip, homes):
    data = Path(homes["MAGICERASER_HOME"])
    ckpt = data / "models" / "big-lama" / "models" / "best.ckpt"
    ckpt.write_bytes(ckpt.read_bytes()[:1000])
    proc = invoke("fetch-model", "--from", str(tiny_zip), env=homes, check=True)
    assert "already installed" not in proc.stdout and "reinstalling" in proc.stdout
    model_files = {name: digest for name, digest in installed_state(data).items() if name != "manifest.json"}
    assert model_files == {name: digest for name, digest in old_install.items() if name != "manifest.json"}
    assert resolve_model_path(None) == data / "models" / "big-lama"



@pytest.mark.disk_size("2m")
def test_a_full_disk_fails_cleanly_and_keeps_the_installed_model(tiny_zip, other_zip, tmp_path, small_disk):
    homes = {"MAGICERASER_HOME": str(small_disk / "data"), "RVFORGE_HOME": str(tmp_path / "cache")}
    invoke("fetch-model", "--from", str(tiny_zip), env=homes, check=True)
    before = installed_state(small_disk / "data")
    filler = small_disk / "filler"
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    filler.write_bytes(b"\0" * (free - 200_000))  # room for the manifest, not for a second model
    proc = invoke("fetch-model", "--from", str(other_zip), env=homes)
    assert proc.returncode == 7 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    assert "No space left on device" in proc.stderr and "is full: free space there" in proc.stderr
    assert installed_state(small_disk / "data") == before
    assert not list((small_disk / "data" / "models").glob(".versions/.incoming-*"))
    filler.unlink()
    invoke("fetch-model", "--from", str(other_zip), env=homes, check=True)
    assert installed_sha(homes) == hashlib.sha256(other_zip.read_bytes()).hexdigest()


def test_a_second_fetch_model_at_once_is_refused_naming_the_first(old_install, other_zip, homes):
    models = Path(homes["MAGICERASER_HOME"]) / "models"
    hold = ("import sys, time; from pathlib import Path; from rvforge.common import exclusive_lock\n"
            "with exclusive_lock(Path(sys.argv[1]), 'fetch-model', 'models', 'wait'):\n"
            "    print('held', flush=True); time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(models / ".fetch-model.lock")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        proc = invoke("fetch-model", "--from", str(other_zip), env=homes)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert proc.returncode == 9 and f"{models} is in use by pid {holder.pid} (fetch-model)" in proc.stderr
    assert installed_state(Path(homes["MAGICERASER_HOME"])) == old_install
