"""Where builds that need a BLAS get it: the settings cascade and what ``recipe`` does to the plan."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import invoke

from rvforge.build import blas_source
from rvforge.build.plan import BuildTarget, build_order, cache_keys
from rvforge.build.recipes import load_all
from rvforge.errors import ConfigError
from rvforge.host.profiles import all_profiles

TARGET = BuildTarget("debian-x86_64", "3.11", "x86_64")


@pytest.fixture(scope="module")
def recipes():
    return load_all(python="3.11")


@pytest.fixture(scope="module")
def profile():
    return all_profiles()["debian-x86_64"]


def test_flag_beats_invoke_yaml_beats_profile(profile):
    assert blas_source.choose("recipe", "system", profile) == ("recipe", "--blas")
    assert blas_source.choose(None, "recipe", profile) == ("recipe", "invoke.yaml build_wheels.blas")
    assert blas_source.choose(None, None, profile) == ("system", "profile debian-x86_64 blas")
    assert blas_source.choose(None, None, dataclasses.replace(profile, blas="recipe"))[0] == "recipe"


def test_an_unknown_source_names_where_it_came_from(profile):
    with pytest.raises(ConfigError) as err:
        blas_source.choose(None, "openblas", profile)
    assert "invoke.yaml build_wheels.blas: unknown BLAS source 'openblas'" in err.value.message
    assert err.value.hint == "use one of: system, recipe"


def test_recipe_turns_the_system_requirement_into_a_dependency(recipes):
    chosen = blas_source.apply(recipes, "recipe")
    users = sorted(name for name, recipe in recipes.items() if "openblas" in recipe.system)
    assert {"numpy", "scipy", "torch"} <= set(users)
    for name in users:
        assert "openblas" in chosen[name].depends and "openblas" not in chosen[name].system
    assert chosen["pillow"] is recipes["pillow"] and chosen["openblas"] is recipes["openblas"]
    order = [r.name for r in build_order(chosen)]
    assert order.index("openblas") < order.index("numpy") < order.index("torch")
    assert blas_source.apply(recipes, "system") is recipes


def test_the_blas_source_is_part_of_every_consumers_cache_key(recipes):
    chosen = blas_source.apply(recipes, "recipe")
    system = cache_keys(build_order(recipes, None), recipes, TARGET)
    recipe = cache_keys(build_order(chosen, None), chosen, TARGET)
    assert system["numpy"] != recipe["numpy"] and system["torch"] != recipe["torch"]
    assert system["pillow"] == recipe["pillow"]


def test_recipe_without_the_openblas_recipe_is_refused(recipes):
    without = {name: r for name, r in recipes.items() if name != "openblas"}
    with pytest.raises(ConfigError, match="needs recipes/openblas.yaml"):
        blas_source.apply(without, "recipe")


def test_the_plan_says_which_blas_and_why(tmp_path):
    proc = invoke("build-wheels", "--dry-run", "--blas", "recipe", "--only", "openblas", "--only", "numpy",
                  "--wheelhouse", str(tmp_path / "house"), "--profile", "debian-x86_64")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "BLAS from recipe (--blas)" in proc.stdout
    assert "depends: openblas" in proc.stdout.split("numpy 2.")[-1]
    bad = invoke("build-wheels", "--dry-run", "--blas", "mkl")
    assert bad.returncode != 0 and "--blas: unknown BLAS source 'mkl'" in bad.stdout + bad.stderr


def test_a_cross_build_takes_the_same_setting(tmp_path):
    proc = invoke("build-wheels", "--cross-target", "debian-riscv64", "--dry-run", "--blas", "recipe",
                  "--only", "openblas", "--only", "numpy", "--wheelhouse", str(tmp_path / "house"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "BLAS from recipe (--blas)" in proc.stdout
    plan = proc.stdout.split("plan:")[1]
    assert plan.index("openblas") < plan.index("numpy")
