"""The synthesized openblas.pc proven with real Meson, declaring OpenBLAS exactly as scipy does.

The fixture tree is openEuler-shaped (no openblas.pc). The host's own .pc files are shut out with
PKG_CONFIG_LIBDIR, and CMake is hidden from Meson because this Debian host ships an
OpenBLASConfig.cmake that openEuler lacks; so the only way Meson can find OpenBLAS is the .pc."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from rvforge.host import openblas, pkgconfig, profiles

MESON_BUILD = """project('blas_probe', 'c')
blas = dependency(['openblas', 'OpenBLAS'])
executable('probe', 'probe.c', dependencies: blas)
"""

PROBE_C = r"""#include <stdio.h>
#include <cblas.h>
int main(void) {
    double x[3] = {1, 2, 3}, y[3] = {4, 5, 6};
    printf("%s\n%.1f\n", openblas_get_config(), cblas_ddot(3, x, 1, y, 1));
    return 0;
}
"""


def meson() -> str:
    found = shutil.which("meson")
    if found is None:
        pytest.fail("meson not installed: run bash ci/setup.sh --dev")
    return found


def project(tmp_path: Path) -> Path:
    src = tmp_path / "project"
    src.mkdir()
    (src / "meson.build").write_text(MESON_BUILD)
    (src / "probe.c").write_text(PROBE_C)
    (src / "native.ini").write_text("[binaries]\ncmake = 'false'\n")
    return src


def meson_env(root: Path, pkg_config_path: str) -> dict[str, str]:
    profile = profiles.all_profiles()["openeuler-riscv64"]
    env = {**os.environ, "PKG_CONFIG_PATH": pkg_config_path,
           "PKG_CONFIG_LIBDIR": os.pathsep.join(str(d) for d in pkgconfig.profile_dirs(profile, root))}
    env.pop("PKG_CONFIG_SYSROOT_DIR", None)
    return env


def setup(src: Path, build: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([meson(), "setup", "--native-file", "native.ini", build], cwd=src, env=env,
                          capture_output=True, text=True, timeout=300)


def test_meson_finds_openblas_only_through_the_synthesized_pc(tmp_path, openeuler_root, rvforge_home):
    src = project(tmp_path)
    without = setup(src, "build-without", meson_env(openeuler_root, ""))
    assert without.returncode != 0
    assert 'Dependency "OpenBLAS" not found' in without.stdout + without.stderr

    profile = profiles.all_profiles()["openeuler-riscv64"]
    pc = openblas.ensure_pc(profile, openeuler_root)
    assert pc is not None and pc.parent == pkgconfig.tool_pkgconfig_dir(profile.name, openeuler_root)
    env = meson_env(openeuler_root, str(pc.parent))
    configured = setup(src, "build", env)
    assert configured.returncode == 0, configured.stdout + configured.stderr
    assert "Run-time dependency openblas found: YES 0.3.26" in configured.stdout

    built = subprocess.run([meson(), "compile", "-C", "build"], cwd=src, env=env, capture_output=True,
                           text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    # Meson records the .pc's libdir as the build rpath: the fixture library runs, not the host's.
    ran = subprocess.run([str(src / "build" / "probe")], capture_output=True, text=True, timeout=30)
    assert ran.stdout.splitlines() == ["rvforge-fixture OpenBLAS 0.3.26", "32.0"]
