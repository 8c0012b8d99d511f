"""The build plan: which recipes, in which order, and which of them are already done.

The plan is computed (and printed) before anything runs, so a user sees what an hour-long
command will do - and a run with nothing to do stops here, in well under a second.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from rvforge.build import estimates, resume, sources
from rvforge.build.recipes import Recipe
from rvforge.build.wheelhouse import Wheelhouse
from rvforge.errors import ConfigError
from rvforge.log import format_duration


@dataclass(frozen=True)
class BuildTarget:
    """What a wheel is built for; part of every cache key."""

    profile: str
    python: str  # X.Y
    machine: str


def build_order(recipes: dict[str, Recipe], only: list[str] | None = None) -> list[Recipe]:
    """Dependencies first; ties in name order so every run prints the same plan.

    With ``only``, just those recipes (their dependencies must already be built)."""
    unknown = [name for name in only or [] if name not in recipes]
    if unknown:
        raise ConfigError(f"no recipe named {', '.join(unknown)}",
                          hint=f"choose from: {', '.join(sorted(recipes))}")
    order: list[Recipe] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = " -> ".join((*chain, name))
            raise ConfigError(f"dependency cycle: {cycle}",
                              hint=f"remove one 'depends' entry ({recipes[name].path})")
        state[name] = "visiting"
        for dep in sorted(recipes[name].depends):
            visit(dep, (*chain, name))
        state[name] = "done"
        order.append(recipes[name])

    for name in sorted(recipes):
        visit(name, ())
    if only:
        order = [recipe for recipe in order if recipe.name in only]
    return order


def cache_keys(order: list[Recipe], recipes: dict[str, Recipe], target: BuildTarget) -> dict[str, str]:
    """One key per recipe over everything that decides its wheel: recipe and patch digest,
    source pin, profile, Python, machine and (recursively) the keys of its dependencies."""
    keys: dict[str, str] = {}

    def key(recipe: Recipe) -> str:
        if recipe.name not in keys:
            payload = {
                "recipe": recipe.digest,
                "source": sources.identity(recipe),
                "profile": target.profile,
                "python": target.python,
                "machine": target.machine,
                "depends": {dep: key(recipes[dep]) for dep in sorted(recipe.depends)},
            }
            keys[recipe.name] = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        return keys[recipe.name]

    for recipe in order:
        key(recipe)
    return keys


@dataclass(frozen=True)
class PlanEntry:
    recipe: Recipe
    key: str
    status: str  # current | missing | changed | corrupt (see Wheelhouse.status) | forced
    source_cached: bool
    resumes: bool = False  # an interrupted build of the same inputs left its tree to continue in

    @property
    def todo(self) -> bool:
        return self.status != "current"

    def describe(self) -> str:
        if not self.todo:
            return "cached"
        action = "take" if not self.recipe.builds else "build"
        why = {"missing": "", "changed": " (inputs changed)", "forced": " (--force)",
               "corrupt": " (wheel on disk no longer matches the manifest)"}[self.status]
        fetch = "" if self.source_cached else "fetch + "
        kept = ", resuming its kept tree" if self.resumes else ""
        return f"{fetch}{action}{why}{kept}"


def make_plan(recipes: dict[str, Recipe], only: list[str] | None, wheelhouse: Wheelhouse,
              target: BuildTarget, cache: Path, force: bool = False) -> list[PlanEntry]:
    order = build_order(recipes, only)
    keys = cache_keys(order, recipes, target)
    selected = {recipe.name for recipe in order}
    steps = []
    for recipe in order:
        if not recipe.supports(target.python):
            raise ConfigError(
                f"{recipe.name} {recipe.version} does not build for Python {target.python} "
                f"({recipe.path.name} supports '{recipe.python}')",
                hint=f"select other recipes with --only, or add a variant for Python {target.python} "
                     f"to {recipe.path.name}")
        for dep in recipe.depends:
            if dep not in selected and wheelhouse.status(dep, keys[dep]) != "current":
                raise ConfigError(
                    f"{recipe.name} needs {dep}, which is not built in {wheelhouse.path}",
                    hint=f"add --only {dep}, or run build-wheels without --only")
        status = "forced" if force else wheelhouse.status(recipe.name, keys[recipe.name])
        resumes = status != "current" and not force and resume.resumable(resume.work_root(cache, recipe),
                                                                          keys[recipe.name])
        steps.append(PlanEntry(recipe, keys[recipe.name], status, sources.is_cached(recipe, cache), resumes))
    return steps


def _cost(expected: estimates.Expected | None) -> str:
    if expected is None or expected.seconds is None:
        return ""
    disk = f", {estimates.size(expected.disk_bytes)} disk" if expected.disk_bytes else ""
    return f" (~{format_duration(expected.seconds)}{disk}, {expected.basis})"


def render(steps: list[PlanEntry], outlook: estimates.Outlook | None = None) -> str:
    """The plan, one line per recipe; with an ``outlook``, the expected time and disk of each
    build, their total, and a warning when the cache's disk is too small for the largest."""
    costs = outlook.costs if outlook else {}
    lines = ["plan:"]
    for index, step in enumerate(steps, 1):
        recipe = step.recipe
        label = f"{recipe.name} {recipe.version}"
        alternative = f" '{recipe.source.name}'" if recipe.source.name else ""
        cost = _cost(costs.get(recipe.name)) if step.todo else ""
        lines.append(f"  {index:2d}. {label:<24} {step.describe():<44} "
                     f"[{recipe.source.kind}{alternative}: {recipe.source.label}]{cost}")
    todo = sum(step.todo for step in steps)
    lines.append(f"  {todo} to do, {len(steps) - todo} cached")
    if outlook:
        lines.extend(outlook.summary([step.recipe.name for step in steps if step.todo and step.recipe.builds]))
    return "\n".join(lines)
