"""What a rerun keeps of a recipe's work dir: only stages whose stamp carries the same cache key,
nothing of a tree that was never finished, and never an old wheel or test venv."""

from __future__ import annotations

from pathlib import Path

import pytest

from rvforge.build import resume
from rvforge.build.plan import BuildTarget, make_plan
from rvforge.build.recipes import load_all
from rvforge.build.wheelhouse import Wheelhouse

KEY = "a" * 64


@pytest.fixture(autouse=True)
def no_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stamps sync the disk for power loss; here that only costs seconds on a busy machine."""
    monkeypatch.setattr(resume.os, "sync", lambda: None)


def finished(root: Path, key: str = KEY, venv: bool = True) -> resume.Work:
    """A work dir as an interrupted compile leaves it: tree, venv, a meson build dir, a wheel."""
    work, _ = resume.open_work(root, key)
    tree = work.src / "pkg-1.0"
    (tree / resume.MESON_BUILD_DIR).mkdir(parents=True)
    (tree / resume.MESON_BUILD_DIR / "obj.o").write_text("object")
    work = work.tree_done(tree)
    work.venv.mkdir()
    if venv:
        work = work.venv_done()
    for leftover in (work.dist, work.test_venv):
        leftover.mkdir()
        (leftover / "old").write_text("from the killed run")
    return work


def test_first_build_starts_empty(tmp_path: Path) -> None:
    work, note = resume.open_work(tmp_path / "w", KEY)
    assert note is None and work.tree is None and not work.venv_ready
    assert work.root.is_dir()


def test_same_inputs_keep_tree_venv_and_build_dir(tmp_path: Path) -> None:
    old = finished(tmp_path / "w")
    work, note = resume.open_work(tmp_path / "w", KEY)
    assert work.tree == old.tree and work.venv_ready
    assert note and "kept the unpacked, patched tree and build venv" in note
    assert work.tree is not None and (work.tree / resume.MESON_BUILD_DIR / "obj.o").is_file()
    assert not work.dist.exists() and not work.test_venv.exists()
    assert resume.resumable(work.root, KEY)


@pytest.mark.parametrize("damage, why", [
    (lambda root: (root / resume.STAMPS / "tree.json").unlink(), "never finished"),
    (lambda root: (root / resume.STAMPS / "tree.json").write_text('{"key": "a'), "never finished"),
    (lambda root: (root / resume.STAMPS / "tree.json").write_text(
        f'{{"key": "{KEY}", "tree": "../elsewhere"}}'), "names no tree"),
])
def test_untrusted_tree_is_discarded(tmp_path: Path, damage, why: str) -> None:
    finished(tmp_path / "w")
    damage(tmp_path / "w")
    assert not resume.resumable(tmp_path / "w", KEY)
    work, note = resume.open_work(tmp_path / "w", KEY)
    assert work.tree is None and not work.venv_ready
    assert note and why in note
    assert list(work.root.iterdir()) == []


def test_other_inputs_discard_everything(tmp_path: Path) -> None:
    finished(tmp_path / "w")
    work, note = resume.open_work(tmp_path / "w", "b" * 64)
    assert work.tree is None and note and "made for other inputs" in note
    assert list(work.root.iterdir()) == []


def test_force_discards_everything(tmp_path: Path) -> None:
    finished(tmp_path / "w")
    work, note = resume.open_work(tmp_path / "w", KEY, fresh=True)
    assert work.tree is None and note and "--force" in note


def test_unfinished_venv_is_made_again_and_nothing_built_with_it_is_kept(tmp_path: Path) -> None:
    old = finished(tmp_path / "w", venv=False)
    work, note = resume.open_work(tmp_path / "w", KEY)
    assert work.tree == old.tree and not work.venv_ready
    assert note and "the build venv is made again" in note
    assert not work.venv.exists()
    assert work.tree is not None and not (work.tree / resume.MESON_BUILD_DIR).exists()


def test_meson_python_gets_a_build_dir_in_the_tree(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[build-system]\nbuild-backend = "mesonpy"\n')
    assert resume.backend_settings({}, tmp_path) == [f"build-dir={tmp_path / resume.MESON_BUILD_DIR}"]
    assert resume.backend_settings({"build-dir": ("custom",)}, tmp_path) == []
    (tmp_path / "pyproject.toml").write_text('[build-system]\nbuild-backend = "setuptools.build_meta"\n')
    assert resume.backend_settings({}, tmp_path) == []
    (tmp_path / "pyproject.toml").unlink()
    assert resume.backend_settings({}, tmp_path) == []


def test_plan_says_which_build_resumes(tmp_path: Path) -> None:
    recipes = load_all(python="3.11")
    target = BuildTarget("debian-x86_64", "3.11", "x86_64")
    house = Wheelhouse(tmp_path / "wh").load()
    plan = make_plan(recipes, ["pillow"], house, target, tmp_path)
    assert not plan[0].resumes
    finished(resume.work_root(tmp_path, recipes["pillow"]), plan[0].key)
    plan = make_plan(recipes, ["pillow"], house, target, tmp_path)
    assert plan[0].resumes and plan[0].describe().endswith("build, resuming its kept tree")
    assert not make_plan(recipes, ["pillow"], house, target, tmp_path, force=True)[0].resumes
