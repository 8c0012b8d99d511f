"""The riscv64 check's distcc step inside the emulated userland: Pillow built again with its C
compiles sent to the compile helper on this machine (``invoke build-helper``), from an empty
ccache so that every compile can go there.

distcc comes from the distro at check time: putting it into the userland's package list would
change the userland's key and recreate it everywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rvforge import REPO_ROOT
from rvforge.errors import BuildFailed
from rvforge.log import format_duration, info

STEP_DISTCC = "invoke build-wheels --only pillow --distcc (compiles on the host's helper)"
WORK = Path("/var/lib/rvforge-check")
WHEELHOUSE = WORK / "wheelhouse-distcc"
CCACHE = WORK / "ccache-distcc"
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


def check_distcc_build(helper: str) -> None:
    """``--force`` and an empty ccache: nothing the earlier native build left is reused."""
    ensure_distcc()
    for stale in (WHEELHOUSE, CCACHE):
        shutil.rmtree(stale, ignore_errors=True)
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "invoke", "build-wheels", "--only", "pillow", "--distcc", helper,
                    "--force", "--wheelhouse", str(WHEELHOUSE)], cwd=REPO_ROOT,
                   env={**os.environ, "CCACHE_DIR": str(CCACHE)}, check=True)
    wheels = pillow_wheels(WHEELHOUSE)
    if not wheels:
        raise BuildFailed(f"invoke build-wheels --distcc put no linux_riscv64 Pillow wheel into {WHEELHOUSE}")
    info(f"    built and tested {wheels[-1].name} through distcc in {format_duration(time.monotonic() - start)}")
