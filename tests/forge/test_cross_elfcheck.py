"""A cross-built wheel is refused when its tag or any ELF member is not target code; the
x86_64 objects here are real ones compiled by this machine's gcc."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from rvforge.cross import elfcheck
from rvforge.errors import BuildFailed

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed here")


def _host_so(tmp_path: Path) -> bytes:
    (tmp_path / "m.c").write_text("int f(void) { return 1; }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(tmp_path / "m.so"), str(tmp_path / "m.c")], check=True)
    return (tmp_path / "m.so").read_bytes()


def _wheel(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _riscv64_header() -> bytes:
    """The first 20 bytes of a little-endian ELF64 shared object for machine 243 (RISC-V)."""
    return b"\x7fELF\x02\x01\x01" + bytes(9) + (3).to_bytes(2, "little") + (243).to_bytes(2, "little")


@needs_gcc
def test_host_code_in_a_riscv64_wheel_is_refused(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "pillow-11.3.0-cp314-cp314-linux_riscv64.whl",
                   {"PIL/_imaging.cpython-314-riscv64-linux-gnu.so": _host_so(tmp_path), "PIL/__init__.py": b""})
    with pytest.raises(BuildFailed) as err:
        elfcheck.check_wheel(wheel, "riscv64", "3.14")
    assert "PIL/_imaging.cpython-314-riscv64-linux-gnu.so is x86_64 code, not riscv64" in err.value.message


@needs_gcc
def test_machine_of_a_real_object(tmp_path: Path) -> None:
    assert elfcheck.machine_of(_host_so(tmp_path)[:64]) == "x86_64"
    assert elfcheck.machine_of(b"#!/bin/sh\n" + bytes(30)) is None
    assert elfcheck.machine_of(_riscv64_header()) == "riscv64"


def test_wrong_tag_is_refused(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "pillow-11.3.0-cp314-cp314-linux_x86_64.whl", {"a.so": _riscv64_header()})
    with pytest.raises(BuildFailed, match="tagged cp314-cp314-linux_x86_64, expected cp314-cp314-linux_riscv64"):
        elfcheck.check_wheel(wheel, "riscv64", "3.14")
    other_python = _wheel(tmp_path / "pillow-11.3.0-cp311-cp311-linux_riscv64.whl", {"a.so": _riscv64_header()})
    with pytest.raises(BuildFailed, match="expected cp314"):
        elfcheck.check_wheel(other_python, "riscv64", "3.14")


def test_target_code_passes_and_a_wheel_without_code_does_not(tmp_path: Path) -> None:
    good = _wheel(tmp_path / "x-1-cp314-cp314-linux_riscv64.whl",
                  {"a.so": _riscv64_header(), "b.so": _riscv64_header()})
    assert elfcheck.check_wheel(good, "riscv64", "3.14") == 2
    empty = _wheel(tmp_path / "y-1-cp314-cp314-linux_riscv64.whl", {"y/__init__.py": b""})
    with pytest.raises(BuildFailed, match="holds no compiled code"):
        elfcheck.check_wheel(empty, "riscv64", "3.14")
