"""What the guest steps hand to the real commands: a valid local target, the runtime recipes."""

from __future__ import annotations

from rvforge.build import recipes
from rvforge.deploy import targets
from rvforge.emulation import guest


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
