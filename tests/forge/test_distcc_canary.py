"""The canary before distributed builds, against real helpers on 127.0.0.1: same compiler on both
sides passes (native x86_64, and riscv64 gcc 12 on both sides); another machine, another -march,
a compiler the helper does not list, or no helper at all stops the build with the reason. Also:
malformed host lists, and a helper that goes away mid-build (local fallback, visible warning)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from distccfixture import REPO, have_tools, remove, start_helper

from rvforge.build import distcc_canary, distcc_hosts, elf_compare
from rvforge.build.wheelhouse import Wheelhouse
from rvforge.common import free_port
from rvforge.errors import CheckFailed, ConfigError
from rvforge.host.profiles import all_profiles
from rvforge.tasks import build_wheels

pytestmark = pytest.mark.skipif(bool(have_tools("riscv64-linux-gnu-gcc-12")),
                                reason=have_tools("riscv64-linux-gnu-gcc-12") or "")
PROFILES = all_profiles()
RISCV_CC = ("riscv64-linux-gnu-gcc-12", "riscv64-linux-gnu-g++-12")


@pytest.fixture(scope="module")
def native_helper():
    helper = start_helper("debian-x86_64")
    yield helper
    remove(helper)


@pytest.fixture(scope="module")
def riscv_helper():
    helper = start_helper("openeuler-riscv64")
    yield helper
    remove(helper)


def client(address: str, profile: str, tmp: Path, cc: tuple[str, str] | None = None,
           flags: tuple[str, ...] | None = None) -> distcc_hosts.DistccSetup:
    setup = distcc_hosts.setup(distcc_hosts.parse_hosts(address), 1, tmp, PROFILES[profile], os.environ)
    if cc:
        setup = dataclasses.replace(setup, cc=cc[0], cxx=cc[1])
    return dataclasses.replace(setup, flags=flags) if flags is not None else setup


def test_native_helper_passes(native_helper, tmp_path):
    before = native_helper.compile_ok()
    setup = client(native_helper.address, "debian-x86_64", tmp_path)
    assert setup.cc == "x86_64-linux-gnu-gcc"  # the triplet name, which the helper maps
    distcc_canary.run(setup, os.environ, tmp_path)
    assert native_helper.compile_ok(expect=before + 2) == before + 2  # C and C++ ran remotely


def test_riscv64_gcc12_on_both_sides_passes(riscv_helper, tmp_path):
    before = riscv_helper.compile_ok()
    setup = client(riscv_helper.address, "openeuler-riscv64", tmp_path, cc=RISCV_CC)
    assert setup.flags == ("-march=rv64gc", "-mabi=lp64d")
    distcc_canary.run(setup, os.environ, tmp_path)
    assert riscv_helper.compile_ok(expect=before + 2) == before + 2
    assert elf_compare.read_object(tmp_path / "distcc" / "canary" / "remote.o").machine == "riscv64"


@pytest.mark.parametrize("cc, flags, reason", [
    (("gcc", "g++"), (), "the helper compiled for riscv64, this build is for x86_64"),
    (RISCV_CC, ("-march=rv64gc_zba_zbb", "-mabi=lp64d"), "different -march: rv64i2p1"),
    (("x86_64-linux-gnu-gcc", "x86_64-linux-gnu-g++"), (), "refused the C compiler x86_64-linux-gnu-gcc"),
])
def test_mismatched_helper_is_refused(riscv_helper, tmp_path, cc, flags, reason):
    setup = client(riscv_helper.address, "openeuler-riscv64", tmp_path, cc=cc, flags=flags)
    with pytest.raises(CheckFailed) as err:
        distcc_canary.run(setup, os.environ, tmp_path)
    assert err.value.message.startswith("distcc canary: helper 127.0.0.1:") and reason in err.value.message
    assert "\n" not in err.value.message


def test_unreachable_helper_is_refused(tmp_path):
    setup = client(f"127.0.0.1:{free_port()}", "debian-x86_64", tmp_path)
    with pytest.raises(CheckFailed, match="unreachable"):
        distcc_canary.run(setup, os.environ, tmp_path)


def test_other_gcc_version_is_named(tmp_path):
    """Same code, .comment from another gcc major (as a gcc 13 helper would leave): refused."""
    (tmp_path / "a.c").write_text("int one(void) { return 1; }\n")
    subprocess.run(["gcc", "-O2", "-g0", "-c", "a.c"], cwd=tmp_path, check=True)
    ours = (tmp_path / "a.o").read_bytes()
    version = elf_compare.gcc_version(elf_compare.read_object(tmp_path / "a.o"))
    assert version
    major, rest = version.split(".", 1)
    other = f"{major[:-1]}{(int(major[-1]) + 1) % 10}.{rest}"  # same length: the ELF layout holds
    (tmp_path / "b.o").write_bytes(ours.replace(f") {version}".encode(), f") {other}".encode()))
    reason = elf_compare.difference(elf_compare.read_object(tmp_path / "a.o"),
                                    elf_compare.read_object(tmp_path / "b.o"))
    assert reason == f"compiler version mismatch: gcc {version} here, gcc {other} on the helper"


def test_build_wheels_stops_before_building(riscv_helper, tmp_path):
    """Through the task: exit 3, one line with the reason, no wheel and no work tree left."""
    house, home = tmp_path / "house", tmp_path / "home"
    proc = subprocess.run(
        [sys.executable, "-m", "invoke", "build-wheels", "--profile", "debian-x86_64", "--only",
         "markupsafe", "--wheelhouse", str(house), "--distcc", riscv_helper.address], cwd=REPO,
        env={**os.environ, "RVFORGE_HOME": str(home)}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith(f"error: distcc canary: helper {riscv_helper.address}") and "refused" in first
    assert not list(house.glob("*.whl")) and not (home / "work").exists()


@pytest.mark.parametrize("text", ["", " , ", "127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1/0",
                                  "host:port", "127.0.0.1:3632/4,,10.0.0.1:x", "-bad", "a/b/c"])
def test_malformed_host_lists(text):
    with pytest.raises(ConfigError) as err:
        distcc_hosts.parse_hosts(text)
    assert err.value.message.startswith("--distcc: ") and "HOST[:PORT][/SLOTS]" in (err.value.hint or "")


def test_malformed_host_list_from_the_command_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "invoke", "build-wheels", "--dry-run", "--distcc", "10.0.0.1:port"],
        cwd=REPO, env={**os.environ, "RVFORGE_HOME": str(tmp_path)}, capture_output=True, text=True,
        timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == "error: --distcc: '10.0.0.1:port' is not a helper"
    assert "HOST[:PORT][/SLOTS]" in proc.stderr
    assert not (tmp_path / "distcc").exists()


def test_host_list_forms():
    helpers = distcc_hosts.parse_hosts("127.0.0.1, localhost:4000/16")
    assert [h.spec() for h in helpers] == ["127.0.0.1:3632/4,lzo", "127.0.0.1:4000/16,lzo"]


def test_helper_gone_falls_back_with_a_warning(tmp_path, capsys):
    """After a passing canary the helper stops: compiles still succeed here, and the run says so."""
    helper = start_helper("debian-x86_64")
    try:
        setup = client(helper.address, "debian-x86_64", tmp_path)
        distcc_canary.run(setup, os.environ, tmp_path)
    finally:
        remove(helper)
    (tmp_path / "late.c").write_text("int late(int x) { return x + 1; }\n")
    env = {**os.environ, **setup.env(), "CCACHE_DIR": str(tmp_path / "ccache")}
    proc = subprocess.run(["ccache", setup.cc, "-O2", "-c", "late.c"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and (tmp_path / "late.o").exists(), proc.stderr
    assert distcc_hosts.local_fallbacks(proc.stderr) == 1, proc.stderr
    house = Wheelhouse(tmp_path / "house")
    house.entries["late"] = {"distcc": setup.record(proc.stderr)}
    build_wheels._report_helpers(setup, house, "late")
    warning = capsys.readouterr().err
    assert f"late: 1 compile job(s) ran on this machine instead of a helper; unreachable now: {helper.address}" \
        in warning


def test_host_list_from_invoke_config_and_profile(tmp_path):
    """Without --distcc the invoke config's build_wheels.distcc is used, then the profile's."""
    config = tmp_path / "config.yaml"
    config.write_text("build_wheels:\n  distcc: '10.0.0.1:port'\n")
    profile = tmp_path / "laptop.yaml"
    profile.write_text((REPO / "configs" / "profiles" / "debian-x86_64.yaml").read_text()
                       + "distcc: '10.0.0.2/x'\n")
    env = {**os.environ, "RVFORGE_HOME": str(tmp_path / "home")}

    def dry_run(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "invoke", *args, "--dry-run"], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        return proc.stderr.splitlines()[0]

    assert dry_run("-f", str(config), "build-wheels", "--profile", str(profile)) == \
        "error: invoke.yaml build_wheels.distcc: '10.0.0.1:port' is not a helper"
    assert dry_run("build-wheels", "--profile", str(profile)) == \
        "error: profile debian-x86_64 distcc: '10.0.0.2/x' is not a helper"
    assert dry_run("-f", str(config), "build-wheels", "--distcc", "10.0.0.3:1:2") == \
        "error: --distcc: '10.0.0.3:1:2' is not a helper"
