"""One recipe, start to finish: fetch, unpack, patch, build in a fresh venv, test, publish.

A wheel reaches the wheelhouse only after its smoke test passed in a throwaway venv. All work
happens in a per-recipe directory of the cache; a build killed half-way resumes there on the next
run when its inputs are unchanged (``resume``), and the directory is removed once the wheel is
published.
"""

from __future__ import annotations

import dataclasses
import platform
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Sequence, TextIO

from rvforge import __version__
from rvforge.build import buildenv, diagnose, estimates, library, library_wheel, patches, resume, runpaths, sources
from rvforge.build.compile import compile_step
from rvforge.build.plan import PlanEntry
from rvforge.build.progress_log import Journal, journal_path
from rvforge.build.recipes import Recipe
from rvforge.build.wheelhouse import Wheelhouse
from rvforge.errors import BuildFailed
from rvforge.host import openblas
from rvforge.log import info, step
from rvforge.ontarget.wheeltags import project_name

_VERSION_LINE = re.compile(r"\d+\.\d+(?:\.\d+)?")


def log_path(ctx: buildenv.BuildContext, recipe: Recipe) -> Path:
    return ctx.cache / "logs" / f"{recipe.name}-{recipe.version}.log"


def _tool_version(command: list[str]) -> str | None:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION_LINE.search(out.splitlines()[0] if out else "")
    return match.group(0) if match else None


def toolchain_versions(recipe: Recipe, ctx: buildenv.BuildContext) -> dict[str, str | None]:
    """Versions of the tools this recipe builds with, for the manifest."""
    tools: dict[str, str | None] = {"python": platform.python_version()}
    if recipe.builds:
        tools.update(gcc=_tool_version(["gcc", "-dumpfullversion"]),
                     gfortran=_tool_version(["gfortran", "-dumpfullversion"])
                     if "gfortran" in recipe.system else None,
                     cmake=_tool_version(["cmake", "--version"]) if "cmake" in recipe.system else None,
                     ccache=_tool_version([ctx.ccache, "--version"]) if ctx.ccache else None)
    return {k: v for k, v in tools.items() if v}


def dependency_wheels(recipe: Recipe, recipes: dict[str, Recipe], wheelhouse: Wheelhouse) -> list[Path]:
    """Wheels of all (transitive) dependencies, as recorded in the wheelhouse."""
    seen: list[str] = []

    def walk(name: str) -> None:
        for dep in recipes[name].depends:
            if dep not in seen:
                walk(dep)
                seen.append(dep)

    walk(recipe.name)
    return [path for path in (wheelhouse.wheel_path(name) for name in seen) if path]


def provenance(plan_step: PlanEntry, epoch: int | None) -> dict[str, Any]:
    """The manifest fields of every wheel, native or cross-built: what it was made from, and by what."""
    recipe = plan_step.recipe
    return {"name": recipe.name, "version": recipe.version, "recipe_digest": recipe.digest,
            "source_sha256": recipe.source.sha256 or None, "source": sources.identity(recipe),
            "source_alternative": recipe.source.name or None, "source_date_epoch": epoch,
            "cache_key": plan_step.key, "built_by": f"rvforge {__version__}"}


def split_test_requirements(recipe: Recipe, wheelhouse: Wheelhouse) -> tuple[list[str], list[Path]]:
    """Test extras that this wheelhouse already holds are taken from it, not from the index."""
    from_index, from_house = [], []
    for req in recipe.test.requires:
        house = wheelhouse.wheel_path(project_name(req))
        if house:
            from_house.append(house)
        else:
            from_index.append(req)
    return from_index, from_house


def build_wheel(recipe: Recipe, fetched: Path, ctx: buildenv.BuildContext, deps: list[Path],
                work: resume.Work, log: TextIO, journal: Journal | None = None) -> tuple[Path, int]:
    """The built (not yet tested) wheel and the SOURCE_DATE_EPOCH it was built with. Stages an
    earlier run finished for the same inputs (``work``) are kept, not done again."""
    epoch = sources.source_date_epoch(recipe, fetched)
    tree = work.tree
    resumed = tree is not None
    if tree is None:
        with step(f"unpack {recipe.name}"):
            tree = sources.unpack(recipe, fetched, work.src)
            chosen = patches.applicable(recipe, machine=ctx.machine, profile=ctx.profile.name,
                                        python=ctx.python)
            patches.apply(recipe, chosen, tree, log)
            if chosen:
                info(f"    applied {', '.join(p.file.name for p in chosen)}")
            work = work.tree_done(tree)
    python = buildenv.venv_python(work.venv)
    if not work.venv_ready:
        with step(f"build venv for {recipe.name}"):
            buildenv.create_venv(work.venv, log)
            buildenv.install_wheels(python, deps, log)
            buildenv.install(python, list(recipe.build_requires), ctx.cache, log)
            work = work.venv_done()
    work.dist.mkdir()
    if recipe.library is not None:
        return library.build(recipe, tree, ctx, work, epoch, log, journal), epoch
    if "openblas" in recipe.system:
        _ensure_openblas_pc(ctx)
    backend = resume.backend_settings(recipe.config_settings, tree)

    def command(jobs: int) -> tuple[list[str], dict[str, str]]:
        args = [*buildenv.pip(python), "wheel", "-v", "--no-build-isolation", "--no-deps",
                "--no-index", "-w", str(work.dist)]
        for setting in [*buildenv.config_settings(recipe, jobs), *buildenv.link_settings(recipe, ctx),
                        *backend]:
            args += ["-C", setting]
        env = buildenv.build_environment(recipe, dataclasses.replace(ctx, jobs=jobs), tree,
                                         work.venv, epoch)
        return args + [str(tree)], env

    compile_step(f"compile {recipe.name} {recipe.version}", command, ctx.jobs, log, work.root,
                 what=f"building {recipe.name}", journal=journal, resumed=resumed)
    return finished_wheel(recipe, work.dist, [work.root], buildenv.site_packages(work.venv), epoch), epoch


