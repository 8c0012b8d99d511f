"""Build a library recipe: the recipe's script once per flavour of the target machine, each in a
fresh copy of the patched tree and into its own prefix, then one wheel of them all.

The same sequence serves native builds and cross builds; only the way a flavour's commands run
differs (``FlavourRunner``). A flavour whose compiler check fails (a compiler too old for its
kernels) is left out of the wheel with a warning; the fallback never has one. With a
``resume.Work``, a flavour that finished is stamped, so a run stopped during the third flavour
keeps the first two. An unfinished flavour starts again from a fresh copy: make, unlike ninja,
may take a half-written object file killed with its compiler for a finished one.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TextIO

from rvforge.build import buildenv, library_wheel, resume
from rvforge.build.compile import compile_step
from rvforge.build.progress_log import Journal
from rvforge.build.recipe_schema import FlavourFile
from rvforge.build.recipes import Recipe
from rvforge.errors import BuildFailed, ConfigError
from rvforge.log import info, warn

STAGE = "stage"
_COPIES = "flavours"

_PROBE = ".rvforge-compiler-check.c"


@dataclass(frozen=True)
class FlavourRunner:
    """How one flavour's commands run (natively, or in the cross root), in a copy of the tree with
    the flavour's environment and ``$PREFIX``; each raises BuildFailed when its command fails."""

    build: Callable[[FlavourFile, Path, Path], None]  # the recipe's script
    check: Callable[[FlavourFile, Path, Path, list[str]], None]  # a quick command: the compiler check


def flavours(recipe: Recipe, machine: str) -> tuple[FlavourFile, ...]:
    """The flavours to build for ``machine``; the first must run on any CPU of the machine."""
    chosen = recipe.flavours(machine)
    if not chosen or chosen[0].needs:
        raise ConfigError(f"{recipe.path}: library.flavours has no flavour for {machine} that needs "
                          "no CPU extension",
                          hint=f"add a flavour with machine: {machine} and no 'needs' (the fallback "
                               "every CPU of the machine runs)")
    return chosen


def script_env(recipe: Recipe, flavour: FlavourFile, prefix: str, jobs: int) -> dict[str, str]:
    """The variables a flavour's script gets on top of the build environment."""
    return {**{key: buildenv.expand(value, jobs) for key, value in flavour.env.items()},
            "FLAVOUR": flavour.name, "PREFIX": prefix}


def script(recipe: Recipe, jobs: int) -> list[str]:
    assert recipe.library is not None
    return ["sh", "-ec", buildenv.expand(recipe.library.script, jobs)]


def _rejected_flags(flavour: FlavourFile, copy: Path, prefix: Path, run: FlavourRunner) -> str | None:
    """The flavour's check flags when the build's C compiler (``$CC``, as the script gets it)
    rejects its check, else None."""
    check = flavour.compiler
    if check is None:
        return None
    (copy / _PROBE).write_text(check.source)
    try:
        run.check(flavour, copy, prefix, ["sh", "-c", f'exec $CC {check.flags} -c {_PROBE} -o /dev/null'])
    except BuildFailed:
        return check.flags
    return None


def build_all(recipe: Recipe, tree: Path, machine: str, root: Path, epoch: int, run: FlavourRunner,
              work: resume.Work | None = None) -> Path:
    """Build every flavour (those ``work`` says are finished are kept) and pack the wheel into
    ``root/dist``."""
    stage = root / STAGE
    built = []
    for flavour in flavours(recipe, machine):
        if work is not None and work.part_finished(flavour.name):
            info(f"    {recipe.name} [{flavour.name}]: kept from an earlier run")
            built.append(flavour)
            continue
        copy, prefix = root / _COPIES / flavour.name, stage / flavour.name
        shutil.rmtree(copy, ignore_errors=True)
        shutil.rmtree(prefix, ignore_errors=True)
        shutil.copytree(tree, copy, symlinks=True)
        prefix.mkdir(parents=True)
        rejected = _rejected_flags(flavour, copy, prefix, run)
        if rejected:
            warn(f"{recipe.name} [{flavour.name}] not built: this C compiler rejects "
                 f"'{rejected}' (too old for these kernels; the compiler's words are in the "
                 f"log). CPUs with {flavour.needs} run the fallback; a wheel with this flavour needs a newer "
                 "compiler, e.g. a cross build: invoke build-wheels --cross-target PROFILE --only "
                 f"{recipe.name}")
            shutil.rmtree(copy, ignore_errors=True)
            shutil.rmtree(prefix, ignore_errors=True)
            continue
        run.build(flavour, copy, prefix)
        library_wheel.tidy_prefix(prefix)
        shutil.rmtree(copy, ignore_errors=True)
        if work is not None:
            work.part_done(flavour.name)
        built.append(flavour)
    return library_wheel.pack(recipe, stage, machine, epoch, root / "dist", built)


def build(recipe: Recipe, tree: Path, ctx: buildenv.BuildContext, work: resume.Work, epoch: int,
          log: TextIO, journal: Journal | None = None) -> Path:
    """A native build of every flavour of this machine, resumable per flavour."""

    def environment(flavour: FlavourFile, copy: Path, prefix: Path, jobs: int) -> dict[str, str]:
        env = buildenv.build_environment(recipe, dataclasses.replace(ctx, jobs=jobs), copy, work.venv, epoch)
        return {**env, **script_env(recipe, flavour, str(prefix), jobs)}

    def build(flavour: FlavourFile, copy: Path, prefix: Path) -> None:
        compile_step(f"compile {recipe.name} {recipe.version} [{flavour.name}]",
                     lambda jobs: (script(recipe, jobs), environment(flavour, copy, prefix, jobs)), ctx.jobs, log,
                     copy, what=f"building {recipe.name} ({flavour.name})", journal=journal)

    def check(flavour: FlavourFile, copy: Path, prefix: Path, command: list[str]) -> None:
        buildenv.run(command, log, environment(flavour, copy, prefix, ctx.jobs), cwd=copy,
                     what=f"the compiler check of {recipe.name} ({flavour.name})")

    return build_all(recipe, tree, ctx.machine, work.root, epoch, FlavourRunner(build, check), work)
