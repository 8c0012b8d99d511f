"""The riscv64 check's Pillow wheels inside the emulated userland.

The wheel the release runs is cross-built on the host (``invoke build-wheels --cross-target``)
straight into the userland's wheelhouse; here it is installed into a fresh venv and its recipe
test run as riscv64 code. The same recipe is also built here through the compile helper on the
host (distcc) and, on request, with local compiles only, each into a wheelhouse of its own so the
cross-built wheel stays the one deployed.

distcc comes from the distro at check time: putting it into the userland's package list would
change the userland's key and recreate it everywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rvforge import REPO_ROOT
from rvforge.build import recipes
from rvforge.errors import BuildFailed
from rvforge.log import format_duration, info

WORK = Path("/var/lib/rvforge-check")
#: The deployed wheelhouse: the host writes the cross-built Pillow here.
WHEELHOUSE = WORK / "wheelhouse"
STEP_CROSS = "the cross-built Pillow wheel installs and passes its recipe test here"
STEP_NATIVE = "invoke build-wheels --only pillow, compiled here (local compiles only)"
STEP_DISTCC = "invoke build-wheels --only pillow --distcc (compiles on the host's helper)"
INSTALL_DISTCC = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "distcc"]


def ensure_distcc() -> None:
    """distcc from the distro; the package lists are refreshed only when the install needs it."""
    if shutil.which("distcc"):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(INSTALL_DISTCC, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(INSTALL_DISTCC, env=env, check=True)


def pillow_wheels(wheelhouse: Path) -> list[Path]:
    """The riscv64 Pillow wheels in ``wheelhouse``, sorted by name."""
    return sorted(p for p in wheelhouse.glob("*.whl")
                  if p.name.lower().startswith("pillow-") and p.name.endswith("linux_riscv64.whl"))


def check_cross_wheel() -> None:
    """The wheel in the deployed wheelhouse must be the cross-built one, and work here."""
    wheels = pillow_wheels(WHEELHOUSE)
    if not wheels:
        raise BuildFailed(f"no linux_riscv64 Pillow wheel in {WHEELHOUSE}",
                          hint="run the check without --skip-build once (the host cross-builds it)")
    entry = json.loads((WHEELHOUSE / "manifest.json").read_text())["wheels"].get("pillow", {})
    cross = entry.get("cross")
    if not cross:
        raise BuildFailed(f"{wheels[-1].name} in {WHEELHOUSE} was not cross-built (its manifest entry has no "
                          "'cross' record)", hint="run the check without --skip-build")
    if not cross.get("sysroot", {}).get("path"):
        raise BuildFailed(f"{wheels[-1].name} in {WHEELHOUSE} was not cross-built against this userland "
                          "(its manifest's 'cross' record names no sysroot path)",
                          hint="run the check without --skip-build")
    info(f"    {wheels[-1].name}: cross-built with {cross['compiler']} against {cross['sysroot']['path']}")
    venv = WORK / "cross-test-venv"
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-index", str(wheels[-1])], check=True)
    recipe = recipes.load_all(python=f"{sys.version_info.major}.{sys.version_info.minor}")["pillow"]
    subprocess.run([str(python), "-c", recipe.test.script], cwd=WORK, check=True)


def _build(wheelhouse: Path, ccache: Path, *extra: str) -> Path:
    """``--force`` and an empty ccache: nothing an earlier build left is reused."""
    for stale in (wheelhouse, ccache):
        shutil.rmtree(stale, ignore_errors=True)
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "invoke", "build-wheels", "--only", "pillow", *extra, "--force",
                    "--wheelhouse", str(wheelhouse)], cwd=REPO_ROOT,
                   env={**os.environ, "CCACHE_DIR": str(ccache)}, check=True)
    wheels = pillow_wheels(wheelhouse)
    if not wheels:
        raise BuildFailed(f"invoke build-wheels {' '.join(extra)} put no linux_riscv64 Pillow wheel into {wheelhouse}")
    info(f"    built and tested {wheels[-1].name} in {format_duration(time.monotonic() - start)}")
    return wheels[-1]


def check_native_build() -> None:
    _build(WORK / "wheelhouse-native", WORK / "ccache-native")


def check_distcc_build(helper: str) -> None:
    ensure_distcc()
    _build(WORK / "wheelhouse-distcc", WORK / "ccache-distcc", "--distcc", helper)
