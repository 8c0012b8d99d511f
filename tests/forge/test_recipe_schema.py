"""The recipe JSON schema shipped for editors: generated from the loader's dataclasses, current,
and in agreement with the loader on the real recipes and on a bad one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from rvforge.build.recipe_schema import (
    SCHEMA_FILE,
    SCHEMA_VERSIONS,
    recipe_schema_text,
    write_recipe_schema,
)
from rvforge.build.recipes import RECIPES_DIR

RECIPES = sorted(RECIPES_DIR.glob("*.yaml"))


def test_shipped_schema_is_the_generated_one():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == recipe_schema_text(), \
        f"{SCHEMA_FILE} is stale: run: invoke regenerate"


def test_writer_reports_whether_it_changed_the_file(tmp_path: Path):
    path = tmp_path / "recipe.schema.json"
    assert write_recipe_schema(path) is True
    assert write_recipe_schema(path) is False
    assert json.loads(path.read_text())["properties"]["schema"]["enum"] == list(SCHEMA_VERSIONS)


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_every_recipe_names_the_schema_and_declares_its_version(recipe: Path):
    first, second = recipe.read_text(encoding="utf-8").splitlines()[:2]
    assert first == f"# yaml-language-server: $schema={SCHEMA_FILE.name}"
    assert second == f"schema: {SCHEMA_VERSIONS[-1]}"


def test_every_recipe_validates_against_the_schema_and_a_bad_one_does_not():
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    validator.check_schema(validator.schema)
    for recipe in RECIPES:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(recipe.read_text()))]
        assert errors == [], recipe.name
    bad = yaml.safe_load(RECIPES_DIR.joinpath("numpy.yaml").read_text())
    bad["variants"][0]["version"] = 2.2
    bad["test"]["requirez"] = []
    assert len(list(validator.iter_errors(bad))) == 2
