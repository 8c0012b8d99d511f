"""Where the builds that need a BLAS get it: the distro's OpenBLAS (``system``) or the wheel the
``openblas`` recipe builds (``recipe``).

The distro's OpenBLAS runs a scalar kernel on the C910 (docs/riscv64.md); the recipe's wheel
carries a vector build as well, chosen on the machine by self-test. With ``recipe``, each recipe
that asks for the system requirement ``openblas`` depends on the ``openblas`` recipe instead:
its wheel is built first, installed into the build venv (where pkg-config and CMake find it,
``buildenv``), and its cache key becomes part of theirs, so a numpy built against one BLAS is never
taken for one built against the other.
"""

from __future__ import annotations

import dataclasses
from typing import get_args

from rvforge.build.recipes import Recipe
from rvforge.errors import ConfigError
from rvforge.host.profiles import BlasSource, Profile

#: The system requirement recipes name, and the recipe that replaces it.
REQUIREMENT = "openblas"
LIBRARY_RECIPE = "openblas"


def choose(flag: str | None, configured: str | None, profile: Profile) -> tuple[BlasSource, str]:
    """``--blas``, else invoke.yaml's ``build_wheels.blas``, else the profile's ``blas``; with where
    the value came from."""
    value, source = next((item for item in ((flag, "--blas"), (configured, "invoke.yaml build_wheels.blas"))
                          if item[0] is not None), (profile.blas, f"profile {profile.name} blas"))
    for known in get_args(BlasSource):
        if value == known:
            return known, source
    raise ConfigError(f"{source}: unknown BLAS source '{value}'",
                      hint=f"use one of: {', '.join(get_args(BlasSource))}")


def apply(recipes: dict[str, Recipe], source: BlasSource) -> dict[str, Recipe]:
    """The recipes as this BLAS source builds them."""
    if source == "system":
        return recipes
    if LIBRARY_RECIPE not in recipes:
        raise ConfigError(f"the BLAS source 'recipe' needs recipes/{LIBRARY_RECIPE}.yaml, which is missing",
                          hint="restore it, or build with --blas system")
    return {name: dataclasses.replace(recipe, system=tuple(r for r in recipe.system if r != REQUIREMENT),
                                      depends=(*recipe.depends, LIBRARY_RECIPE))
            if REQUIREMENT in recipe.system and name != LIBRARY_RECIPE else recipe
            for name, recipe in recipes.items()}
