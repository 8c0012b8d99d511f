"""Dependency order, --only, and the cache key."""

from __future__ import annotations

import dataclasses

import pytest

from rvforge.build.plan import BuildTarget, build_order, cache_keys, make_plan
from rvforge.build.recipes import load_all
from rvforge.build.wheelhouse import Wheelhouse
from rvforge.errors import ConfigError

TARGET = BuildTarget("openeuler-riscv64", "3.11", "riscv64")


@pytest.fixture(scope="module")
def recipes():
    return load_all(python="3.11")


def position(order, name):
    return [r.name for r in order].index(name)


def test_dependencies_come_first(recipes):
    order = build_order(recipes)
    assert position(order, "numpy") < position(order, "scipy") < position(order, "scikit-image")
    assert position(order, "torch") < position(order, "torchvision")
    assert position(order, "markupsafe") < position(order, "jinja2") < position(order, "flask")
    assert [r.name for r in order] == [r.name for r in build_order(recipes)]  # stable


def test_only_keeps_requested(recipes):
    assert [r.name for r in build_order(recipes, ["scipy", "numpy"])] == ["numpy", "scipy"]
    with pytest.raises(ConfigError, match="no recipe named nope"):
        build_order(recipes, ["nope"])


def test_cycle_is_reported(recipes):
    cyclic = dict(recipes)
    cyclic["numpy"] = dataclasses.replace(recipes["numpy"], depends=("scikit-image",))
    with pytest.raises(ConfigError, match="dependency cycle"):
        build_order(cyclic)


def test_cache_key_changes_with_each_input(recipes):
    order = build_order(recipes)
    base = cache_keys(order, recipes, TARGET)
    assert base == cache_keys(order, recipes, TARGET)
    for other in (dataclasses.replace(TARGET, python="3.12"),
                  dataclasses.replace(TARGET, profile="debian-riscv64"),
                  dataclasses.replace(TARGET, machine="x86_64")):
        assert cache_keys(order, recipes, other)["numpy"] != base["numpy"]
    changed = dict(recipes)
    changed["numpy"] = dataclasses.replace(recipes["numpy"], digest="0" * 64)
    keys = cache_keys(build_order(changed), changed, TARGET)
    assert keys["numpy"] != base["numpy"]
    assert keys["scipy"] != base["scipy"]  # a dependency's change reaches its dependents
    assert keys["pillow"] == base["pillow"]


def test_only_needs_built_dependencies(recipes, tmp_path):
    house = Wheelhouse(tmp_path / "wh").load()
    with pytest.raises(ConfigError, match="scipy needs numpy"):
        make_plan(recipes, ["scipy"], house, TARGET, tmp_path / "cache")
    steps = make_plan(recipes, ["numpy", "scipy"], house, TARGET, tmp_path / "cache")
    assert [s.describe() for s in steps] == ["fetch + build", "fetch + build"]


def test_recipes_for_another_python_load_but_refuse_to_build(tmp_path):
    """A Python a recipe does not cover (Debian's riscv64 guest has 3.14, scikit-image stops at
    3.13) still builds Pillow."""
    on_314 = load_all(python="3.14")
    target = dataclasses.replace(TARGET, profile="debian-riscv64", python="3.14")
    house = Wheelhouse(tmp_path / "wheelhouse").load()
    steps = make_plan(on_314, ["pillow"], house, target, tmp_path)
    assert [s.recipe.name for s in steps] == ["pillow"]
    with pytest.raises(ConfigError, match=r"scikit-image .* does not build for Python 3.14") as err:
        make_plan(on_314, ["scikit-image"], house, target, tmp_path)
    assert "scikit-image.yaml" in str(err.value)
