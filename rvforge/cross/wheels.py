"""The body of ``invoke build-wheels --cross-target PROFILE``: the same plan and wheelhouse as a
native build, each wheel cross-built in the cross root and tested as target code."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Mapping

from rvforge import REPO_ROOT
from rvforge.build import alternatives, blas_source, lock
from rvforge.build.plan import BuildTarget, PlanEntry, make_plan, render
from rvforge.build.recipe_build import dependency_wheels
from rvforge.build.recipes import load_all
from rvforge.build.wheelhouse import Wheelhouse
from rvforge.cross import build, checks, files
from rvforge.cross import root as cross_root
from rvforge.cross.target import CrossTarget, cross_target
from rvforge.errors import CheckFailed, ConfigError
from rvforge.host.capacity import max_jobs
from rvforge.host.facts import detect
from rvforge.log import info, warn
from rvforge.paths import cache_dir


def default_wheelhouse(target: CrossTarget) -> Path:
    """Target wheels never mix with this machine's own: one wheelhouse per cross target."""
    return REPO_ROOT / "wheelhouse" / target.profile.name


def _runnable(steps: list[PlanEntry], only: list[str] | None) -> list[PlanEntry]:
    """The steps to build; a blocked recipe is skipped with its reason, or stops the run when
    it was asked for by name."""
    todo = []
    for plan_step in (s for s in steps if s.todo):
        reason = plan_step.recipe.cross_blocked
        if not reason:
            todo.append(plan_step)
        elif only and plan_step.recipe.name in only:
            raise CheckFailed(f"{plan_step.recipe.name} cannot be cross-built yet: {reason}",
                              hint="build it natively on the target (invoke build-wheels there)")
        else:
            warn(f"{plan_step.recipe.name}: not cross-built ({reason})")
    return todo


def main(name: str, only: list[str] | None = None, jobs: int | None = None, dry_run: bool = False,
         wheelhouse: str | None = None, force: bool = False, recipes: str | None = None,
         unsupported: Mapping[str, object] | None = None, blas: str | None = None,
         blas_config: str | None = None, sysroot: str | None = None) -> int:
    given = [flag for flag, value in (unsupported or {}).items() if value]
    if given:
        raise ConfigError(f"{', '.join(given)} cannot be combined with --cross-target yet",
                          hint="the cross target's profile and its cached root decide these; drop the flag")
    target = cross_target(name, sysroot)
    cache = cache_dir()
    job_count = jobs or max_jobs(detect(None))
    blas_from, blas_why = blas_source.choose(blas, blas_config, target.profile)
    all_recipes = blas_source.apply(load_all(Path(recipes) if recipes else None, target.python), blas_from)
    house_dir = Path(wheelhouse) if wheelhouse else default_wheelhouse(target)
    root_path = cross_root.default_path(target)
    with nullcontext() if dry_run else lock.exclusive(cache):
        house = Wheelhouse(house_dir).load()
        all_recipes = alternatives.choose_all(all_recipes, cache)
        steps = make_plan(all_recipes, only, house, BuildTarget(target.profile.name, target.python, target.arch),
                          cache, force=force)
        info(f"cross target {target.profile.name}: {target.arch}, Python {target.python}, "
             f"{target.gcc} {' '.join(target.flags)}, root {root_path}, BLAS from {blas_from} ({blas_why})"
             f"{f', headers, libraries and Python from {target.sysroot}' if target.sysroot else ''}")
        info(f"wheelhouse {house.path}")
        info(render(steps))
        for plan_step in steps:
            reason = plan_step.recipe.cross_blocked
            if reason:
                info(f"  {plan_step.recipe.name}: cannot be cross-built yet: {reason}")
        todo = _runnable(steps, only)
        if dry_run:
            info("\nsetuptools environment:\n" + "\n".join(f"  {k}={v}" for k, v in files.compiler_env(target).items()))
            info("meson cross file:\n" + files.meson_cross(target))
            info("dry run: nothing fetched or built")
            return 0
        if not todo:
            info("nothing to do: every wheel matches its inputs")
            return 0
        root = cross_root.ensure(target, root_path)
        checks.require(target, root)
        ctx = build.CrossContext(target, root, cache, job_count, cross_root.compiler_version(root, target))
        for plan_step in todo:
            deps = dependency_wheels(plan_step.recipe, all_recipes, house)
            info(f"    -> {build.run_step(plan_step, deps, ctx, house)}")
        info(f"done: {len(todo)} cross-built wheel(s) added to {house.path}")
        return 0
