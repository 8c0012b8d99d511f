"""Deploy over a real OpenSSH server (Debian's sshd on 127.0.0.1, throwaway keys, no PAM).

sshd insists on its privilege-separation dir /run/sshd; when the host has none it runs in a
private mount namespace with a tmpfs /run, so nothing outside the temp dir is touched.
One remote deploy (a second torch venv): about 2 minutes.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from deploy_support import copy_wheelhouse, invoke, offline_env

from rvforge.common import free_port
from rvforge.deploy.remote import Ssh
from rvforge.deploy.targets import SshTarget

SSHD = "/usr/sbin/sshd"



def sshd_command(config: Path) -> list[str]:
    if Path("/run/sshd").is_dir():
        return [SSHD, "-D", "-e", "-f", str(config)]
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("sshd needs /run/sshd, or root to give it a private one")
    inner = f"mount -t tmpfs tmpfs /run && mkdir -p /run/sshd && exec {SSHD} -D -e -f {config}"
    return ["unshare", "-m", "sh", "-c", inner]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    if not Path(SSHD).exists() or not shutil.which("ssh"):
        pytest.skip("openssh-server / openssh-client not installed (bash ci/setup.sh --dev installs them)")
    root = tmp_path_factory.mktemp("sshd")
    for name in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / name)], check=True)
    shutil.copy(root / "user_key.pub", root / "authorized_keys")
    port = free_port()
    config = root / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {root / 'host_key'}",
        f"AuthorizedKeysFile {root / 'authorized_keys'}", f"PidFile {root / 'sshd.pid'}",
        "UsePAM no", "StrictModes no", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password", ""]))
    log = open(root / "sshd.log", "w")
    proc = subprocess.Popen(sshd_command(config), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while "Server listening" not in (root / "sshd.log").read_text():
        assert proc.poll() is None and time.monotonic() < deadline, (root / "sshd.log").read_text()
        time.sleep(0.1)
    host_key = (root / "host_key.pub").read_text().split()
    (root / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    (root / "empty_known_hosts").write_text("")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / "other_key")], check=True)
    other = (root / "other_key.pub").read_text().split()
    (root / "changed_known_hosts").write_text(f"[127.0.0.1]:{port} {other[0]} {other[1]}\n")
    yield {"root": root, "port": port}
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def remote_target(path: Path, sshd: dict, known_hosts: str, prefix: Path, data: Path, service_port: int) -> Path:
    path.write_text("\n".join([
        "host: 127.0.0.1", f"port: {sshd['port']}", f"user: {getpass.getuser()}",
        f"key: {sshd['root'] / 'user_key'}", f"known_hosts: {sshd['root'] / known_hosts}",
        f"prefix: {prefix}", f"data_dir: {data}", f"python: {sys._base_executable}", "manager: pidfile",
        "health_timeout: 120", "service:", f"  port: {service_port}", ""]))
    return path


@pytest.mark.parametrize("known_hosts, message", [
    ("empty_known_hosts", "is not in .*refusing to trust an unknown key"),
    ("changed_known_hosts", "has CHANGED since it was recorded"),
])
def test_unknown_or_changed_host_key_is_refused(sshd, tmp_path, homes, known_hosts, message):
    target = remote_target(tmp_path / "t.yaml", sshd, known_hosts, tmp_path / "prefix",
                           tmp_path / "data", free_port())
    house = tmp_path / "wheelhouse"
    house.mkdir()
    proc = invoke("deploy", "--target", str(target), "--wheelhouse", str(house), env=offline_env(**homes))
    assert proc.returncode == 6, proc.stdout + proc.stderr
    assert re.search(f"the host key of 127.0.0.1:{sshd['port']} {message}", proc.stderr), proc.stderr
    assert not (tmp_path / "prefix").exists()
    assert "ssh-keygen -lf" in proc.stderr or "fingerprint" in proc.stderr


@pytest.mark.slow
def test_deploy_over_ssh_copies_what_changed_and_serves(sshd, app_wheelhouse, tiny_zip, tmp_path, homes):
    invoke("fetch-model", "--from", str(tiny_zip), env=homes, check=True)
    house = copy_wheelhouse(app_wheelhouse, tmp_path / "wheelhouse")
    prefix, data, port = tmp_path / "remote-prefix", tmp_path / "remote-data", free_port()
    target = remote_target(tmp_path / "rvbook.yaml", sshd, "known_hosts", prefix, data, port)
    env = offline_env(**homes)
    try:
        proc = invoke("deploy", "--target", str(target), "--wheelhouse", str(house), env=env, timeout=1200)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "copy the model (only what changed)" in proc.stdout
        # the model and wheelhouse landed on the target side, the service runs from there
        assert (data / "models" / "big-lama" / "models" / "best.ckpt").is_file()
        assert sorted(p.name for p in (prefix / "incoming" / "wheelhouse").iterdir()) == \
            sorted(p.name for p in house.iterdir())
        health = requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=10).json()
        assert health["engine"] == "lama" and health["model_path"] == "big-lama"
        status = invoke("deploy", "--target", str(target), "--status", env=env, check=True)
        assert "running, healthy" in status.stdout
    finally:
        ctl = prefix / "bin" / "magiceraserctl"
        if ctl.exists():
            subprocess.run([str(ctl), "stop"], capture_output=True)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("transport", ["rsync", "tar"])
def test_copy_mirrors_the_same_tree_with_or_without_rsync(sshd, tmp_path, monkeypatch, transport):
    """Without rsync on this machine the copy falls back to a tar stream over ssh; both honour
    excludes, ``delete`` and names with spaces the same way."""
    if transport == "tar":
        which = shutil.which
        monkeypatch.setattr("rvforge.deploy.remote.shutil.which", lambda name, *a, **k: None if name == "rsync"
                            else which(name, *a, **k))
    ssh = Ssh(SshTarget(host="127.0.0.1", port=sshd["port"], user=getpass.getuser(),
                        key=str(sshd["root"] / "user_key"), known_hosts=str(sshd["root"] / "known_hosts")))
    source = tmp_path / "source"
    (source / "pkg" / "__pycache__").mkdir(parents=True)
    (source / "app-1.0-py3-none-any.whl").write_bytes(b"wheel")
    (source / "pkg" / "mod.py").write_text("x = 1\n")
    (source / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\0")
    (source / "model.tmp").write_text("partial download")
    (source / "name with space.txt").write_text("s")
    remote = tmp_path / "remote dir"
    (remote / "old").mkdir(parents=True)
    (remote / "old" / "stale-0.9.whl").write_text("stale")
    ssh.copy(source, str(remote), delete=True, excludes=("__pycache__", "*.tmp"))
    expected = {"app-1.0-py3-none-any.whl": b"wheel", "name with space.txt": b"s", "pkg/mod.py": b"x = 1\n"}
    assert _tree(remote) == expected
    (remote / "kept.txt").write_text("kept")
    single = tmp_path / "torch-2.6.0-cp311-cp311-linux_riscv64.whl"
    single.write_bytes(b"torch")
    ssh.copy(single, str(remote))  # no delete: what is there stays
    assert _tree(remote) == {**expected, "kept.txt": b"kept", single.name: b"torch"}
