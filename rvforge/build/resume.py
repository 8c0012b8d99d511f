"""A recipe's work dir, kept across interrupted runs so that a day-long build resumes.

Each finished stage leaves a stamp holding the plan's cache key (recipe and patches, source,
profile, Python, machine, dependencies): ``tree`` once the source is unpacked and patched,
``venv`` once the build venv has every requirement. The stamps are written atomically after
everything they vouch for is on disk, so a later run with the same key keeps exactly what they
vouch for - the tree with the backend's build directory in it, and the venv - and ninja continues
where it stopped. A stage whose stamp is missing, unreadable or made for other inputs is
discarded together with every later stage: a half-unpacked or half-patched tree is never used.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from rvforge.build.recipes import Recipe
from rvforge.common import write_atomic

STAMPS = ".rvforge-stamps"
#: meson-python's build directory, inside the tree so -ffile-prefix-map covers its paths too.
MESON_BUILD_DIR = ".rvforge-build"
#: pyproject.toml naming meson-python as its backend (a regex: tomllib needs Python 3.11).
_MESONPY = re.compile(r"""^\s*build-backend\s*=\s*["']mesonpy["']""", re.M)


@dataclass(frozen=True)
class Work:
    """The work dir of one recipe for one cache key; ``tree`` is None until it is unpacked."""

    root: Path
    key: str
    tree: Path | None
    venv_ready: bool

    @property
    def src(self) -> Path:
        return self.root / "src"

    @property
    def venv(self) -> Path:
        return self.root / "build-venv"

    @property
    def dist(self) -> Path:
        return self.root / "dist"

    @property
    def test_venv(self) -> Path:
        return self.root / "test-venv"

    def tree_done(self, tree: Path) -> Work:
        """Record the unpacked and patched tree (call only when both are complete)."""
        _stamp(self.root, "tree", self.key, tree=str(tree.relative_to(self.root)))
        return Work(self.root, self.key, tree, venv_ready=False)

    def venv_done(self) -> Work:
        """Record the build venv with all its requirements installed."""
        _stamp(self.root, "venv", self.key)
        return Work(self.root, self.key, self.tree, venv_ready=True)

    def part_done(self, part: str) -> None:
        """Record one finished part of the build (a library flavour installed in its prefix)."""
        _stamp(self.root, f"part-{part}", self.key)

    def part_finished(self, part: str) -> bool:
        """Whether an earlier run of these inputs finished ``part`` (needs the kept venv too)."""
        return self.venv_ready and (_read_stamp(self.root, f"part-{part}") or {}).get("key") == self.key


def work_root(cache: Path, recipe: Recipe) -> Path:
    """The recipe's work dir: the same path on every run, which resuming needs anyway (and so do
    the few build systems that record the build path, see docs/build-wheels.md)."""
    return cache / "work" / f"{recipe.name}-{recipe.version}"


def resumable(root: Path, key: str) -> bool:
    """Whether a build of ``key`` would continue in the tree an earlier run left."""
    return _kept_tree(root, key)[0] is not None


def _stamp(root: Path, stage: str, key: str, **facts: str) -> None:
    # Flush the stage's files first: after a power loss a stamp must not outlive what it vouches for.
    os.sync()
    write_atomic(root / STAMPS / f"{stage}.json", json.dumps({"key": key, **facts}), fsync=True)


def _read_stamp(root: Path, stage: str) -> dict[str, str] | None:
    try:
        data = json.loads((root / STAMPS / f"{stage}.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _kept_tree(root: Path, key: str) -> tuple[Path | None, str | None]:
    """The tree a previous run finished for this key, else None and why the work dir is dropped."""
    stamp = _read_stamp(root, "tree")
    if stamp is None:
        return None, "its unpack or patch step never finished"
    if stamp.get("key") != key:
        return None, "it was made for other inputs (recipe, patches, source or target changed)"
    tree = root / str(stamp.get("tree", ""))
    if not tree.is_dir() or not tree.resolve().is_relative_to((root / "src").resolve()):
        return None, "its stamp names no tree in it"
    return tree, None


def open_work(root: Path, key: str, *, fresh: bool = False, build_venv: bool = True) -> tuple[Work, str | None]:
    """The work dir for ``key``, keeping whatever earlier runs finished for the same key, and a
    line saying what was kept or discarded (None for a first build).

    ``fresh`` (``--force``) discards everything. The wheel and the test venv never carry over:
    every run builds its wheel with pip and tests it in a new venv. Without a ``build_venv`` (a
    cross build makes its crossenv each run) the kept tree is all there is to keep."""
    existed = root.exists()
    tree, why = (None, "--force starts from a clean tree") if fresh else _kept_tree(root, key)
    venv_ready = tree is not None and (not build_venv or (_read_stamp(root, "venv") or {}).get("key") == key)
    work = Work(root, key, tree, venv_ready)
    if tree is None:
        shutil.rmtree(root, ignore_errors=True)
    elif not venv_ready:  # a venv made half-way, and anything built with it
        shutil.rmtree(work.venv, ignore_errors=True)
        shutil.rmtree(tree / MESON_BUILD_DIR, ignore_errors=True)
    for stale in (work.dist, work.test_venv):
        shutil.rmtree(stale, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    if not existed:
        return work, None
    if tree is None:
        return work, f"discarded the work dir {root}: {why}"
    kept = ("tree and build venv" if venv_ready else "tree (the build venv is made again)") if build_venv else "tree"
    return work, f"resuming in {root}: kept the unpacked, patched {kept}"


def backend_settings(recipe_settings: dict[str, tuple[str, ...]], tree: Path) -> list[str]:
    """Config settings that keep the backend's build directory in the work dir.

    meson-python builds in a temporary directory unless told otherwise; a fixed ``build-dir``
    lets a rerun reconfigure in place and ninja skip what is done. setuptools (torch's CMake
    build) already builds under the tree's ``build/``, which the kept tree carries."""
    if "build-dir" in recipe_settings or "builddir" in recipe_settings:
        return []
    try:
        pyproject = (tree / "pyproject.toml").read_text()
    except OSError:
        return []
    return [f"build-dir={tree / MESON_BUILD_DIR}"] if _MESONPY.search(pyproject) else []
