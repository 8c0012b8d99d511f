"""A built wheel's shared objects lose their search paths into the build (real gcc, readelf and
dynamic loader): what torch's CMake writes when it links the openblas wheel of its build venv."""

from __future__ import annotations

import ctypes
import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from rvforge.build import runpaths
from rvforge.build.wheelhouse import normalize_wheel

BUILD = "/root/.cache/rvforge/work/torch-2.6.0"
EPOCH = 1_700_000_000


def _shared(tmp_path: Path, search: str, tag: str = "--enable-new-dtags") -> Path:
    source = tmp_path / "answer.c"
    source.write_text("int answer(void) { return 42; }\n")
    out = tmp_path / "libanswer.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(source), f"-Wl,{tag}",
                    f"-Wl,-rpath,{search}"], check=True)
    return out


def _search_path(library: Path) -> tuple[str, str]:
    dynamic = subprocess.run(["readelf", "-d", str(library)], capture_output=True, text=True, check=True).stdout
    found = re.search(r"\((RUNPATH|RPATH)\)\s+Library (?:runpath|rpath): \[(.*)\]", dynamic)
    assert found, dynamic
    return found.group(1), found.group(2)


def _wheel(tmp_path: Path, library: Path) -> Path:
    raw = tmp_path / "raw.whl"
    with zipfile.ZipFile(raw, "w") as archive:
        archive.write(library, "answer/lib/libanswer.so")
        archive.writestr("answer/lib/libanswer_dev.so", "INPUT(libanswer.so)\n")  # a linker script: skipped
        archive.writestr("answer/__init__.py", "")
        archive.writestr("answer-1.0.dist-info/RECORD", "")
    wheel = tmp_path / "answer-1.0-cp311-cp311-linux_x86_64.whl"
    normalize_wheel(raw, wheel, EPOCH)
    return wheel


@pytest.mark.parametrize("tag", ["--enable-new-dtags", "--disable-new-dtags"], ids=["RUNPATH", "RPATH"])
def test_entries_into_the_build_are_dropped_and_the_library_still_loads(tmp_path: Path, tag: str) -> None:
    kept = "/opt/vendor/lib"
    library = _shared(tmp_path, f"$ORIGIN:{BUILD}/build-venv/site-packages/rvforge_openblas/generic/lib:"
                                f"{kept}:{BUILD}", tag)
    wheel = _wheel(tmp_path, library)
    report = runpaths.drop_from_wheel(wheel, [BUILD], EPOCH)
    assert report == [f"answer/lib/libanswer.so: dropped {BUILD}/build-venv/site-packages/rvforge_openblas/"
                      f"generic/lib, {BUILD}"]
    out = tmp_path / "out"
    zipfile.ZipFile(wheel).extractall(out)
    edited = out / "answer" / "lib" / "libanswer.so"
    assert _search_path(edited) == (_search_path(library)[0], f"$ORIGIN:{kept}")
    assert edited.stat().st_size == library.stat().st_size
    assert ctypes.CDLL(str(edited)).answer() == 42
    record = zipfile.ZipFile(wheel).read("answer-1.0.dist-info/RECORD").decode()
    assert "answer/lib/libanswer.so,sha256=" in record  # the wheel's record follows the new bytes
    assert runpaths.drop_from_wheel(wheel, [BUILD], EPOCH) == []  # nothing left to drop


def test_a_search_path_left_empty_becomes_origin_not_the_current_directory(tmp_path: Path) -> None:
    library = _shared(tmp_path, f"{BUILD}/build-venv/lib")
    edited, dropped = runpaths.drop_entries(library.read_bytes(), [BUILD], library.name)
    assert dropped == [f"{BUILD}/build-venv/lib"]
    (tmp_path / "edited.so").write_bytes(edited)
    assert _search_path(tmp_path / "edited.so")[1] == "$ORIGIN"


def test_other_wheels_are_left_byte_for_byte(tmp_path: Path) -> None:
    """Paths that only share a prefix with the build's directory are not inside it."""
    wheel = _wheel(tmp_path, _shared(tmp_path, f"$ORIGIN:{BUILD}-other/lib"))
    before = wheel.read_bytes()
    assert runpaths.drop_from_wheel(wheel, [BUILD], EPOCH) == []
    assert wheel.read_bytes() == before
