"""``invoke build-wheels``: plan, then fetch, build, test and publish each recipe in order."""

from __future__ import annotations

import os
import shutil
import sys
from contextlib import nullcontext
from pathlib import Path

from rvforge import REPO_ROOT, environment
from rvforge.build import (
    alternatives,
    blas_source,
    buildenv,
    distcc_canary,
    distcc_hosts,
    estimates,
    lock,
    recipe_build,
    resume,
    sources,
)
from rvforge.build import status as build_status
from rvforge.build.plan import BuildTarget, PlanEntry, make_plan, render
from rvforge.build.recipes import load_all
from rvforge.build.wheelhouse import Wheelhouse
from rvforge.config import parse_value
from rvforge.cross import wheels as cross_wheels
from rvforge.errors import BuildFailed, CheckFailed
from rvforge.host.capacity import max_jobs
from rvforge.host.facts import Host, detect
from rvforge.host.profiles import Profile, select
from rvforge.host.sysroot import resolve
from rvforge.log import info, step, warn
from rvforge.paths import cache_dir


def _jobs(host: Host, requested: str | None) -> int:
    """``--jobs`` as given (a whole number >= 1), else what the cores and RAM allow."""
    if requested is None:
        return max_jobs(host)
    return int(parse_value(int, str(requested), "--jobs", {"min": 1}))


def _ccache() -> str | None:
    """ccache when installed (``RVFORGE_CCACHE=0`` turns it off, e.g. to time a cold build)."""
    if environment.get("RVFORGE_CCACHE") == "0":
        return None
    return shutil.which("ccache")


def _distcc(flag: str | None, configured: str | None, profile: Profile, local_jobs: int,
            cache: Path) -> distcc_hosts.DistccSetup | None:
    """Compile helpers from ``--distcc``, else invoke.yaml's ``build_wheels.distcc``, else the
    profile's ``distcc``; checked before any work starts."""
    text, source = next(((value, name) for value, name in (
        (flag, "--distcc"), (configured, "invoke.yaml build_wheels.distcc"),
        (profile.distcc or None, f"profile {profile.name} distcc")) if value is not None), (None, ""))
    if text is None:
        return None
    helpers = distcc_hosts.parse_hosts(str(text), source)
    if not shutil.which("distcc"):
        raise CheckFailed(f"{source}: distcc is not installed here", hint=profile.install_hint("distcc"))
    if not _ccache():
        raise CheckFailed(f"{source}: compiles reach helpers through ccache, which is missing or off "
                          "(RVFORGE_CCACHE=0)", hint=profile.install_hint("ccache"))
    return distcc_hosts.setup(helpers, local_jobs, cache, profile, buildenv.clean_env())


def _report_helpers(setup: distcc_hosts.DistccSetup, house: Wheelhouse, name: str) -> None:
    """A helper that went away costs speed, not the build: say so where it shows."""
    gone = [helper.name for helper in setup.helpers if not distcc_hosts.reachable(helper)]
    fallbacks = house.entries.get(name, {}).get("distcc", {}).get("local_fallbacks", 0)
    if gone or fallbacks:
        warn(f"{name}: {fallbacks} compile job(s) ran on this machine instead of a helper"
             + (f"; unreachable now: {', '.join(gone)}" if gone else ""))


def _print_environment(steps: list[PlanEntry], ctx: buildenv.BuildContext) -> None:
    """What each build would run with: the variables the tool sets, requirements, settings."""
    for plan_step in steps:
        recipe = plan_step.recipe
        info(f"\n{recipe.name} {recipe.version}:")
        info(f"  system: {', '.join(recipe.system) or '-'}")
        info(f"  depends: {', '.join(recipe.depends) or '-'}")
        if not recipe.builds:
            info("  published wheel, taken as is after its sha256 check")
            continue
        info(f"  build requires: {' '.join(recipe.build_requires) or '-'}")
        if recipe.library is not None:
            info(f"  library {recipe.library.package}, one build per flavour: "
                 + ", ".join(f"{f.name}" + (f" (needs {f.needs})" if f.needs else " (fallback)")
                             for f in recipe.flavours(ctx.machine)))
        for setting in buildenv.config_settings(recipe, ctx.jobs):
            info(f"  -C {setting}")
        work = resume.work_root(ctx.cache, recipe)
        env = buildenv.build_environment(recipe, ctx, work / "src" / "<tree>", work / "build-venv", epoch=0)
        for key in sorted(env):
            if os.environ.get(key) != env[key] and key != "SOURCE_DATE_EPOCH":
                info(f"  {key}={env[key]}")
        info("  SOURCE_DATE_EPOCH=<from the source>")


