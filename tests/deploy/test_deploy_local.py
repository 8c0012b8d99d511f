"""End to end on this machine: fetch-model, an offline deploy from a wheelhouse, the deployed
service erasing the reference image, a failing upgrade that leaves it serving, invoke serve.

One deploy per module (the release venv holds a ~700 MB torch): about 2-3 minutes in all.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from deploy_support import REPO, copy_wheelhouse, invoke, make_blas_wheel, offline_env
from PIL import Image

from rvforge.common import free_port

pytestmark = pytest.mark.slow



def write_target(path: Path, prefix: Path, port: int, **service) -> Path:
    """A local target: the release venvs come from the interpreter running the tests."""
    lines = [f"prefix: {prefix}", f"python: {sys._base_executable}", "manager: pidfile", "health_timeout: 120",
             "service:", "  host: 127.0.0.1", f"  port: {port}"] + [f"  {k}: {v}" for k, v in service.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


class Deployed:
    def __init__(self, root: Path, env: dict[str, str], target: Path, house: Path, port: int) -> None:
        self.root, self.env, self.target, self.house, self.port = root, env, target, house, port
        self.prefix = root / "prefix"
        self.url = f"http://127.0.0.1:{port}"

    def releases(self) -> list[str]:
        return sorted(p.name for p in (self.prefix / "releases").iterdir())

    def current(self) -> str:
        return os.readlink(self.prefix / "current")

    def pid(self) -> str:
        return (self.prefix / "run" / "magiceraser.pid").read_text().strip()


@pytest.fixture(scope="module")
def deployed(app_wheelhouse, tiny_zip, tmp_path_factory):
    root = tmp_path_factory.mktemp("local-deploy")
    homes = {"MAGICERASER_HOME": str(root / "data"), "RVFORGE_HOME": str(root / "cache")}
    invoke("fetch-model", "--from", str(tiny_zip), env=homes, check=True)
    house = copy_wheelhouse(app_wheelhouse, root / "wheelhouse")
    blas_wheel = make_blas_wheel(root / "blas", os.uname().machine)
    os.replace(blas_wheel, house / blas_wheel.name)
    port = free_port()
    target = write_target(root / "local.yaml", root / "prefix", port)
    # Offline: an unreachable index, no pip config, no find-links: only the wheelhouse can serve.
    env = offline_env(**homes)
    start = time.monotonic()
    proc = invoke("deploy", "--target", str(target), "--wheelhouse", str(house), env=env, timeout=1200)
    state = Deployed(root, env, target, house, port)
    state.deploy_output = proc.stdout + proc.stderr
    state.deploy_seconds = time.monotonic() - start
    yield state
    ctl = root / "prefix" / "bin" / "magiceraserctl"
    if ctl.exists():
        subprocess.run([str(ctl), "stop"], capture_output=True)
    assert proc.returncode == 0, state.deploy_output


def erase_reference(url: str, lama_reference: Path) -> np.ndarray:
    def data_url(path: Path) -> str:
        return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()

    response = requests.post(f"{url}/predict", timeout=120, json={
        "image": data_url(lama_reference / "image.png"), "mask": data_url(lama_reference / "mask.png")})
    assert response.status_code == 200, response.text
    encoded = response.json()["result_image"].split(",", 1)[1]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(encoded))).convert("RGB"), dtype=int)


def assert_golden(url: str, lama_reference: Path) -> None:
    golden = np.load(lama_reference / "golden.npz")["result_uint8"].astype(int)
    assert np.abs(erase_reference(url, lama_reference) - golden).max() <= 1


def test_offline_deploy_serves_the_installed_model(deployed, lama_reference):
    assert "failed" not in deployed.deploy_output, deployed.deploy_output
    assert len(deployed.releases()) == 1
    assert deployed.current() == f"releases/{deployed.releases()[0]}"
    health = requests.get(f"{deployed.url}/api/v1/health", timeout=10).json()
    assert health["status"] == "ok"
    assert health["model_path"] == "big-lama"  # the user data's model, named without its absolute path
    assert_golden(deployed.url, lama_reference)
    release = deployed.prefix / "current"
    info = json.loads((release / "release.json").read_text())
    assert any(p.startswith("magiceraser==") for p in info["packages"])
    assert any(p.startswith("torch==2.13.0") for p in info["packages"])
    pid = deployed.pid()
    assert str(deployed.prefix) in Path(f"/proc/{pid}/cmdline").read_text()


def test_deploy_installs_the_blas_wheel_and_chooses_its_flavour(deployed):
    """The library wheel no other wheel requires is installed; of its flavours the one that is no
    OpenBLAS is refused by its self-test and the good one is selected and loaded by every Python."""
    out = deployed.deploy_output
    assert "choose the BLAS flavour this CPU runs" in out
    assert "OpenBLAS flavour good: bad: " in out and "is not an OpenBLAS" in out, out[-2000:]
    python = deployed.prefix / "current" / "venv" / "bin" / "python"
    status = json.loads(subprocess.run([str(python), "-m", "rvforge_openblas"], capture_output=True,
                                       text=True, check=True).stdout)
    assert status["loaded"] == "good" and status["why"] == "it passed its self-test on this machine", status
    assert status["files"][0].startswith(str(deployed.prefix)), status


def test_status_and_logs(deployed):
    status = invoke("deploy", "--target", str(deployed.target), "--status", env=deployed.env, check=True)
    assert "running, healthy" in status.stdout and f"* {deployed.releases()[0]}" in status.stdout
    logs = invoke("deploy", "--target", str(deployed.target), "--logs", env=deployed.env, check=True)
    assert "--- start" in logs.stdout and "MagicEraser on" in logs.stdout


def test_failing_upgrade_leaves_the_running_release_serving(deployed, lama_reference, tmp_path):
    broken = tmp_path / "broken-model"
    (broken / "models").mkdir(parents=True)
    (broken / "config.yaml").write_text("generator: [this is not a generator section\n")
    (broken / "models" / "best.ckpt").write_bytes(b"")
    target = write_target(tmp_path / "broken.yaml", deployed.prefix, deployed.port, model=str(broken))
    before = (deployed.releases(), deployed.current(), deployed.pid())
    proc = invoke("deploy", "--target", str(target), "--wheelhouse", str(deployed.house),
                  env=deployed.env, timeout=1200)
    assert proc.returncode == 6, proc.stdout + proc.stderr
    assert "failed its health check" in proc.stderr and "the running release was left untouched" in proc.stderr
    assert str(broken) in proc.stderr  # the log tail names the broken model
    assert (deployed.releases(), deployed.current(), deployed.pid()) == before
    assert_golden(deployed.url, lama_reference)


def test_upgrade_with_a_torch_wheel_file_then_rollback(deployed, lama_reference, tmp_path):
    """Provider ``wheel: PATH`` (same torch file: its unpacked layer is reused), then --rollback."""
    torch_wheel = next(deployed.house.glob("torch-*.whl"))
    house = tmp_path / "wheelhouse-without-torch"
    house.mkdir()
    for wheel in deployed.house.glob("*.whl"):
        if wheel != torch_wheel:
            os.link(wheel, house / wheel.name)
    first = deployed.current()
    proc = invoke("deploy", "--target", str(deployed.target), "--wheelhouse", str(house),
                  "--torch", f"wheel:{torch_wheel}", env=deployed.env, timeout=1200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"torch from wheel:{torch_wheel}" in proc.stdout
    assert deployed.current() != first and len(deployed.releases()) == 2
    assert len(list((deployed.prefix / "layers").iterdir())) == 1  # torch unpacked once for both
    assert_golden(deployed.url, lama_reference)
    back = invoke("deploy", "--target", str(deployed.target), "--rollback", env=deployed.env, timeout=600)
    assert back.returncode == 0, back.stdout + back.stderr
    assert deployed.current() == first
    assert_golden(deployed.url, lama_reference)


@pytest.mark.parametrize("where", ["prefix", "checkout"])
def test_invoke_serve_prints_the_url_and_serves(deployed, where, lama_reference):
    port = free_port()
    args = ["serve", "--port", str(port)]
    if where == "prefix":
        args += ["--prefix", str(deployed.prefix)]
    else:
        args += ["--host", "0.0.0.0"]
    proc = subprocess.Popen([sys.executable, "-m", "invoke", *args], cwd=REPO, env=deployed.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        assert_golden(f"http://127.0.0.1:{port}", lama_reference)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in out
    if where == "checkout":
        assert "exposes the eraser to the network" in err
    else:
        assert "exposes" not in err
