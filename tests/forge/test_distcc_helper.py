"""`invoke build-helper`: a real distccd on 127.0.0.1 started, reported and stopped by the task,
its wrappers pinning the target's flags, and the network and toolchain checks that refuse to start."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from distccfixture import REPO, have_tools, remove, start_helper

from rvforge.build import elf_compare
from rvforge.host.helper_toolchain import apt_candidate

pytestmark = pytest.mark.skipif(bool(have_tools("riscv64-linux-gnu-gcc-12")),
                                reason=have_tools("riscv64-linux-gnu-gcc-12") or "")


def build_helper(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "invoke", "build-helper", *args], cwd=REPO,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


def distcc_compile(address: str, compiler: str, tmp: Path, *flags: str) -> Path:
    (tmp / "unit.c").write_text("double twice(double x) { return 2 * x; }\n")
    (tmp / "state").mkdir(exist_ok=True)
    env = {**os.environ, "DISTCC_HOSTS": f"{address}/2", "DISTCC_DIR": str(tmp / "state"),
           "DISTCC_FALLBACK": "0"}
    subprocess.run(["distcc", compiler, *flags, "-O2", "-c", "unit.c", "-o", "unit.o"], cwd=tmp,
                   env=env, check=True, capture_output=True, timeout=120)
    return tmp / "unit.o"


def test_start_status_stop(tmp_path):
    helper = start_helper("debian-x86_64")
    try:
        status = helper.invoke("--status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert f"listening on 127.0.0.1:{helper.port}" in status.stdout
        assert "allows 127.0.0.1;" in status.stdout and "x86_64-linux-gnu-gcc-12" in status.stdout
        pid = int((helper.home / "distcc-helper" / "distccd.pid").read_text())
        if os.geteuid() == 0:  # root hands the daemon to Debian's distccd user
            uid = next(line.split()[1] for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                       if line.startswith("Uid:"))
            assert uid == str(pwd.getpwnam("distccd").pw_uid)
        obj = distcc_compile(helper.address, "gcc", tmp_path)
        assert elf_compare.read_object(obj).machine == "x86_64"
        assert helper.compile_ok(expect=1) == 1
        assert "1 compile jobs done" in helper.invoke("--status").stdout
        stopped = helper.invoke("--stop")
        assert stopped.returncode == 0 and "helper stopped" in stopped.stdout
        assert helper.proc.wait(timeout=20) == 0  # the foreground task ends with its daemon
        after = helper.invoke("--status")
        assert after.returncode == 1 and "no helper runs" in after.stdout
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)  # the daemon's workers are gone too
    finally:
        remove(helper)


def test_wrappers_pin_the_target_flags(tmp_path):
    """A client's own -march cannot override the target's: the wrapper appends rv64gc/lp64d."""
    helper = start_helper("openeuler-riscv64")
    try:
        obj = elf_compare.read_object(distcc_compile(helper.address, "riscv64-linux-gnu-gcc-12", tmp_path,
                                                     "-march=rv64imac", "-mabi=lp64"))
        assert obj.machine == "riscv64"
        assert "_f2p2_d2p2_c2p0" in (elf_compare.isa(obj) or ""), elf_compare.isa(obj)
        cmdlist = (helper.home / "distcc-helper" / "cmdlist").read_text().split()
        assert {Path(p).name for p in cmdlist} >= {"gcc", "g++", "cc", "c++", "riscv64-linux-gnu-gcc-12",
                                                  "riscv64-openEuler-linux-gcc"}  # the laptop's own name
    finally:
        remove(helper)


@pytest.mark.parametrize("args, words", [
    (["--listen", "0.0.0.0"], "--listen 0.0.0.0 without --allow"),
    (["--listen", "192.168.1.2"], "--listen 192.168.1.2 without --allow"),
    (["--allow", "0.0.0.0/0"], "every address on the internet"),
    (["--listen", "0.0.0.0", "--allow", "::/0"], "every address on the internet"),
    (["--allow", "10.0.0.0/33"], "'10.0.0.0/33' is not an address or CIDR network"),
    (["--listen", "my-laptop"], "--listen my-laptop: not an IP address"),
])
def test_refuses_open_networks(tmp_path, args, words):
    proc = build_helper(*args, env={"RVFORGE_HOME": str(tmp_path)})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith(f"error: {words}") or words in proc.stderr.splitlines()[0], proc.stderr
    assert not (tmp_path / "distcc-helper").exists()


def test_names_a_missing_cross_gcc_major(tmp_path):
    """debian-riscv64 builds with gcc 16: a bookworm helper has no riscv64 gcc 16 and says so,
    naming the cross root (not created in this temp cache) as the way out."""
    if shutil.which("riscv64-linux-gnu-gcc-16") or apt_candidate("gcc-16-riscv64-linux-gnu"):
        pytest.skip("this host's distro packages a riscv64 gcc 16")
    proc = build_helper("--profile", "debian-riscv64", env={"RVFORGE_HOME": str(tmp_path)})
    assert proc.returncode == 3, proc.stdout + proc.stderr
    first = proc.stderr.splitlines()[0]
    assert "no gcc-16-riscv64-linux-gnu" in first and "target's gcc is 16" in first
    assert "forky" in proc.stderr
    assert "add --install to create it" in proc.stderr  # the tool's cross root has gcc 16


def test_names_the_install_command(tmp_path):
    """Tools missing (a PATH with apt but no distcc or cross gcc): the exact apt-get line."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("apt-cache", "apt-get"):
        found = shutil.which(tool)
        if not found:
            pytest.skip("not an apt-based host")
        (bin_dir / tool).symlink_to(found)
    proc = build_helper(env={"RVFORGE_HOME": str(tmp_path / "home"), "PATH": str(bin_dir)})
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "missing distccd, riscv64-linux-gnu-gcc-12, riscv64-linux-gnu-g++-12" in proc.stderr
    assert ("apt-get install -y --no-install-recommends distcc gcc-12-riscv64-linux-gnu "
            "g++-12-riscv64-linux-gnu") in proc.stderr


def test_systemd_unit_is_written_not_started(tmp_path):
    home = Path(tempfile.mkdtemp(prefix="rvforge-unit-", dir="/tmp"))
    home.chmod(0o755)  # a root-run daemon drops to the distccd user, which must reach the wrappers
    config = tmp_path / "config"
    proc = build_helper("--systemd", "--listen", "10.1.2.3", "--allow", "10.1.2.0/24", "--port", "3999",
                        env={"RVFORGE_HOME": str(home), "XDG_CONFIG_HOME": str(config)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    unit = (config / "systemd" / "user" / "rvforge-distccd.service").read_text()
    assert "--listen 10.1.2.3 --port 3999" in unit and "--allow 10.1.2.0/24" in unit
    assert f"DISTCC_CMDLIST={home / 'distcc-helper' / 'cmdlist'}" in unit
    assert "systemctl --user daemon-reload && systemctl --user enable --now rvforge-distccd.service" in proc.stdout
    assert not (home / "distcc-helper" / "distccd.pid").exists()
    shutil.rmtree(home)


def test_port_in_use_is_refused(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = build_helper("--profile", "debian-x86_64", "--port", str(port),
                            env={"RVFORGE_HOME": str(tmp_path)})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.splitlines()[0] == f"error: --port {port}: 127.0.0.1:{port} is already in use"
