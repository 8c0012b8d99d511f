"""Recipes (recipes/*.yaml): what to build, from which pinned source, with which settings.

A recipe is data: ``recipe_schema`` validates the file, this module resolves it for the target
Python (variant, source, patch files, dependencies) into the ``Recipe`` the build uses. Every bad
field is a ConfigError naming the file and the field, so a typo never surfaces as a traceback
half-way through a two-hour build.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import SpecifierSet

from rvforge import REPO_ROOT, environment
from rvforge.build.recipe_schema import (
    ArchiveFile,
    ArchivesSource,
    Estimate,
    FileSource,
    FlavourFile,
    GitSource,
    LibraryFile,
    RecipeFile,
    SourceFile,
    VariantFile,
    read_recipe_file,
)
from rvforge.config import field_error
from rvforge.errors import ConfigError

RECIPES_DIR = REPO_ROOT / "recipes"
PATCHES_DIR = REPO_ROOT / "patches"


@dataclass(frozen=True)
class Source:
    """Where the code comes from. Every kind is pinned: sha256 for files, commit for git."""

    kind: str
    name: str = ""  # the alternative's name when the recipe offers several (``sources:``)
    filename: str = ""  # sdist / wheel: file name on the package index
    sha256: str = ""  # sdist / wheel
    url: str = ""  # git
    tag: str = ""  # git
    commit: str = ""  # git
    submodules: bool = False  # git
    path: Path | None = None  # local directory (resolved against the recipe file)
    files: tuple[ArchiveFile, ...] = ()  # archives

    @property
    def pin(self) -> str:
        """The value that changes exactly when the source content changes."""
        if self.kind in ("sdist", "wheel"):
            return self.sha256
        if self.kind == "git":
            return self.commit
        if self.kind == "archives":
            layout = [f"{f.sha256}:{f.dest}:{f.member}:{f.strip}" for f in self.files]
            return hashlib.sha256("\n".join(layout).encode()).hexdigest()
        return str(self.path)

    @property
    def label(self) -> str:
        """Where it comes from, in a few words (plan lines, manifest)."""
        if self.kind == "archives":
            more = f" + {len(self.files) - 1} more" if len(self.files) > 1 else ""
            return f"{Path(self.files[0].path).name}{more}"
        return self.filename or self.url or str(self.path)


@dataclass(frozen=True)
class Patch:
    file: Path
    when: dict[str, tuple[str, ...]]  # condition -> allowed values; all must hold

    def applies(self, *, machine: str, profile: str, python: str, source: str = "") -> bool:
        facts = {"machine": machine, "profile": profile, "python": python, "source": source}
        return all(facts[key] in allowed for key, allowed in self.when.items())


@dataclass(frozen=True)
class SmokeTest:
    script: str
    requires: tuple[str, ...]  # pinned extras from the index, e.g. runtime deps not built here


@dataclass(frozen=True)
class Recipe:
    name: str
    version: str
    path: Path
    source: Source  # the alternative in use (the first one until ``alternatives.choose``)
    python: SpecifierSet
    build_requires: tuple[str, ...]
    depends: tuple[str, ...]
    system: tuple[str, ...]
    env: dict[str, str]
    config_settings: dict[str, tuple[str, ...]]
    patches: tuple[Patch, ...]
    test: SmokeTest
    digest: str  # sha256 over the recipe file and its patch files
    alternatives: tuple[Source, ...] = ()  # every alternative ``source`` may be chosen from
    estimate: Estimate | None = None  # the recipe's own cost of a cold build
    cross_blocked: str = ""  # why it cannot be cross-built yet; "" when it can
    library: LibraryFile | None = None  # a C library built per flavour by a script

    def flavours(self, machine: str) -> tuple[FlavourFile, ...]:
        """The library flavours built for ``machine``, fallback first."""
        if self.library is None:
            return ()
        chosen = [f for f in self.library.flavours if machine in _values(f.machine)]
        return tuple(sorted(chosen, key=lambda f: f.needs != ""))

    def supports(self, python: str) -> bool:
        """Whether this recipe builds for Python ``X.Y`` (its top-level ``python`` range)."""
        return python in self.python

    @property
    def builds(self) -> bool:
        """False for wheels taken as published (pure-Python runtime dependencies)."""
        return self.source.kind != "wheel"


def _values(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value


def _pick_variant(spec: RecipeFile, path: Path, python: str) -> RecipeFile:
    """The recipe with the first variant whose ``python`` range holds the target Python merged
    over the top-level fields."""
    def merged(variant: VariantFile) -> RecipeFile:
        given = {name: getattr(variant, name) for name in ("version", "source", "build_requires")}
        if variant.source is not None:
            given["sources"] = ()  # a variant's own source replaces the top-level alternatives
        return dataclasses.replace(spec, **{k: v for k, v in given.items() if v is not None})

    for variant in spec.variants:
        if python in SpecifierSet(variant.python):
            return merged(variant)
    if spec.variants and spec.version is None:
        if python not in SpecifierSet(spec.python):
            # The recipe does not support this Python at all: load its newest variant so the
            # other recipes stay usable; the plan refuses to build it (Recipe.supports).
            return merged(spec.variants[-1])
        raise field_error(str(path), "variants", f"no variant covers Python {python}",
                          f"add a variant for Python {python} or narrow the top-level python range")
    return spec


def _source(raw: SourceFile, path: Path) -> Source:
    if isinstance(raw, FileSource):
        return Source(raw.kind, raw.name, filename=raw.filename, sha256=raw.sha256.lower())
    if isinstance(raw, GitSource):
        return Source(raw.kind, raw.name, url=os.path.expandvars(raw.url), tag=raw.tag,
                      commit=raw.commit.lower(), submodules=raw.submodules)
    if isinstance(raw, ArchivesSource):
        files = tuple(dataclasses.replace(f, sha256=f.sha256.lower(), dest=f.dest.strip("/"),
                                          member=f.member.strip("/")) for f in raw.files)
        return Source(raw.kind, raw.name, files=files)
    local = (path.parent / os.path.expandvars(raw.path)).resolve()
    if not local.is_dir():
        raise field_error(str(path), "source.path", f"{local} is not a directory",
                          "give the source directory, relative to the recipe file")
    return Source(raw.kind, raw.name, path=local)


def _patches(spec: RecipeFile, path: Path) -> tuple[Patch, ...]:
    patches = []
    for index, entry in enumerate(spec.patches):
        local = path.parent / "patches" / spec.name / entry.file
        file = local if local.is_file() else PATCHES_DIR / spec.name / entry.file
        if not file.is_file():
            raise field_error(str(path), f"patches[{index}].file", f"{file} does not exist",
                              f"put the patch in {local.parent} or fix the file name")
        conditions = dataclasses.asdict(entry.when).items()
        patches.append(Patch(file, {key: _values(v) for key, v in conditions if v is not None}))
    return tuple(patches)


#: Top-level entries (with their indented lines) that describe a build without changing what it
#: makes: what it costs (``estimate``) and whether a cross build can make it (``cross_blocked``).
#: Refining them must not rebuild a wheel, or discard a day-long build's kept tree.
_NOT_INPUTS = re.compile(rb"^(?:estimate|cross_blocked):.*\n(?:[ \t]+\S.*\n)*", re.M)


def _digest(path: Path, patches: tuple[Patch, ...]) -> str:
    digest = hashlib.sha256(_NOT_INPUTS.sub(b"", path.read_bytes()))
    for patch in patches:
        digest.update(patch.file.name.encode() + b"\0" + patch.file.read_bytes())
    return digest.hexdigest()


def load_recipe_file(path: Path, python: str | None = None) -> Recipe:
    """Load one recipe for the given Python (``X.Y``; default: the Python running the tool)."""
    python = python or f"{sys.version_info.major}.{sys.version_info.minor}"
    spec = read_recipe_file(path)
    if spec.name != path.stem:
        raise field_error(str(path), "name", f"'{spec.name}' must equal the file name '{path.stem}'",
                          f"rename the file to {spec.name}.yaml or set name: {path.stem}")
    chosen = _pick_variant(spec, path, python)
    version, offered = chosen.version, chosen.sources or (chosen.source,)
    if version is None or offered[0] is None:
        missing = "version" if version is None else "source"
        raise field_error(str(path), missing, "missing required field",
                          f"add '{missing}' at the top level or to the variant for Python {python}")
    patches = _patches(chosen, path)
    alternatives = tuple(_source(raw, path) for raw in offered if raw is not None)
    return Recipe(
        name=chosen.name,
        version=version,
        path=path,
        source=alternatives[0],
        alternatives=alternatives,
        python=SpecifierSet(chosen.python),
        build_requires=chosen.build_requires,
        depends=chosen.depends,
        system=chosen.system,
        env=chosen.env,
        config_settings={key: _values(value) for key, value in chosen.config_settings.items()},
        patches=patches,
        test=SmokeTest(script=chosen.test.script, requires=chosen.test.requires),
        digest=_digest(path, patches),
        estimate=chosen.estimate,
        cross_blocked=chosen.cross_blocked,
        library=chosen.library,
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
                raise field_error(str(recipe.path), "depends", f"no recipe named '{dep}'",
                                  f"add recipes/{dep}.yaml or remove it from depends")
    return recipes
