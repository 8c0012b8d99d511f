"""The shipped target files load, and torch provider spellings normalise to one form."""

from __future__ import annotations

import re

import pytest
from deploy_support import invoke

from rvforge.deploy import targets
from rvforge.errors import ConfigError
from rvforge.ontarget.settings import Settings


def test_shipped_local_target():
    local = targets.load("local")
    assert local.ssh is None
    assert local.settings.prefix == Settings().prefix
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


@pytest.mark.parametrize("text, named", [
    ("keep: three\n", "keep: expected an integer >= 1, got 'three'"),
    ("keep: 0\n", "keep: expected an integer >= 1"),
    ("kep: 2\n", "kep: unknown field\n  fix: did you mean 'keep'?"),
    ("manager: systemv\n", "manager: expected one of: auto, systemd, pidfile"),
    ("service:\n  port: 99999\n", "service.port: expected an integer from 1 to 65535"),
    ("service:\n  prot: 80\n", "service.prot"),
    ("host: rv\nport: x\n", "port: expected an integer from 1 to 65535"),
    ("health_timeout: soon\n", "health_timeout"),
    ("torch: conda\n", "torch must be wheelhouse, system"),
    ("keep: [1\n", "invalid YAML"),
    ("- a\n- b\n", "mapping"),
])
def test_bad_target_file_is_one_line_naming_file_and_field(tmp_path, text, named):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(named)) as err:
        targets.load(str(path))
    assert str(path) in str(err.value)
    proc = invoke("deploy", "--status", "--target", str(path), env={"RVFORGE_HOME": str(tmp_path / "home")})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.startswith(f"error: {path}") and named in proc.stderr


@pytest.mark.parametrize("args, named", [
    (("deploy", "--status", "--keep", "x"), "--keep: expected an integer >= 1, got 'x'"),
    (("deploy", "--status", "--keep", "0"), "--keep: expected an integer >= 1"),
    (("deploy", "--status", "--port", "99999"), "--port: expected an integer from 1 to 65535"),
    (("deploy", "--status", "--target", "nowhere"), "unknown deploy target 'nowhere'"),
    (("serve", "--port", "x"), "--port: expected an integer from 1 to 65535, got 'x'"),
    (("serve", "--port", "0"), "--port: expected an integer from 1 to 65535"),
    (("build-wheels", "--dry-run", "--jobs", "-2"), "--jobs: expected an integer >= 1, got '-2'"),
    (("build-wheels", "--dry-run", "--jobs", "two"), "--jobs: expected an integer >= 1"),
    (("serve", "--model", "/nonexistent/big-lama"), "--model /nonexistent/big-lama: no such file or directory"),
    (("bench", "--threads", "0"), "--threads: expected an integer >= 1, got '0'"),
    (("bench", "--mkldnn", "sometimes"), "--mkldnn: expected one of: on, off, both"),
    (("bench", "--sizes", "big"), "--sizes: expected WxH sizes"),
    (("doctor", "--profile", "nope"), "unknown profile 'nope'"),
    (("doctor", "--sysroot", "/nonexistent"), "sysroot /nonexistent is not a directory"),
    (("build-wheels", "--dry-run", "--only", "nope"), "no recipe named nope"),
])
def test_bad_flag_stops_before_any_work_with_one_line(tmp_path, args, named):
    proc = invoke(*args, env={"RVFORGE_HOME": str(tmp_path / "home")})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.startswith(f"error: {named}") and "MagicEraser" not in proc.stdout
    assert not (tmp_path / "home").exists()  # nothing was started or written
