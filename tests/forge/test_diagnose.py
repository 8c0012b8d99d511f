"""Failure diagnosis: each known failure's real log line maps to its one-line cause and fix, and a
real failed build (a Fortran project on a PATH without gfortran) prints it."""

from __future__ import annotations

import pytest
from conftest import invoke

from rvforge.build.diagnose import diagnose, relevant_tail
from rvforge.host.profiles import all_profiles

OPENEULER = all_profiles()["openeuler-riscv64"]


@pytest.mark.parametrize("line, expected", [
    ("meson.build:1:0: ERROR: Unknown compiler(s): [['gfortran'], ['flang-new'], ['flang']]",
     "sudo dnf install -y gcc-gfortran"),
    ('../scipy/meson.build:216:9: ERROR: Dependency "OpenBLAS" not found, tried pkgconfig and cmake',
     "invoke doctor --fix"),
    ("src/_imaging.c:75:10: fatal error: Python.h: No such file or directory", "python3-devel"),
    ("ModuleNotFoundError: No module named 'distutils'", "numpy >= 1.26"),
    ("g++: fatal error: Killed signal terminated program cc1plus", "--jobs"),
    ("ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.", "pinned sha256"),
    ("ERROR: Could not find a version that satisfies the requirement meson==1.7.0", "--download-only"),
    ("fatal: unable to access 'https://example.invalid/tlfloat/': Could not resolve host: example.invalid",
     "patch the fetch out"),
])
def test_known_failures(line, expected):
    text = f"lots of output\n[12/300] Compiling C object x.o\n{line}\nmore noise\n"
    diagnosis, matched = diagnose(text, OPENEULER)
    assert diagnosis and expected in diagnosis
    assert matched == line


def test_unknown_failure_has_no_diagnosis():
    assert diagnose("error: something new\n", OPENEULER) == (None, None)


def test_tail_drops_progress_lines():
    text = "\n".join(f"[{i}/9] Compiling C object a{i}.o" for i in range(9)) + "\nreal error\n"
    assert relevant_tail(text) == ["real error"]


@pytest.mark.slow
def test_build_without_gfortran_is_diagnosed(tmp_path, monkeypatch, path_without):
    project = tmp_path / "fortranpkg"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["meson-python"]\nbuild-backend = "mesonpy"\n\n'
        '[project]\nname = "fortranpkg"\nversion = "1.0"\n')
    (project / "meson.build").write_text("project('fortranpkg', 'c', version: '1.0')\n"
                                         "add_languages('fortran')\n")
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "fortranpkg.yaml").write_text(
        "schema: 1\nname: fortranpkg\nversion: '1.0'\nsource: {kind: local, path: ../fortranpkg}\n"
        "build_requires: [meson-python==0.17.1, meson==1.7.0, pyproject-metadata==0.9.1, "
        "packaging==24.2]\nsystem: [c-compiler, gfortran]\ntest: {script: 'import fortranpkg'}\n")
    monkeypatch.setenv("RVFORGE_HOME", str(tmp_path / "home"))
    proc = invoke("build-wheels", "--recipes", str(recipes), "--wheelhouse", str(tmp_path / "wh"),
                  "--profile", "openeuler-riscv64",
                  env={"PATH": path_without("*gfortran*", "f95", "f77", "flang*", "*-gfortran*")})
    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert "Unknown compiler(s)" in proc.stderr
    assert "diagnosis: no Fortran compiler: scipy needs gfortran - install it with " \
           "`sudo dnf install -y gcc-gfortran`" in proc.stderr
    assert "full log: " in proc.stderr
    assert not list((tmp_path / "wh").glob("*.whl"))
