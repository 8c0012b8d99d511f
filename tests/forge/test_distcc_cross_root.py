"""`invoke build-helper --profile debian-riscv64` where this distro has no riscv64 gcc 16: a real
distccd runs inside the tool's cross root (Debian forky, gcc 16) on 127.0.0.1. The canary run by a
client inside that root with its own riscv64-linux-gnu-gcc-16 passes (identical objects); a client
with this distro's riscv64 gcc 12 is refused; status and stop work as for a helper run here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from distccfixture import REPO, RunningHelper, have_tools, remove, start_helper

from rvforge.build import distcc_canary, distcc_hosts, elf_compare
from rvforge.cross import chroot, helper_root, root
from rvforge.cross.target import cross_target
from rvforge.emulation import host_helper
from rvforge.errors import CheckFailed
from rvforge.host.helper_toolchain import apt_candidate

PROFILE = "debian-riscv64"
FLAGS = ("-march=rv64gc", "-mabi=lp64d")
#: The client inside the root runs the canary from the checkout (PyYAML is its one import from
#: outside the standard library).
CLIENT = """import os, sys
from pathlib import Path
from rvforge.build import distcc_canary, distcc_hosts
helper = distcc_hosts.Helper("127.0.0.1", int(sys.argv[1]), 2)
setup = distcc_hosts.DistccSetup((helper,), 1, Path("/opt/rvforge/work/state"), "riscv64-linux-gnu-gcc-16",
                                 "riscv64-linux-gnu-g++-16", ("-march=rv64gc", "-mabi=lp64d"))
