"""The environment of a build with compile helpers: ccache in front of distcc, the triplet
compiler, the target's pinned flags, helpers by IP, and Meson links kept to the RAM-derived count."""

from __future__ import annotations

from pathlib import Path

from rvforge.build import buildenv, distcc_hosts
from rvforge.build.recipes import load_all
from rvforge.host.profiles import all_profiles

RECIPES = load_all(python="3.11")


def context(tmp_path: Path, profile: str, helpers: str | None) -> buildenv.BuildContext:
    chosen = all_profiles()[profile]
    setup = None
    if helpers:
        setup = distcc_hosts.DistccSetup(distcc_hosts.parse_hosts(helpers), 2, tmp_path / "distcc",
                                         "riscv64-linux-gnu-gcc", "riscv64-linux-gnu-g++",
                                         chosen.pinned_flags)
    return buildenv.BuildContext(profile=chosen, sysroot=None, python="3.11", machine="riscv64",
                                 jobs=setup.jobs if setup else 2, cache=tmp_path, ccache="/usr/bin/ccache",
                                 distcc=setup)


def test_build_environment_routes_compiles_through_ccache_and_distcc(tmp_path):
    ctx = context(tmp_path, "openeuler-riscv64", "127.0.0.1:3700/8,localhost/4")
    assert ctx.jobs == 2 + 8 + 4
    env = buildenv.build_environment(RECIPES["markupsafe"], ctx, tmp_path / "tree", tmp_path / "venv", 0,
                                     base={"PATH": "/usr/bin"})
    assert env["CC"] == "/usr/bin/ccache riscv64-linux-gnu-gcc"
    assert env["CXX"] == "/usr/bin/ccache riscv64-linux-gnu-g++"
    assert env["CCACHE_PREFIX"] == "distcc" and env["DISTCC_SKIP_LOCAL_RETRY"] == "1"
    assert env["DISTCC_HOSTS"] == "127.0.0.1:3700/8,lzo 127.0.0.1:3632/4,lzo"  # never the word localhost
    assert env["DISTCC_DIR"] == str(tmp_path / "distcc") and "DISTCC_FALLBACK" not in env
    assert env["CFLAGS"].endswith(" -march=rv64gc -mabi=lp64d")
    assert env["CXXFLAGS"].endswith(" -march=rv64gc -mabi=lp64d")
    assert "-march" not in env["FFLAGS"]


def test_without_helpers_nothing_changes(tmp_path):
    ctx = context(tmp_path, "openeuler-riscv64", None)
    env = buildenv.build_environment(RECIPES["markupsafe"], ctx, tmp_path / "tree", tmp_path / "venv", 0,
                                     base={"PATH": "/usr/bin"})
    assert env["CC"] == "/usr/bin/ccache gcc" and "CCACHE_PREFIX" not in env
    assert "-march" not in env["CFLAGS"]
    assert buildenv.link_settings(RECIPES["numpy"], ctx) == []


def test_meson_links_stay_at_the_local_count(tmp_path):
    ctx = context(tmp_path, "openeuler-riscv64", "127.0.0.1/16")
    assert buildenv.link_settings(RECIPES["numpy"], ctx) == ["setup-args=-Dbackend_max_links=2"]
    assert buildenv.link_settings(RECIPES["markupsafe"], ctx) == []  # setuptools: one link per extension


def test_a_cmake_project_gets_bare_compilers_and_ccache_as_its_launcher(tmp_path):
    """torch's CMake runs $CXX itself (its ABI probe): "ccache g++" there fails the configure."""
    ctx = context(tmp_path, "openeuler-riscv64", "127.0.0.1:3700/8")
    env = buildenv.build_environment(RECIPES["torch"], ctx, tmp_path / "tree", tmp_path / "venv", 0,
                                     base={"PATH": "/usr/bin"})
    assert (env["CC"], env["CXX"]) == ("riscv64-linux-gnu-gcc", "riscv64-linux-gnu-g++")
    assert env["CMAKE_C_COMPILER_LAUNCHER"] == env["CMAKE_CXX_COMPILER_LAUNCHER"] == "/usr/bin/ccache"
    assert env["CCACHE_PREFIX"] == "distcc"


def test_a_torch_extension_gets_bare_compilers(tmp_path):
    """torch's cpp_extension drops the first word of CC: "ccache gcc" would hand g++ a file "gcc"."""
    ctx = context(tmp_path, "debian-x86_64", None)
    env = buildenv.build_environment(RECIPES["torchvision"], ctx, tmp_path / "tree", tmp_path / "venv", 0,
                                     base={"PATH": "/usr/bin"})
    assert (env["CC"], env["CXX"]) == ("gcc", "g++")
