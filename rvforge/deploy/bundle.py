"""The tool a target runs: ``rvforge.ontarget`` and the stdlib-only modules it imports, staged alone.

Only these files are copied to a remote target, so an import outside them fails there at once
(and in ``tests/forge/test_boundaries.py``), never later on a laptop that lacks the package."""

from __future__ import annotations

import shutil
from pathlib import Path

from rvforge import REPO_ROOT

PACKAGE = REPO_ROOT / "rvforge"
#: Top-level modules ``rvforge.ontarget`` may import besides the standard library.
SHARED_MODULES = ("__init__.py", "errors.py", "log.py", "common.py")


def ontarget_files() -> list[Path]:
    """Every file of the on-target tool, relative to the ``rvforge`` package directory."""
    package = sorted(p.relative_to(PACKAGE) for p in (PACKAGE / "ontarget").glob("*.py"))
    return [Path(name) for name in SHARED_MODULES] + package


def stage(dest: Path) -> Path:
    """Copy the on-target tool to ``DEST/rvforge`` (importable with ``PYTHONPATH=DEST``)."""
    root = dest / "rvforge"
    for relative in ontarget_files():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PACKAGE / relative, root / relative)
    return root
