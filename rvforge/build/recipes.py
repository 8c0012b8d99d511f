"""Recipes (recipes/*.yaml): what to build, from which pinned source, with which settings.

A recipe is data. This module reads and validates it, picks the variant for the target Python
and reports any bad field as a ConfigError naming the file and the field, so a typo never
surfaces as a traceback half-way through a two-hour build.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from rvforge import REPO_ROOT, environment
from rvforge.errors import ConfigError

RECIPES_DIR = REPO_ROOT / "recipes"
PATCHES_DIR = REPO_ROOT / "patches"

#: Logical system requirements; they are the keys of a profile's ``packages`` map.
SYSTEM_REQUIREMENTS = frozenset({
    "c-compiler", "cxx-compiler", "gfortran", "openblas", "pkg-config", "python-headers",
    "cmake", "ninja", "patch", "git", "jpeg", "zlib",
})
SOURCE_KINDS = ("sdist", "wheel", "git", "local")
PATCH_CONDITIONS = ("machine", "profile", "python")

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_TOP_FIELDS = {"name", "version", "python", "source", "build_requires", "depends", "system", "env",
               "config_settings", "patches", "test", "variants", "notes"}
_VARIANT_FIELDS = {"python", "version", "source", "build_requires"}


@dataclass(frozen=True)
class Source:
    """Where the code comes from. Every kind is pinned: sha256 for files, commit for git."""

    kind: str
    filename: str = ""  # sdist / wheel: file name on the package index
    sha256: str = ""  # sdist / wheel
    url: str = ""  # git
    tag: str = ""  # git
    commit: str = ""  # git
    submodules: bool = True  # git
    path: Path | None = None  # local directory (resolved against the recipe file)

    @property
    def pin(self) -> str:
        """The value that changes exactly when the source content changes."""
        if self.kind in ("sdist", "wheel"):
            return self.sha256
        if self.kind == "git":
            return self.commit
        return str(self.path)


@dataclass(frozen=True)
class Patch:
    file: Path
    when: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def applies(self, *, machine: str, profile: str, python: str) -> bool:
        facts = {"machine": machine, "profile": profile, "python": python}
        return all(facts[key] in allowed for key, allowed in self.when.items())


@dataclass(frozen=True)
class SmokeTest:
    script: str
    requires: tuple[str, ...] = ()  # pinned extras from the index, e.g. runtime deps not built here


@dataclass(frozen=True)
class Recipe:
    name: str
    version: str
    path: Path
    source: Source
    python: SpecifierSet
    build_requires: tuple[str, ...]
    depends: tuple[str, ...]
    system: tuple[str, ...]
    env: dict[str, str]
    config_settings: dict[str, tuple[str, ...]]
    patches: tuple[Patch, ...]
    test: SmokeTest
    digest: str  # sha256 over the recipe file and its patch files

    def supports(self, python: str) -> bool:
        """Whether this recipe builds for Python ``X.Y`` (its top-level ``python`` range)."""
        return python in self.python

    @property
    def builds(self) -> bool:
        """False for wheels taken as published (pure-Python runtime dependencies)."""
        return self.source.kind != "wheel"


class _Fields:
    """Typed access to one mapping with errors that name the file and the dotted field."""

    def __init__(self, path: Path, data: Any, prefix: str = "") -> None:
        self.path, self.prefix = path, ""
        if not isinstance(data, dict):
            self.fail(prefix.rstrip(".") or "(top level)", "must be a mapping")
        self.prefix = prefix
        self.data: dict[str, Any] = data

    def fail(self, name: str, problem: str) -> None:
        raise ConfigError(f"{self.path}: field '{self.prefix}{name}': {problem}",
                          hint=f"edit {self.path.name} (see recipes/README.md for the schema)")

    def check_known(self, known: set[str]) -> None:
        for key in self.data:
            if key not in known:
                self.fail(str(key), f"unknown field (known: {', '.join(sorted(known))})")

    def text(self, name: str, default: str | None = None) -> str:
        value = self.data.get(name, default)
        if value is None:
            self.fail(name, "is required")
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.fail(name, "must be a string")
        return str(value)

    def strs(self, name: str) -> tuple[str, ...]:
        value = self.data.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
            self.fail(name, "must be a list of strings")
        return tuple(str(v) for v in value)

    def mapping(self, name: str) -> dict[str, Any]:
        value = self.data.get(name) or {}
        if not isinstance(value, dict):
            self.fail(name, "must be a mapping")
        return value

    def sub(self, name: str) -> "_Fields":
        if name not in self.data:
            self.fail(name, "is required")
        return _Fields(self.path, self.data[name], f"{self.prefix}{name}.")


def _source(fields: _Fields, recipe_dir: Path) -> Source:
    kind = fields.text("kind")
    if kind not in SOURCE_KINDS:
        fields.fail("kind", f"'{kind}' is not one of {', '.join(SOURCE_KINDS)}")
    if kind in ("sdist", "wheel"):
        fields.check_known({"kind", "filename", "sha256"})
        sha = fields.text("sha256").lower()
        if not _SHA256.match(sha):
            fields.fail("sha256", "must be 64 hex digits")
        return Source(kind, filename=fields.text("filename"), sha256=sha)
    if kind == "git":
        fields.check_known({"kind", "url", "tag", "commit", "submodules"})
        commit = fields.text("commit").lower()
        if not _COMMIT.match(commit):
            fields.fail("commit", "must be a full 40-hex-digit commit id")
        return Source(kind, url=os.path.expandvars(fields.text("url")), tag=fields.text("tag"),
                      commit=commit, submodules=bool(fields.data.get("submodules", True)))
    fields.check_known({"kind", "path"})
    path = (recipe_dir / os.path.expandvars(fields.text("path"))).resolve()
    if not path.is_dir():
        fields.fail("path", f"{path} is not a directory")
    return Source(kind, path=path)


def _requirements(fields: _Fields, name: str) -> tuple[str, ...]:
    """Build and test requirements must be exact pins: the build is only as repeatable as they are."""
    reqs = fields.strs(name)
    for text in reqs:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            fields.fail(name, f"'{text}' is not a requirement")
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==":
            fields.fail(name, f"'{text}' must be pinned with == (e.g. {req.name}==1.2.3)")
    return reqs


def _specifier(fields: _Fields, name: str) -> SpecifierSet:
    try:
        return SpecifierSet(fields.text(name, ""))
    except InvalidSpecifier:
        fields.fail(name, f"'{fields.data.get(name)}' is not a version specifier like '>=3.10,<3.13'")
        raise AssertionError("unreachable")


def _pick_variant(fields: _Fields, python: str) -> dict[str, Any]:
    """Merge the first variant whose ``python`` range holds the target Python over the base."""
    merged = {k: v for k, v in fields.data.items() if k != "variants"}
    variants = fields.data.get("variants") or []
    if not isinstance(variants, list):
        fields.fail("variants", "must be a list")
    for index, raw in enumerate(variants):
        variant = _Fields(fields.path, raw, f"variants[{index}].")
        variant.check_known(_VARIANT_FIELDS)
        if python in _specifier(variant, "python"):
            merged.update({k: v for k, v in raw.items() if k != "python"})
            return merged
    if variants and "version" not in fields.data:
        if python not in _specifier(fields, "python"):
            # The recipe does not support this Python at all: load its newest variant so the
            # other recipes stay usable; the plan refuses to build it (Recipe.supports).
            last = variants[-1]
            merged.update({k: v for k, v in last.items() if k != "python"})
            return merged
        fields.fail("variants", f"no variant covers Python {python}")
    return merged


def _patches(fields: _Fields, name: str) -> tuple[Patch, ...]:
    patches = []
    raw_list = fields.data.get("patches") or []
    if not isinstance(raw_list, list):
        fields.fail("patches", "must be a list")
    for index, raw in enumerate(raw_list):
        entry = _Fields(fields.path, raw, f"patches[{index}].")
        entry.check_known({"file", "when", "reason"})
        path = PATCHES_DIR / name / entry.text("file")
        local = fields.path.parent / "patches" / name / entry.text("file")
        path = local if local.is_file() else path
        if not path.is_file():
            entry.fail("file", f"{path} does not exist")
        when = {}
        for key, allowed in entry.mapping("when").items():
            if key not in PATCH_CONDITIONS:
                entry.fail(f"when.{key}", f"unknown condition (use {', '.join(PATCH_CONDITIONS)})")
            when[key] = tuple(str(v) for v in (allowed if isinstance(allowed, list) else [allowed]))
        patches.append(Patch(path, when))
    return tuple(patches)


def _digest(path: Path, patches: tuple[Patch, ...]) -> str:
    digest = hashlib.sha256(path.read_bytes())
    for patch in patches:
        digest.update(patch.file.name.encode() + b"\0" + patch.file.read_bytes())
    return digest.hexdigest()


def load_recipe_file(path: Path, python: str | None = None) -> Recipe:
    """Load one recipe for the given Python (``X.Y``; default: the Python running the tool)."""
    python = python or f"{sys.version_info.major}.{sys.version_info.minor}"
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read recipe: {exc}",
                          hint="fix the YAML syntax at the position shown") from exc
    top = _Fields(path, data)
    top.check_known(_TOP_FIELDS)
    fields = _Fields(path, _pick_variant(top, python))
    name = fields.text("name")
    if not _NAME.match(name) or name != path.stem:
        fields.fail("name", f"'{name}' must be lowercase and equal the file name '{path.stem}'")
    system = fields.strs("system")
    for req in system:
        if req not in SYSTEM_REQUIREMENTS:
            fields.fail("system", f"'{req}' is not one of {', '.join(sorted(SYSTEM_REQUIREMENTS))}")
    env = fields.mapping("env")
    for key, value in env.items():
        if not isinstance(value, (str, int, float)):
            fields.fail(f"env.{key}", "must be a string")
    settings = {}
    for key, value in fields.mapping("config_settings").items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, (str, int, float)) for v in values):
            fields.fail(f"config_settings.{key}", "must be a string or a list of strings")
        settings[str(key)] = tuple(str(v) for v in values)
    test = fields.sub("test")
    test.check_known({"script", "requires"})
    patches = _patches(fields, name)
    return Recipe(
        name=name,
        version=fields.text("version"),
        path=path,
        source=_source(fields.sub("source"), path.parent),
        python=_specifier(fields, "python"),
        build_requires=_requirements(fields, "build_requires"),
        depends=fields.strs("depends"),
        system=system,
        env={str(k): str(v) for k, v in env.items()},
        config_settings=settings,
        patches=patches,
        test=SmokeTest(script=test.text("script"), requires=_requirements(test, "requires")),
        digest=_digest(path, patches),
    )


def recipes_dir() -> Path:
    """``RVFORGE_RECIPES`` points the tool at another recipe set (tests use fixture recipes)."""
    return Path(environment.get("RVFORGE_RECIPES") or RECIPES_DIR)


def load_all(directory: Path | None = None, python: str | None = None) -> dict[str, Recipe]:
    """Every recipe in the directory, keyed by name; dependencies must name loaded recipes."""
    directory = Path(directory) if directory else recipes_dir()
    if not directory.is_dir():
        raise ConfigError(f"recipe directory {directory} does not exist",
                          hint="pass --recipes DIR or unset RVFORGE_RECIPES")
    recipes = {}
    for path in sorted(directory.glob("*.yaml")):
        recipe = load_recipe_file(path, python)
        recipes[recipe.name] = recipe
    for recipe in recipes.values():
        for dep in recipe.depends:
            if dep not in recipes:
                raise ConfigError(f"{recipe.path}: field 'depends': no recipe named '{dep}'",
                                  hint=f"add recipes/{dep}.yaml or remove it from depends")
    return recipes