def _download_all(steps: list[PlanEntry], cache: Path) -> None:
    """Fill the cache with every source and pinned requirement, so the build needs no network."""
    log_file = cache / "logs" / "download.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with step("download sources and build requirements"), log_file.open("w") as log:
        for plan_step in steps:
            recipe = plan_step.recipe
            sources.fetch(recipe, cache)
            try:
                buildenv.download([*recipe.build_requires, *recipe.test.requires], cache, log)
            except BuildFailed as exc:
                raise BuildFailed(f"{recipe.name}: {exc.message}", hint=f"see {log_file}") from exc
            info(f"    {recipe.name} {recipe.version}: cached")
        info(f"    everything is in {cache}")


def main(only: list[str] | None = None, jobs: str | None = None, dry_run: bool = False,
         wheelhouse: str | None = None, profile: str | None = None, sysroot: str | None = None,
         force: bool = False, download_only: bool = False, recipes: str | None = None,
         distcc: str | None = None, distcc_config: str | None = None,
         cross_target: str | None = None, status: bool = False, as_json: bool = False,
         blas: str | None = None, blas_config: str | None = None) -> int:
    if status:
        return build_status.main(cache_dir(), as_json)
    if cross_target is not None:
        return cross_wheels.main(cross_target, only, int(parse_value(int, str(jobs), "--jobs", {"min": 1}))
                                 if jobs is not None else None, dry_run, wheelhouse, force, recipes,
                                 unsupported={"--profile": profile, "--distcc": distcc,
                                              "--download-only": download_only},
                                 blas=blas, blas_config=blas_config, sysroot=sysroot)
    root = resolve(sysroot)
    host = detect(root)
    chosen = select(host, profile)
    job_count = _jobs(host, jobs)
    cache = cache_dir()
    helpers = _distcc(distcc, distcc_config, chosen, max_jobs(host), cache)
    if helpers and jobs is None:
        job_count = helpers.jobs
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    blas_from, blas_why = blas_source.choose(blas, blas_config, chosen)
    all_recipes = blas_source.apply(load_all(Path(recipes) if recipes else None, python), blas_from)
    house_dir = Path(wheelhouse) if wheelhouse else REPO_ROOT / "wheelhouse"
    # Dry runs read only; everything else holds the cache (work dirs, sources) alone. The lock lives
    # in the cache, not the wheelhouse: a wheelhouse holds wheels and their manifest, nothing else.
    with nullcontext() if dry_run else lock.exclusive(cache):
        house = Wheelhouse(house_dir).load()
        all_recipes = alternatives.choose_all(all_recipes, cache)
        target = BuildTarget(chosen.name, python, host.machine)
        steps = make_plan(all_recipes, only, house, target, cache, force=force)
        info(f"profile {chosen.name}, Python {python} ({sys.executable}), machine {host.machine}, "
             f"BLAS from {blas_from} ({blas_why})")
        info(f"wheelhouse {house.path}, cache {cache}")
        info(render(steps, estimates.outlook([s.recipe for s in steps if s.todo], house.entries,
                                             host.machine, job_count, cache)))
        todo = [s for s in steps if s.todo]
        if download_only:
            _download_all(steps, cache)
            return 0
        if not todo and not dry_run:
            info("nothing to do: every wheel matches its inputs")
            return 0
        ctx = buildenv.BuildContext(profile=chosen, sysroot=root, python=python, machine=host.machine,
                                    jobs=job_count, cache=cache, ccache=_ccache(), distcc=helpers)
        if dry_run:
            _print_environment(steps, ctx)
            info("\ndry run: nothing fetched or built")
            return 0
        if helpers:
            info(f"compile helpers: {' '.join(helpers.names())} ({job_count} jobs, "
                 f"links and Fortran here with at most {helpers.local_jobs})")
            distcc_canary.run(helpers, buildenv.clean_env(), cache)
        for plan_step in todo:
            if plan_step.status == "corrupt":
                warn(f"{house.wheel_path(plan_step.recipe.name)} no longer matches its sha256 in "
                     f"{house.manifest_path.name}: rebuilding {plan_step.recipe.name}")
            wheel = recipe_build.run_step(plan_step, all_recipes, ctx, house, chosen.name)
            info(f"    -> {wheel}")
            if helpers:
                _report_helpers(helpers, house, plan_step.recipe.name)
        info(f"done: {len(todo)} wheel(s) added to {house.path}")
        return 0
