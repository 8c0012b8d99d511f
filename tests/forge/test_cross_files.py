"""The generated cross files and variables: parsed by the real tools where they exist here
(meson reads the cross file, cmake runs the toolchain file), never only compared as text."""

from __future__ import annotations

import ast
import configparser
import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rvforge.cross import files
from rvforge.cross.target import SYSROOT_INSIDE, cross_target
from rvforge.errors import ConfigError

TARGET = cross_target("debian-riscv64")
PINS = ["-march=rv64gc", "-mabi=lp64d"]


def _meson_ini(text: str) -> dict[str, dict[str, object]]:
    parser = configparser.ConfigParser()
    parser.read_string(text)
    return {name: {k: ast.literal_eval(v.replace("true", "True").replace("false", "False"))
                   for k, v in parser[name].items()} for name in parser.sections()}


def test_compiler_env_pins_the_profile_flags() -> None:
    env = files.compiler_env(TARGET)
    assert env["CC"] == "riscv64-linux-gnu-gcc-16 -march=rv64gc -mabi=lp64d"
    assert env["CXX"] == "riscv64-linux-gnu-g++-16 -march=rv64gc -mabi=lp64d"
    assert env["LDSHARED"] == env["CC"] + " -shared"
    assert env["AR"] == "riscv64-linux-gnu-ar"
    assert env["PKG_CONFIG_LIBDIR"].split(":")[0] == "/usr/lib/riscv64-linux-gnu/pkgconfig"
    assert "PKG_CONFIG_SYSROOT_DIR" not in env  # a multiarch root is "/"


def test_compiler_env_with_a_separate_sysroot() -> None:
    env = files.compiler_env(TARGET, "/srv/oe-sysroot")
    assert env["PKG_CONFIG_SYSROOT_DIR"] == "/srv/oe-sysroot"
    assert env["PKG_CONFIG_LIBDIR"].startswith("/srv/oe-sysroot/usr/lib/riscv64-linux-gnu/pkgconfig:")


def test_meson_cross_file_values() -> None:
    ini = _meson_ini(files.meson_cross(TARGET))
    assert ini["binaries"]["c"] == ["riscv64-linux-gnu-gcc-16", *PINS]
    assert ini["binaries"]["cpp"] == ["riscv64-linux-gnu-g++-16", *PINS]
    assert ini["binaries"]["fortran"] == ["riscv64-linux-gnu-gfortran-16", *PINS]
    assert ini["binaries"]["exe_wrapper"] == ["qemu-riscv64-static", "-L", "/"]
    assert ini["properties"]["longdouble_format"] == "IEEE_QUAD_LE"
    assert ini["properties"]["needs_exe_wrapper"] is True
    assert "sys_root" not in ini["properties"]
    assert ini["host_machine"] == {"system": "linux", "cpu_family": "riscv64", "cpu": "riscv64",
                                   "endian": "little"}
    with_root = _meson_ini(files.meson_cross(TARGET, "/srv/it's"))
    assert with_root["properties"]["sys_root"] == "/srv/it's"  # quotes survive


