"""The seccomp launcher really makes statx and faccessat2 fail with ENOSYS (checked on the host)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import ctypes, errno, os, platform
assert platform.machine() == "x86_64"
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(256)
SYS_STATX, SYS_FACCESSAT2, AT_FDCWD = 332, 439, -100

def call(*args):
    ctypes.set_errno(0)
    rc = libc.syscall(*args)
    return rc, errno.errorcode.get(ctypes.get_errno(), "OK") if rc else "OK"

print("statx", *call(SYS_STATX, AT_FDCWD, b"/", 0, 0x7FF, buf))
print("faccessat2", *call(SYS_FACCESSAT2, AT_FDCWD, b"/", os.R_OK, 0))
print("stat", os.stat("/").st_ino > 0)
"""

pytestmark = pytest.mark.skipif(os.uname().machine != "x86_64", reason="syscall numbers are x86_64's")


@pytest.fixture(scope="module")
def launcher(repo_root, tmp_path_factory) -> str:
    home = tmp_path_factory.mktemp("rvforge-home")
    proc = subprocess.run(["bash", "-c", f". {repo_root}/ci/riscv64/lib.sh && rv_launcher"],
                          env={**os.environ, "RVFORGE_HOME": str(home)}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    path = proc.stdout.strip()
    assert path.startswith(str(home)) and os.access(path, os.X_OK)
    return path


def test_statx_and_faccessat2_fail_with_enosys_under_the_launcher(launcher):
    out = subprocess.run([launcher, sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    assert "statx -1 ENOSYS" in out
    assert "faccessat2 -1 ENOSYS" in out
    assert "stat True" in out  # the calls proot translates keep working


def test_without_the_launcher_statx_works(launcher):
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    assert "statx 0 OK" in out


def test_launcher_usage_and_missing_command(launcher):
    usage = subprocess.run([launcher], capture_output=True, text=True)
    assert usage.returncode == 2 and "usage:" in usage.stderr
    missing = subprocess.run([launcher, "/nonexistent/cmd"], capture_output=True, text=True)
    assert missing.returncode == 127 and "cannot run /nonexistent/cmd" in missing.stderr


def test_launcher_is_built_once_per_source_version(launcher, repo_root):
    home = os.path.dirname(os.path.dirname(os.path.dirname(launcher)))
    again = subprocess.run(["bash", "-c", f". {repo_root}/ci/riscv64/lib.sh && rv_launcher"],
                           env={**os.environ, "RVFORGE_HOME": home}, capture_output=True, text=True, check=True)
    assert again.stdout.strip() == launcher
