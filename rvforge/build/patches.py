"""Apply a recipe's patches whose conditions hold (machine, profile, Python, source).

Each patch is tried with ``--dry-run`` first, so a patch that no longer fits leaves the tree
untouched and the error names the patch and the recipe instead of a half-patched build.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TextIO

from rvforge.build.recipes import Patch, Recipe
from rvforge.errors import BuildFailed


def applicable(recipe: Recipe, *, machine: str, profile: str, python: str) -> list[Patch]:
    """The patches whose ``when`` holds, including the recipe's chosen source alternative."""
    return [p for p in recipe.patches
            if p.applies(machine=machine, profile=profile, python=python, source=recipe.source.name)]


def apply(recipe: Recipe, patches: list[Patch], tree: Path, log: TextIO) -> None:
    for patch in patches:
        base = ["patch", "-p1", "--forward", "--batch", "--no-backup-if-mismatch", "-i", str(patch.file)]
        for args in (base + ["--dry-run"], base):
            proc = subprocess.run(args, cwd=tree, capture_output=True, text=True)
            log.write(f"$ {' '.join(args)}\n{proc.stdout}{proc.stderr}")
            if proc.returncode != 0:
                raise BuildFailed(
                    f"patch {patch.file.name} does not apply to {recipe.name} {recipe.version}:\n"
                    f"{(proc.stdout + proc.stderr).strip()[-800:]}",
                    hint=f"refresh {patch.file} against this version, or narrow its 'when' condition")