@pytest.mark.skipif(shutil.which("meson") is None, reason="meson is not installed here")
def test_meson_accepts_the_cross_and_native_files(tmp_path: Path) -> None:
    """meson itself reads both files: a cross build of a C project is configured for riscv64
    (the compiler sanity check is what would need the cross gcc, so the project has no language)."""
    (tmp_path / "meson.build").write_text(
        "project('probe', [])\n"
        "message('host=' + host_machine.cpu_family() + ' endian=' + host_machine.endian())\n"
        "message('longdouble=' + meson.get_external_property('longdouble_format'))\n"
        "message('cython=' + ' '.join(meson.get_external_property('nothing', ['-'])))\n")
    files.write_all(TARGET, tmp_path / "f", str(tmp_path / "f"), "/opt/x/build/bin/cython")
    proc = subprocess.run(["meson", "setup", "--cross-file", str(tmp_path / "f/cross.ini"), "--native-file",
                           str(tmp_path / "f/native.ini"), str(tmp_path / "b"), str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "host=riscv64 endian=little" in proc.stdout
    assert "longdouble=IEEE_QUAD_LE" in proc.stdout


@pytest.fixture(scope="module")
def meson_with_pkg_config_key(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A meson that reads the cross file's ``pkg-config`` binary entry (1.3 and later), as the
    cross root's and numpy's own do; Debian 12's is older."""
    where = tmp_path_factory.mktemp("meson")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(where), "meson==1.7.0"],
                   check=True, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    return ["env", f"PYTHONPATH={where}", sys.executable, "-m", "mesonbuild.mesonmain"]


def test_meson_finds_a_library_wheels_pc_file_for_the_target(tmp_path: Path,
                                                              meson_with_pkg_config_key: list[str]) -> None:
    """A cross build ignores PKG_CONFIG_PATH for the target: the library wheel's .pc dir must be
    in the cross file, before the target's own dirs."""
    pc_dir = tmp_path / "libraries" / "shout_libs" / "plain" / "lib" / "pkgconfig"
    pc_dir.mkdir(parents=True)
    (pc_dir / "shout.pc").write_text("prefix=${pcfiledir}/../..\nlibdir=${prefix}/lib\n"
                                     "Name: shout\nDescription: t\nVersion: 4.2\nLibs: -L${libdir} -lshout\n")
    library = str(pc_dir.parent.parent)
    assert files.pkg_config_libdir(TARGET, libraries=[library])[0] == str(pc_dir)
    assert files.compiler_env(TARGET, libraries=[library])["PKG_CONFIG_LIBDIR"].startswith(f"{pc_dir}:")
    (tmp_path / "meson.build").write_text("project('probe', [])\n"
                                          "message('shout=' + dependency('shout').version())\n")
    files.write_all(TARGET, tmp_path / "f", str(tmp_path / "f"), "/opt/x/build/bin/cython", libraries=[library])
    proc = subprocess.run([*meson_with_pkg_config_key, "setup", "--cross-file", str(tmp_path / "f/cross.ini"),
                           str(tmp_path / "b"), str(tmp_path)], capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"]})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "shout=4.2" in proc.stdout


@pytest.mark.skipif(shutil.which("meson") is None, reason="meson is not installed here")
@pytest.mark.parametrize("layout", ["numpy/_core/include", "numpy/core/include"])
def test_meson_reads_the_include_dirs_a_project_would_ask_python_for(tmp_path: Path, layout: str) -> None:
    """scipy asks the cross file for numpy's and pythran's include dirs instead of running Python:
    the target's numpy (either layout) and the build machine's pythran, only when the build has them."""
    site = tmp_path / "target-site"
    (site / layout).mkdir(parents=True)
    found = files.include_dirs(site, "/w/target-site", "/w/crossenv/build/site", ["Pythran==0.17.0", "ply==3.11"])
    assert found == {"numpy-include-dir": f"/w/target-site/{layout}",
                     "pythran-include-dir": "/w/crossenv/build/site/pythran"}
    assert files.include_dirs(tmp_path / "empty", "/w/e", "/w/b", ["Cython==3.0.12"]) == {}
    (tmp_path / "meson.build").write_text(
        "project('probe', [])\n"
        "message('numpy=' + meson.get_external_property('numpy-include-dir', 'not-given'))\n"
        "message('pythran=' + meson.get_external_property('pythran-include-dir', 'not-given'))\n"
        "message('python=' + import('python').find_installation().full_path())\n")
    # The target's python for meson's python module: crossenv's, never the one running meson.
    target_python = tmp_path / "crossenv-python"
    target_python.symlink_to(sys.executable)
    files.write_all(TARGET, tmp_path / "f", str(tmp_path / "f"), "/c", properties=found, python=str(target_python))
    proc = subprocess.run(["meson", "setup", "--cross-file", str(tmp_path / "f/cross.ini"), str(tmp_path / "b"),
                           str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"numpy=/w/target-site/{layout}" in proc.stdout
    assert "pythran=/w/crossenv/build/site/pythran" in proc.stdout
    assert f"python={target_python}" in proc.stdout


def test_a_library_wheels_pc_file_survives_the_sysroot_prefix(tmp_path: Path) -> None:
    """pkg-config puts --sysroot's dir in front of every path, a library wheel's too (it lies
    outside): the rewritten .pc climbs out again, checked with the real pkg-config."""
    sysroot = tmp_path / "sysroot"
    sysroot.mkdir()
    target = dataclasses.replace(TARGET, sysroot=sysroot)
    pc_dir = tmp_path / "target-site" / "shout_libs" / "plain" / "lib" / "pkgconfig"
    pc_dir.mkdir(parents=True)
    (pc_dir / "shout.pc").write_text("prefix=${pcfiledir}/../..\nlibdir=${prefix}/lib\nincludedir=${prefix}/include\n"
                                     "Name: shout\nDescription: t\nVersion: 1\nLibs: -L${libdir} -lshout\n"
                                     "Cflags: -I${includedir}\n")

    def flags() -> list[str]:
        env = {**os.environ, "PKG_CONFIG_LIBDIR": str(pc_dir), "PKG_CONFIG_SYSROOT_DIR": target.target_root}
        out = subprocess.run(["pkg-config", "--libs", "--cflags", "shout"], capture_output=True, text=True,
                             check=True, env=env).stdout.split()
        return [os.path.normpath(f[2:]) for f in out if f[:2] in ("-L", "-I")]

    prefix = str(pc_dir.parent.parent)
    assert flags() != [f"{prefix}/include", f"{prefix}/lib"]  # as packed: inside the sysroot, wrong
    files.climb_out_of_sysroot(target, [(pc_dir, str(pc_dir))])
    assert flags() == [f"{prefix}/include", f"{prefix}/lib"]
    files.climb_out_of_sysroot(TARGET, [(pc_dir, "/elsewhere")])  # no sysroot: left alone
    assert "/elsewhere" not in (pc_dir / "shout.pc").read_text()


def test_meson_native_file_names_the_build_cython() -> None:
    assert _meson_ini(files.meson_native("/w/crossenv/build/bin/cython")) == {
        "binaries": {"cython": "/w/crossenv/build/bin/cython"}}


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed here")
@pytest.mark.parametrize("sysroot", ["/", "/srv/oe sysroot"])
def test_cmake_reads_the_toolchain_file(tmp_path: Path, sysroot: str) -> None:
    toolchain = tmp_path / "toolchain.cmake"
    toolchain.write_text(files.cmake_toolchain(TARGET, sysroot))
    script = tmp_path / "show.cmake"
    script.write_text(f'include("{toolchain}")\n' + "".join(
        f'message(STATUS "{name}=${{{name}}}")\n' for name in (
            "CMAKE_SYSTEM_NAME", "CMAKE_SYSTEM_PROCESSOR", "CMAKE_C_COMPILER", "CMAKE_CXX_COMPILER",
            "CMAKE_C_FLAGS_INIT", "CMAKE_LIBRARY_ARCHITECTURE", "CMAKE_CROSSCOMPILING_EMULATOR",
            "CMAKE_SYSROOT")))
    out = subprocess.run(["cmake", "-P", str(script)], capture_output=True, text=True, check=True).stdout
    assert "CMAKE_SYSTEM_PROCESSOR=riscv64" in out
    assert "CMAKE_C_COMPILER=riscv64-linux-gnu-gcc-16" in out
    assert "CMAKE_CXX_COMPILER=riscv64-linux-gnu-g++-16" in out
    assert "CMAKE_C_FLAGS_INIT=-march=rv64gc -mabi=lp64d" in out
    assert "CMAKE_LIBRARY_ARCHITECTURE=riscv64-linux-gnu" in out
    assert f"CMAKE_CROSSCOMPILING_EMULATOR=qemu-riscv64-static;-L;{sysroot}" in out
    assert f"CMAKE_SYSROOT={'' if sysroot == '/' else sysroot}\n" in out


def test_write_all_names_the_files_as_seen_inside_the_root(tmp_path: Path) -> None:
    made = files.write_all(TARGET, tmp_path / "x", "/work/pillow/cross-files", "/c")
    assert made.meson_cross == "/work/pillow/cross-files/cross.ini"
    assert (tmp_path / "x/cross.ini").read_text() == files.meson_cross(TARGET)
    assert (tmp_path / "x/toolchain.cmake").read_text() == files.cmake_toolchain(TARGET)


def test_cross_target_packages_follow_the_profile() -> None:
    assert TARGET.flags == tuple(PINS)
    assert "gcc-16-riscv64-linux-gnu" in TARGET.build_packages()
    assert "gfortran-16-riscv64-linux-gnu" in TARGET.build_packages()  # scipy's Fortran
    assert "python3.14-venv" in TARGET.build_packages()
    assert "libpython3.14-dev:riscv64" in TARGET.target_packages()


@pytest.mark.parametrize("name", ["no-such-profile", "debian-x86_64", ""])
def test_unknown_cross_target_is_one_config_error(name: str) -> None:
    with pytest.raises(ConfigError) as err:
        cross_target(name)
    assert "debian-riscv64" in str(err.value.hint) and "openeuler-riscv64" in str(err.value.hint)
    assert "\n" not in err.value.message


def test_openeuler_needs_a_copy_of_the_laptops_tree(tmp_path: Path) -> None:
    """No Debian suite has openEuler's files: --sysroot brings them, in openEuler's lib64 layout."""
    with pytest.raises(ConfigError) as err:
        cross_target("openeuler-riscv64")
    assert "needs --sysroot DIR" in err.value.message and "docs/riscv64.md" in str(err.value.hint)
    tree = tmp_path / "rvbook"
    for name in ("usr/include/python3.11/Python.h", "usr/lib64/python3.11/_sysconfigdata__linux_riscv64-linux-gnu.py",
                 "usr/bin/python3.11", "usr/lib64/crti.o"):
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text("")
    target = cross_target("openeuler-riscv64", str(tree))
    assert (target.suite, target.python, target.gcc) == ("bookworm", "3.11", "riscv64-linux-gnu-gcc-12")
    assert target.sysconfigdata == f"{SYSROOT_INSIDE}/usr/lib64/python3.11/_sysconfigdata__linux_riscv64-linux-gnu.py"
    # Debian's cross gcc finds start files in lib/ and lib/<triplet> of a sysroot, not in lib64/.
    assert target.compile_flags == ("-march=rv64gc", "-mabi=lp64d", f"--sysroot={SYSROOT_INSIDE}",
                                    f"-B{SYSROOT_INSIDE}/usr/lib64/")
    assert files.pkg_config_libdir(target)[0] == f"{SYSROOT_INSIDE}/usr/lib64/pkgconfig"
    assert "gfortran-12-riscv64-linux-gnu" in target.build_packages() and target.target_packages() == []