def finished_wheel(recipe: Recipe, dist: Path, build_dirs: Sequence[Path | str], site: Path, epoch: int) -> Path:
    """The one wheel a build made in ``dist``, its search paths into ``build_dirs`` removed
    (``runpaths``), checked to link the library wheels installed in ``site`` for the build."""
    wheels = list(dist.glob("*.whl"))
    if len(wheels) != 1:
        raise BuildFailed(f"building {recipe.name} produced {len(wheels)} wheels, expected one")
    for line in runpaths.drop_from_wheel(wheels[0], build_dirs, epoch):
        info(f"    search path into the build removed: {line}")
    library_wheel.require_linked(wheels[0], library_wheel.installed_sonames(site))
    return wheels[0]


def _ensure_openblas_pc(ctx: buildenv.BuildContext) -> None:
    """scipy's Meson finds OpenBLAS only through pkg-config: make sure it can (writes the
    tool's own openblas.pc when the distro ships none or a wrong one)."""
    openblas.ensure_pc(ctx.profile, ctx.sysroot, buildenv.clean_env())


def smoke_test(recipe: Recipe, wheel: Path, deps: list[Path], ctx: buildenv.BuildContext,
               wheelhouse: Wheelhouse, work: resume.Work, log: TextIO) -> None:
    """Install the wheel with its dependencies into a throwaway venv and run the recipe's test."""
    with step(f"test {recipe.name}"):
        python = buildenv.create_venv(work.test_venv, log)
        from_index, from_house = split_test_requirements(recipe, wheelhouse)
        buildenv.install_wheels(python, [*deps, *from_house, wheel], log)
        buildenv.install(python, from_index, ctx.cache, log)
        script = work.root / "smoke_test.py"
        script.write_text(recipe.test.script)
        # Run outside the source tree so the import finds the installed wheel, not the sources.
        buildenv.run([str(python), str(script)], log, buildenv.clean_env(), cwd=work.root,
                     what=f"the {recipe.name} smoke test")


def run_step(plan_step: PlanEntry, recipes: dict[str, Recipe], ctx: buildenv.BuildContext,
             wheelhouse: Wheelhouse, profile_name: str) -> Path:
    """Build (or take), test and publish one recipe; returns the wheel in the wheelhouse."""
    recipe = plan_step.recipe
    work, kept = resume.open_work(resume.work_root(ctx.cache, recipe), plan_step.key,
                                  fresh=plan_step.status == "forced")
    if kept:
        info(f"    {recipe.name}: {kept}")
    log_file = log_path(ctx, recipe)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    start, cpu_start = time.monotonic(), estimates.children_cpu_seconds()
    journal = Journal(journal_path(log_file), recipe.name)
    peak_disk = 0
    with log_file.open("w") as log:
        try:
            with step(f"fetch {recipe.name} {recipe.version}"):
                fetched = sources.fetch(recipe, ctx.cache)
            deps = dependency_wheels(recipe, recipes, wheelhouse)
            if recipe.builds:
                wheel, epoch = build_wheel(recipe, fetched, ctx, deps, work, log, journal)
                peak_disk = estimates.dir_bytes(work.root)
            else:
                wheel, epoch = fetched, None  # published wheel: keep its bytes and sha256
            smoke_test(recipe, wheel, deps, ctx, wheelhouse, work, log)
        except BuildFailed as exc:
            log.flush()
            raise BuildFailed(f"{recipe.name} {recipe.version}: {exc.message}\n"
                              f"{diagnose.report(log_file, ctx.profile)}") from exc
    entry = {
        **provenance(plan_step, epoch),
        "profile": profile_name,
        "python": ctx.python,
        "machine": ctx.machine,
        "toolchain": toolchain_versions(recipe, ctx),
        "build_seconds": round(time.monotonic() - start, 1),
        "cpu_seconds": round(estimates.children_cpu_seconds() - cpu_start, 1),
        "peak_work_dir_bytes": max(peak_disk, estimates.dir_bytes(work.root)),
    }
    if ctx.distcc and recipe.builds:
        entry["distcc"] = ctx.distcc.record(log_file.read_text(errors="replace"))
    published = wheelhouse.add(wheel, entry, epoch=epoch)
    shutil.rmtree(work.root, ignore_errors=True)
    return published
