"""Faults around a running eraser: a damaged installed model at start, the model file deleted or
replaced while serving, SIGTERM in the middle of an inference. Real ``magiceraser serve`` processes."""

from __future__ import annotations

import shutil
import signal
import threading
import time

import pytest
import requests
from fault_support import erase, install
from live_server import live_server


def test_health_names_the_installed_model_without_its_absolute_path(tiny_model, tmp_path):
    install(tiny_model, tmp_path / "home")
    with live_server(None, env={"MAGICERASER_HOME": str(tmp_path / "home")}) as server:
        health = server.health()
    assert health["engine"] == "lama" and health["model_path"] == "big-lama"
    assert str(tmp_path) not in str(health)


DAMAGE = {
    "truncated weights": lambda m: (m / "models" / "best.ckpt").write_bytes(
        (m / "models" / "best.ckpt").read_bytes()[:5000]),
    "weights replaced by garbage": lambda m: (m / "models" / "best.ckpt").write_bytes(b"\x00garbage" * 999),
    "config.yaml not YAML": lambda m: (m / "config.yaml").write_text("generator: [unclosed\n"),
    "weights deleted": lambda m: (m / "models" / "best.ckpt").unlink(),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_installed_model_starts_the_classical_engine_and_names_the_fix(tiny_model, tmp_path, damage):
    DAMAGE[damage](install(tiny_model, tmp_path / "home"))
    with live_server(None, env={"MAGICERASER_HOME": str(tmp_path / "home")}) as server:
        health = server.health()
        answer = erase(server.url)
        log = server.log()
    assert health["status"] == "ok" and health["engine"] == "classical", health
    hint = health["model_missing_hint"]
    assert "installed LaMa model big-lama cannot be loaded" in hint and "invoke fetch-model" in hint, hint
    assert str(tmp_path) not in str(health)
    assert answer.status_code == 200 and answer.headers["X-Engine"] == "classical", answer.text
    assert "Traceback" not in log and "invoke fetch-model" in log


def test_a_model_named_by_flag_that_is_damaged_still_stops_the_start(tiny_model, tmp_path):
    """Only the installed default falls back: a --model the user typed must not be silently ignored."""
    model = install(tiny_model, tmp_path / "elsewhere")
    DAMAGE["config.yaml not YAML"](model)
    with pytest.raises(AssertionError, match="server exited with 2"):
        with live_server(model, env={"MAGICERASER_HOME": str(tmp_path / "home")}, timeout=60):
            pass


@pytest.mark.parametrize("change", ["deleted", "replaced"])
def test_model_file_deleted_or_replaced_while_serving(tiny_model, tmp_path, change):
    model = install(tiny_model, tmp_path / "home")
    with live_server(None, env={"MAGICERASER_HOME": str(tmp_path / "home")}) as server:
        before = erase(server.url)
        digest = server.health()["model_digest"]
        weights = model / "models" / "best.ckpt"
        if change == "deleted":
            shutil.rmtree(model)
        else:  # what an installer does: a new file renamed over the old one
            replacement = weights.with_name("new.ckpt")
            replacement.write_bytes(b"not the loaded weights")
            replacement.replace(weights)
        after = [erase(server.url) for _ in range(3)]
        health = server.health()
    assert before.status_code == 200 and digest.startswith("sha256:")
    assert all(a.status_code == 200 and a.content == before.content for a in after)
    assert health["status"] == "ok" and health["engine"] == "lama"
    assert f"was {change} after it was loaded" in health["model_missing_hint"], health
    assert "keeps erasing until a restart" in health["model_missing_hint"]
    assert health["model_digest"] in (digest, None)


def test_sigterm_during_an_inference_answers_or_closes_and_exits_quickly(tiny_model):
    with live_server(tiny_model) as server:
        outcome: dict[str, object] = {}

        def client() -> None:
            try:
                outcome["status"] = erase(server.url, (1600, 1200), strategy="original").status_code
            except requests.ConnectionError as exc:
                outcome["closed"] = exc

        thread = threading.Thread(target=client)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.health()["busy"]:
            assert time.monotonic() < deadline, "the inference never started"
            time.sleep(0.05)
        sent = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=15)
        exited = time.monotonic() - sent
        thread.join(timeout=15)
    assert not thread.is_alive(), "the client was left waiting"
    assert outcome.get("status") == 200 or "closed" in outcome, outcome
    assert exited < 5, f"exited {exited:.1f} s after SIGTERM"