print("canary:", distcc_canary.check_helper(helper, setup, os.environ, Path("/opt/rvforge/work")))
"""

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(bool(have_tools("riscv64-linux-gnu-gcc-12")),
                                 reason=have_tools("riscv64-linux-gnu-gcc-12") or "")]


@pytest.fixture(scope="module")
def cross_root() -> Path:
    if shutil.which("riscv64-linux-gnu-gcc-16") or apt_candidate("gcc-16-riscv64-linux-gnu"):
        pytest.skip("this distro packages a riscv64 gcc 16: the helper runs here, not in the cross root")
    path = root.default_path(cross_target(PROFILE))
    if not root.is_ready(path):
        pytest.skip(f"no cross root at {path}: create it once as root with "
                    f"`invoke doctor --cross-target {PROFILE} --fix`")
    return path


@pytest.fixture
def helper(cross_root: Path) -> Iterator[RunningHelper]:
    """A helper in a temp tool cache that holds the real cross root (linked, not copied)."""
    home = Path(tempfile.mkdtemp(prefix="rvforge-helper-", dir="/tmp"))
    (home / "cross").mkdir()
    (home / "cross" / cross_root.name).symlink_to(cross_root)
    running = start_helper(PROFILE, home=home, wait=60)
    yield running
    remove(running)


def _root_uid(cross_root: Path, user: str) -> str:
    return next(line.split(":")[2] for line in (cross_root / "etc/passwd").read_text().splitlines()
                if line.startswith(f"{user}:"))


def test_runs_in_the_cross_root_and_stops(helper: RunningHelper, cross_root: Path) -> None:
    status = helper.invoke("--status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"listening on 127.0.0.1:{helper.port}" in status.stdout
    assert "compiles with riscv64-linux-gnu-gcc-16 -march=rv64gc -mabi=lp64d" in status.stdout
    pid = int((helper.home / "distcc-helper" / "distccd.pid").read_text())
    assert os.readlink(f"/proc/{pid}/root") == str(cross_root.resolve())  # chrooted or proot-ed there
    assert b"distccd" in Path(f"/proc/{pid}/cmdline").read_bytes()
    if os.geteuid() == 0:  # dropped to the root's own distccd user
        uid = next(line.split()[1] for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("Uid:"))
        assert uid == _root_uid(cross_root, "distccd")
    cmdlist = (helper.home / "distcc-helper" / "cmdlist").read_text().split()
    assert all(line.startswith(f"{helper_root.INSIDE}/bin/") for line in cmdlist)
    wrapper = (helper.home / "distcc-helper" / "bin" / "gcc").read_text()
    assert "exec /usr/bin/riscv64-linux-gnu-gcc-16" in wrapper
    stopped = helper.invoke("--stop")
    assert stopped.returncode == 0 and "helper stopped" in stopped.stdout
    assert helper.proc.wait(timeout=20) == 0
    assert helper.invoke("--status").returncode == 1
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


def test_canary_passes_for_the_roots_own_gcc_16(helper: RunningHelper, cross_root: Path, tmp_path: Path) -> None:
    """The client in the root compiles locally and through the helper: identical objects."""
    work = tmp_path / "work"
    (work / "state").mkdir(parents=True)
    binds = [chroot.Bind(REPO, "/opt/rvforge/src"), chroot.Bind(work, "/opt/rvforge/work"),
             chroot.Bind(Path(yaml.__file__).parent, "/opt/rvforge/pylib/yaml")]
    python = f"python{cross_target(PROFILE).python}"
    proc = subprocess.run(chroot.argv(cross_root, [python, "-c", CLIENT, str(helper.port)],
                                      env={"PYTHONPATH": "/opt/rvforge/src:/opt/rvforge/pylib",
                                           "PYTHONDONTWRITEBYTECODE": "1"}, binds=binds),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "canary: None" in proc.stdout, proc.stdout + proc.stderr
    assert helper.compile_ok(expect=2) == 2  # C and C++ compiled by the helper
    local, remote = (elf_compare.read_object(work / name) for name in ("local.o", "remote.o"))
    assert remote.machine == "riscv64" and elf_compare.difference(local, remote) is None


@pytest.mark.parametrize("compiler, reason", [
    ("riscv64-linux-gnu-gcc-12", "refused the C compiler riscv64-linux-gnu-gcc-12"),
    ("riscv64-linux-gnu-gcc", "C: "),  # bookworm's gcc 12 under the unversioned name: other code
])
def test_canary_refuses_this_distros_gcc_12(helper: RunningHelper, tmp_path: Path, compiler: str, reason: str) -> None:
    setup = distcc_hosts.DistccSetup((distcc_hosts.Helper("127.0.0.1", helper.port, 2),), 1, tmp_path / "state",
                                     compiler, compiler.replace("gcc", "g++"), FLAGS)
    with pytest.raises(CheckFailed, match="distcc canary: ") as caught:
        distcc_canary.run(setup, dict(os.environ), tmp_path)
    assert reason in caught.value.message, caught.value.message


def test_systemd_unit_runs_in_the_cross_root(cross_root: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "cross").mkdir(parents=True)
    (home / "cross" / cross_root.name).symlink_to(cross_root)
    proc = subprocess.run([sys.executable, "-m", "invoke", "build-helper", "--profile", PROFILE, "--systemd",
                           "--port", "3999"], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "RVFORGE_HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    unit = (tmp_path / "cfg" / "systemd" / "user" / "rvforge-distccd.service").read_text()
    start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    if os.geteuid() == 0:  # $$: a literal $ for systemd
        assert f"exec chroot {home / 'cross' / cross_root.name} \"$$@\"" in start
    else:
        assert f"-r {home / 'cross' / cross_root.name}" in start and "proot" in start
    assert f"DISTCC_CMDLIST={helper_root.INSIDE}/cmdlist" in start and "--port 3999" in start
    assert not (home / "distcc-helper" / "distccd.pid").exists()


def test_the_riscv64_checks_helper_counts_only_its_own_jobs(cross_root: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The check's helper: started as a user would, jobs counted from its log, ended by pid."""
    home = tmp_path / "home"
    (home / "cross").mkdir(parents=True)
    (home / "cross" / cross_root.name).symlink_to(cross_root)
    monkeypatch.setenv("RVFORGE_HOME", str(home))
    (home / "distcc-helper").mkdir()
    (home / "distcc-helper" / "distccd.log").write_text("distccd[1] COMPILE_OK 0 0 gcc old.c\n")  # an earlier run
    with host_helper.running(2) as helper:
        assert helper.address.endswith("/2") and helper.jobs_done() == 0
        with pytest.raises(CheckFailed, match="shows no compile job from the guest"):
            helper.require_jobs()
        (tmp_path / "state").mkdir()
        (tmp_path / "unit.c").write_text("int twice(int x) { return 2 * x; }\n")
        subprocess.run(["distcc", "riscv64-linux-gnu-gcc", "-O2", "-c", "unit.c"], cwd=tmp_path, check=True,
                       timeout=120,
                       env={**os.environ, "DISTCC_HOSTS": helper.address, "DISTCC_DIR": str(tmp_path / "state"),
                            "DISTCC_FALLBACK": "0"})
        assert elf_compare.read_object(tmp_path / "unit.o").machine == "riscv64"
        for _ in range(50):
            if helper.jobs_done():
                break
            time.sleep(0.1)
        helper.require_jobs()
        pid = int((home / "distcc-helper" / "distccd.pid").read_text())
    for _ in range(100):  # the daemon's workers end on its SIGTERM
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    assert not (home / "distcc-helper" / "distccd.pid").exists()
