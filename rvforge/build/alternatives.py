"""Choosing among a recipe's alternative sources (``sources:``) for the same release.

A source already in the cache wins, in the recipe's order, so a laptop offline or a resumed
build keeps using what it fetched. Otherwise the first reachable alternative is used; each
one skipped is reported in one line, and an unreachable host costs at most a bounded probe.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rvforge.build import archives, sources
from rvforge.build.recipes import Recipe, Source
from rvforge.errors import SourceError
from rvforge.log import info


def _unreachable(source: Source, cache: Path) -> str | None:
    if source.kind == "git":
        return sources.git_unreachable(source)
    if source.kind == "archives":
        return archives.unreachable(source.files, cache, lambda name: sources.index_file_url(name, cache))
    if source.kind in ("sdist", "wheel"):
        try:
            sources.index_file_url(source.filename, cache)
        except SourceError as exc:
            return exc.message
        return None
    return None if source.path is not None and source.path.is_dir() else f"{source.path} is missing"


def choose(recipe: Recipe, cache: Path) -> tuple[Recipe, list[str]]:
    """The recipe with the alternative it will build from, and one line per skipped one."""
    if len(recipe.alternatives) < 2:
        return recipe, []
    for source in recipe.alternatives:
        if sources.source_cached(source, cache):
            return dataclasses.replace(recipe, source=source), []
    skipped: list[str] = []
    for source in recipe.alternatives:
        why = _unreachable(source, cache)
        if why is None:
            return dataclasses.replace(recipe, source=source), skipped
        skipped.append(f"{recipe.name}: skipped source '{source.name}' ({source.kind}): {why}")
    names = ", ".join(s.name for s in recipe.alternatives)
    raise SourceError(f"{recipe.name}: none of its sources ({names}) is cached or reachable: "
                      f"{skipped[-1].split(': ', 2)[-1]}",
                      hint="connect, set RVFORGE_DEBIAN_MIRROR, or run `invoke build-wheels "
                           "--download-only` on a connected machine and copy its cache here")


def choose_all(recipes: dict[str, Recipe], cache: Path) -> dict[str, Recipe]:
    """Every recipe with its chosen alternative; skipped ones are reported as they are found."""
    chosen = {}
    for name, recipe in recipes.items():
        chosen[name], skipped = choose(recipe, cache)
        for line in skipped:
            info(f"  {line}")
    return chosen
