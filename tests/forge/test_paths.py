"""The tool and the app must agree on where user data (models) lives: fetch-model writes there,
the app reads there, and the app cannot import the tool."""

import pytest

from magiceraser import modelpath
from rvforge import paths


@pytest.mark.parametrize("env", [{}, {"XDG_DATA_HOME": "/xdg"}, {"MAGICERASER_HOME": "/data", "XDG_DATA_HOME": "/x"}])
def test_tool_and_app_share_the_user_data_dir(monkeypatch, tmp_path, env):
    monkeypatch.delenv("MAGICERASER_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert paths.user_data_dir() == modelpath.user_data_dir()
    expected = env.get("MAGICERASER_HOME") or f"{env.get('XDG_DATA_HOME', tmp_path / '.local/share')}/magiceraser"
    assert str(paths.user_data_dir()) == str(expected)
