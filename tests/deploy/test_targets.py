"""The shipped target files load, and torch provider spellings normalise to one form."""

from __future__ import annotations

import pytest

from rvforge.deploy import targets
from rvforge.errors import ConfigError


def test_shipped_local_target():
    local = targets.load("local")
    assert local.ssh is None
    assert local.settings.prefix == targets.DEFAULT_PREFIX
    assert local.settings.service.host == "127.0.0.1" and local.settings.service.port == 7777


def test_shipped_remote_example_checks_host_keys_from_a_file():
    remote = targets.load("rvbook-example")
    assert remote.ssh.destination == "me@rvbook.local" and remote.ssh.port == 22
    assert remote.ssh.known_hosts == "~/.ssh/known_hosts"
    assert remote.settings.torch == "wheelhouse"


@pytest.mark.parametrize("value, expected", [
    ("system", "system"), ("wheelhouse", "wheelhouse"),
    ({"wheel": "/w/torch-2.5-cp311-cp311-linux_riscv64.whl"}, "wheel:/w/torch-2.5-cp311-cp311-linux_riscv64.whl"),
    ("wheel:/w/t.whl", "wheel:/w/t.whl"),
])
def test_torch_provider_spellings(value, expected):
    assert targets.normalize_torch(value, "t.yaml") == expected


def test_unknown_torch_provider_is_named():
    with pytest.raises(ConfigError, match="torch must be wheelhouse, system or 'wheel: PATH', not 'conda'"):
        targets.normalize_torch("conda", "t.yaml")
