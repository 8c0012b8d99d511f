"""What the guest steps hand to the real commands: a valid local target, the runtime recipes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rvforge import REPO_ROOT
from rvforge.build import recipes
from rvforge.deploy import targets
from rvforge.emulation import guest
from rvforge.errors import CheckFailed
from rvforge.ontarget.release import Layout


def test_generated_target_is_a_valid_local_target(tmp_path, monkeypatch):
    monkeypatch.setattr(guest, "WORK", tmp_path)
    target = targets.load(str(guest.write_target(41234)))
    assert target.ssh is None  # local: deployed on the machine running the check
    settings = target.settings
    assert settings.torch == "system" and settings.manager == "pidfile"
    assert settings.prefix == str(guest.PREFIX)
    assert settings.service.port == 41234 and settings.service.host == "127.0.0.1"
    assert settings.service.model.endswith("tests/data/lama/tiny-lama")
    assert settings.health_timeout >= 600  # torch alone imports in ~20 s under emulation


def test_runtime_recipes_close_over_dependencies():
    names = guest.runtime_recipes(recipes.load_all(python="3.11"))
    assert {"flask", "waitress", "werkzeug", "jinja2", "markupsafe"} <= set(names)
    assert set(guest.service_runtime()) <= set(names)
    assert "torch" not in names and "numpy" not in names and "pillow" not in names


def test_service_runtime_follows_the_app_declaration():
    runtime = guest.service_runtime()
    assert "flask" in runtime and "waitress" in runtime
    assert not {"torch", "numpy", "pillow"} & set(runtime)


STUCK_SERVICE = """
import signal, socket, sys, time
from magiceraser.server import _dump_stacks_on
_dump_stacks_on(signal.SIGUSR1)
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
print(listener.getsockname()[1], flush=True)
connection, _ = listener.accept()
time.sleep(60)  # reads nothing, answers nothing: a stuck request
"""


def test_a_stuck_erase_fails_with_the_service_stacks(tmp_path, monkeypatch, capsys):
    """The service dumps its stacks on SIGUSR1 and keeps running; the check shows them and fails."""
    layout = Layout(tmp_path)
    layout.log_dir.mkdir()
    layout.run.mkdir()
    with layout.log_file.open("w") as log:
        service = subprocess.Popen([sys.executable, "-c", STUCK_SERVICE], stdout=subprocess.PIPE, stderr=log,
                                   text=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "app")})
    try:
        port = int(service.stdout.readline())
        layout.pid_file.write_text(f"{service.pid}\n")
        monkeypatch.setattr(guest, "PREFIX", tmp_path)
        monkeypatch.setattr(guest, "REQUEST_TIMEOUT", 1)
        with pytest.raises(CheckFailed, match="no answer from the deployed service within 1 s"):
            guest.check_erase(port)
        assert service.poll() is None  # the dump did not stop it
    finally:
        service.kill()
        service.wait()
    shown = "".join(capsys.readouterr())
    assert "(most recent call first)" in shown
    assert 'File "<string>", line 10' in shown  # the sleep: where the stuck service waits
