"""One recipe cross-built in the cross root: unpack, crossenv, build, check, test as target
code, publish.

The Python side comes from crossenv: a build-machine interpreter whose sysconfig is the
target's (platform, EXT_SUFFIX, wheel tag), made fresh per build from the root's build venv.
The compilers and the meson/CMake files come from ``files`` (the profile's pins). A wheel whose
tag or any ELF member is not target code is refused, and the recipe's own smoke test runs as
target code under qemu-user before the wheel may enter the wheelhouse. A failed run keeps the
patched tree and a library's finished flavours for the next run of the same inputs (``resume``).
"""

from __future__ import annotations

import dataclasses
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence, TextIO

from rvforge.build import buildenv, library, library_wheel, patches, recipe_build, resume, sources
from rvforge.build.plan import PlanEntry
from rvforge.build.recipe_schema import FlavourFile
from rvforge.build.recipes import Recipe
from rvforge.build.wheelhouse import Wheelhouse
from rvforge.cross import chroot, elfcheck, files
from rvforge.cross import root as cross_root
from rvforge.cross.target import CrossTarget
from rvforge.errors import BuildFailed
from rvforge.log import info, step
from rvforge.ontarget.wheeltags import parse_wheel_name, project_name

_SMOKE_PREFIX = ("import platform, sys\n"
                 "assert platform.machine() == {arch!r}, 'not running as {arch} code: ' + platform.machine()\n")


@dataclass(frozen=True)
class CrossContext:
    """What every cross build of one run shares."""

    target: CrossTarget
    root: Path  # the ready cross root (host path)
    cache: Path
    jobs: int
    compiler: str  # "riscv64-linux-gnu-gcc-16 16.2.0"


@dataclass(frozen=True)
class _Work:
    """A recipe's work dir, named both ways: the host writes files the root's commands read."""

    host: Path  # the recipe's work dir, as a host path
    inside: str  # the same dir inside the root

    def sub(self, name: str) -> tuple[Path, str]:
        return self.host / name, f"{self.inside}/{name}"


def _run(ctx: CrossContext, command: list[str], log: TextIO, what: str,
         env: Mapping[str, str] | None = None, cwd: str = "/") -> None:
    """Run in the cross root with the pip cache (and qemu-user, for target programs) bound in."""
    binds = [chroot.Bind(buildenv.pip_cache(ctx.cache), cross_root.WHEELS_INSIDE),
             *cross_root.sysroot_binds(ctx.target)]
    qemu = shutil.which(files.ARCHES[ctx.target.arch].qemu)
    if qemu:  # exe_wrapper and the smoke test run target programs through it
        binds.append(chroot.Bind(Path(qemu), f"/usr/local/bin/{Path(qemu).name}"))
    buildenv.run(chroot.argv(ctx.root, command, env, binds, cwd), log, buildenv.clean_env(), what=what)


def _crossenv(ctx: CrossContext, recipe: Recipe, work: _Work, log: TextIO) -> str:
    """A fresh crossenv for this build with the recipe's build requirements; returns its dir."""
    target = ctx.target
    env_dir = f"{work.inside}/crossenv"
    offline = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": cross_root.WHEELS_INSIDE}
    _run(ctx, [cross_root.BUILD_PYTHON, "-m", "crossenv", "--cc", target.gcc, "--cxx", target.gxx,
               "--sysconfigdata-file", target.sysconfigdata, target.target_python, env_dir],
         log, "creating the crossenv", offline)
    if recipe.build_requires:  # from the cache; downloaded into it when missing
        install = [f"{env_dir}/bin/build-pip", "install", "--no-deps", *recipe.build_requires]
        try:
            _run(ctx, install, log, "installing the build requirements from the cache", offline)
        except BuildFailed:
            buildenv.download(list(recipe.build_requires), ctx.cache, log, target.python)
            _run(ctx, install, log, "installing the build requirements", offline)
    return env_dir


def _inside(work: _Work, path: Path) -> str:
    return f"{work.inside}/{path.relative_to(work.host)}"


def _build_library(ctx: CrossContext, recipe: Recipe, tree: Path, work: _Work, kept: resume.Work, log: TextIO,
                   epoch: int) -> Path:
    """A library recipe's script per flavour with the profile's cross compilers (and the build
    machine's ``CC_FOR_BUILD`` for the tools a build compiles and runs itself); the wheel, checked."""
    base = {**{k: buildenv.expand(v, ctx.jobs) for k, v in recipe.env.items()},
            **files.compiler_env(ctx.target), "CC_FOR_BUILD": "gcc", "SOURCE_DATE_EPOCH": str(epoch)}

    def env(flavour: FlavourFile, prefix: Path) -> dict[str, str]:
        return {**base, **library.script_env(recipe, flavour, _inside(work, prefix), ctx.jobs)}

    def build(flavour: FlavourFile, copy: Path, prefix: Path) -> None:
        with step(f"cross-compile {recipe.name} {recipe.version} [{flavour.name}] ({ctx.jobs} jobs)"):
            _run(ctx, library.script(recipe, ctx.jobs), log, f"cross-building {recipe.name} ({flavour.name})",
                 env(flavour, prefix), cwd=_inside(work, copy))

    def check(flavour: FlavourFile, copy: Path, prefix: Path, command: list[str]) -> None:
        _run(ctx, command, log, f"the compiler check of {recipe.name} ({flavour.name})", env(flavour, prefix),
             cwd=_inside(work, copy))

    runner = library.FlavourRunner(build, check)
    wheel = library.build_all(recipe, tree, ctx.target.arch, work.host, epoch, runner, kept)
    checked = elfcheck.check_wheel(wheel, ctx.target.arch, None)
    info(f"    {wheel.name}: {checked} ELF file(s), all {ctx.target.arch}")
    return wheel


def _unpack(wheels: Sequence[Path], into: Path) -> None:
    """A wheel install is an unzip (the target's interpreter cannot run pip here)."""
    for item in wheels:
        with zipfile.ZipFile(item) as archive:
            archive.extractall(into)


def _libraries(work: _Work, site: Path) -> list[str]:
    """The fallback prefixes of the library wheels unpacked in ``site``, as the root sees them."""
    return [_inside(work, prefix) for prefix in library_wheel.installed_prefixes(site)]


def _build_side(ctx: CrossContext, env_dir: str, deps: Sequence[Path], log: TextIO) -> None:
    """The build machine's wheels of the target's Python dependencies (same versions), for code a
    build generates by importing them (numpy's f2py): crossenv's python finds build-side packages,
    and the target's own copies cannot run here."""
    names = [parse_wheel_name(dep) for dep in deps if not library_wheel.is_library_wheel(dep)]
    wanted = [f"{name.project}=={name.version}" for name in names if name and name.platform_tags != ("any",)]
    if wanted:
        buildenv.download(wanted, ctx.cache, log, ctx.target.python)
        _run(ctx, [f"{env_dir}/bin/build-pip", "install", "--no-deps", *wanted], log,
             "installing the build machine's copies of the dependencies",
             {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": cross_root.WHEELS_INSIDE})


def _build(ctx: CrossContext, recipe: Recipe, tree: Path, deps: Sequence[Path], work: _Work,
           kept: resume.Work, log: TextIO, epoch: int) -> Path:
    """``pip wheel`` in a fresh crossenv with the profile's compilers and files; the dependency
    wheels unpacked where pkg-config (library wheels) and the meson cross file's include-dir
    properties (Python packages) point; the one wheel, checked."""
    if recipe.library is not None:
        return _build_library(ctx, recipe, tree, work, kept, log, epoch)
    env_dir = _crossenv(ctx, recipe, work, log)
    _build_side(ctx, env_dir, deps, log)
    site, site_inside = work.sub("target-site")
    _unpack(deps, site)
    prefixes = library_wheel.installed_prefixes(site)
    libraries = [_inside(work, prefix) for prefix in prefixes]
    files.climb_out_of_sysroot(ctx.target, [(prefix / "lib/pkgconfig", f"{inside}/lib/pkgconfig")
                                            for prefix, inside in zip(prefixes, libraries, strict=True)])
    files_dir, files_inside = work.sub("cross-files")
    build_site = f"{env_dir}/build/lib/python{ctx.target.python}/site-packages"
    generated = files.write_all(ctx.target, files_dir, files_inside, f"{env_dir}/build/bin/cython",
                                libraries=libraries, python=f"{env_dir}/cross/bin/python",
                                properties=files.include_dirs(site, site_inside, build_site, recipe.build_requires))
    tree_inside = _inside(work, tree)
    dist, dist_inside = work.sub("dist")
    dist.mkdir()
    settings = [*buildenv.config_settings(recipe, ctx.jobs)]
    if resume.backend_settings({}, tree):  # meson-python: point meson at the generated files
        settings += [f"setup-args=--cross-file={generated.meson_cross}",
                     f"setup-args=--native-file={generated.meson_native}",
                     f"build-dir={tree_inside}/build-cross"]
    env = {**{k: buildenv.expand(v, ctx.jobs) for k, v in recipe.env.items()},
           **files.compiler_env(ctx.target, libraries=libraries), "CMAKE_TOOLCHAIN_FILE": generated.cmake_toolchain,
           "SOURCE_DATE_EPOCH": str(epoch), "VIRTUAL_ENV": f"{env_dir}/cross",
           # build/bin last: the build requirements' programs (meson, pythran), whose Python scripts
           # then run with the build-side packages (numpy's f2py), not the root's bare python3.
           "PATH": f"{env_dir}/bin:{env_dir}/cross/bin:{env_dir}/build/bin:{chroot.BASE_ENV['PATH']}"}
    command = [f"{env_dir}/cross/bin/python", "-m", "pip", "wheel", "-v", "--no-build-isolation",
               "--no-deps", "--no-index", "-w", dist_inside]
    for setting in settings:
        command += ["-C", setting]
    with step(f"cross-compile {recipe.name} {recipe.version} ({ctx.jobs} jobs)"):
        _run(ctx, [*command, tree_inside], log, f"cross-building {recipe.name}", env, cwd=work.inside)
    wheel = recipe_build.finished_wheel(recipe, dist, [work.host, work.inside], site, epoch)
    checked = elfcheck.check_wheel(wheel, ctx.target.arch, ctx.target.python)
    info(f"    {wheel.name}: {checked} ELF file(s), all {ctx.target.arch}")
    return wheel


def _test_wheels(recipe: Recipe, house: Wheelhouse, deps: list[Path], ctx: CrossContext,
                 log: TextIO) -> list[Path]:
    """Dependencies and test requirements: from the wheelhouse, else pure-Python from the index."""
    from_index, from_house = recipe_build.split_test_requirements(recipe, house)
    wheels = [*deps, *from_house]
    buildenv.download(from_index, ctx.cache, log, ctx.target.python)
    for req in from_index:
        name = project_name(req).replace("-", "_")
        pure = sorted(buildenv.pip_cache(ctx.cache).glob(f"{name}-*-none-any.whl"), key=lambda p: p.name.lower())
        if not pure:
            raise BuildFailed(f"test requirement {req} has no pure-Python wheel to run as target code",
                              hint=f"build {project_name(req)} into this wheelhouse first")
        wheels.append(pure[-1])
    return wheels


def smoke_test(ctx: CrossContext, recipe: Recipe, wheel: Path, others: list[Path], work: _Work,
               log: TextIO) -> None:
    """The recipe's test, run by the target's Python under qemu-user: target code, no host
    Python involved. Wheels are unpacked into a site dir, where no ``.pth`` runs: the library
    wheels' fallback flavours are found through ``LD_LIBRARY_PATH`` instead."""
    site, site_inside = work.sub("site")
    _unpack([*others, wheel], site)
    env = {"PYTHONPATH": site_inside}
    libraries = _libraries(work, site)
    if libraries:
        env["LD_LIBRARY_PATH"] = ":".join(f"{prefix}/lib" for prefix in libraries)
    script, script_inside = work.sub("smoke_test.py")
    script.write_text(_SMOKE_PREFIX.format(arch=ctx.target.arch) + recipe.test.script)
    qemu = files.ARCHES[ctx.target.arch].qemu
    with step(f"test {recipe.name} as {ctx.target.arch} code (qemu-user)"):
        _run(ctx, [qemu, "-L", ctx.target.target_root, ctx.target.target_python, script_inside], log,
             f"the {recipe.name} smoke test as {ctx.target.arch} code", env, cwd=work.inside)


#: What each run makes again: only the patched tree and finished parts (``resume``) carry over.
_PER_RUN = ("crossenv", "cross-files", "target-site", "site")


def _open_work(plan_step: PlanEntry, ctx: CrossContext) -> tuple[_Work, resume.Work]:
    """The recipe's work dir in the root, keeping what an earlier run of the same inputs finished:
    the patched tree (where meson's build dir lets ninja continue) and a library's flavours."""
    recipe = plan_step.recipe
    work = _Work(ctx.root / "work" / recipe.name, f"/work/{recipe.name}")
    kept, note = resume.open_work(work.host, plan_step.key, fresh=plan_step.status == "forced", build_venv=False)
    if note:
        info(f"    {recipe.name}: {note}")
    for name in _PER_RUN:
        shutil.rmtree(work.host / name, ignore_errors=True)
    return work, kept


def _patched_tree(ctx: CrossContext, recipe: Recipe, fetched: Path, kept: resume.Work, log: TextIO) -> resume.Work:
    if kept.tree is not None:
        return kept
    tree = sources.unpack(recipe, fetched, kept.src)
    chosen = patches.applicable(recipe, machine=ctx.target.arch, profile=ctx.target.profile.name,
                                python=ctx.target.python)
    patches.apply(recipe, chosen, tree, log)
    return dataclasses.replace(kept.tree_done(tree), venv_ready=True)  # no build venv: the tree is all


def run_step(plan_step: PlanEntry, deps: list[Path], ctx: CrossContext, house: Wheelhouse) -> Path:
    """Cross-build, check, test and publish one recipe; returns the wheel in the wheelhouse. A
    failed run keeps the work dir, so the next one resumes what finished."""
    recipe = plan_step.recipe
    work, kept = _open_work(plan_step, ctx)
    log_file = ctx.cache / "logs" / f"{recipe.name}-{recipe.version}-{ctx.target.profile.name}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with log_file.open("w") as log:
        try:
            with step(f"fetch {recipe.name} {recipe.version}"):
                fetched = sources.fetch(recipe, ctx.cache)
            wheel, epoch = fetched, None  # a published pure-Python wheel is taken as is
            if recipe.builds:
                epoch = sources.source_date_epoch(recipe, fetched)
                kept = _patched_tree(ctx, recipe, fetched, kept, log)
                assert kept.tree is not None
                wheel = _build(ctx, recipe, kept.tree, deps, work, kept, log, epoch)
            smoke_test(ctx, recipe, wheel, _test_wheels(recipe, house, deps, ctx, log), work, log)
        except BuildFailed as exc:
            raise BuildFailed(f"{recipe.name} {recipe.version} (cross): {exc.message}",
                              hint=exc.hint or f"see {log_file}; the next run resumes in {work.host}") from exc
    entry = {
        **recipe_build.provenance(plan_step, epoch),
        "profile": ctx.target.profile.name, "python": ctx.target.python, "machine": ctx.target.arch,
        "cross": {"compiler": ctx.compiler, "flags": list(ctx.target.flags),
                  "sysroot": {"suite": ctx.target.suite, "key": ctx.root.name,
                              **({"path": str(ctx.target.sysroot)} if ctx.target.sysroot else {})}},
        "build_seconds": round(time.monotonic() - start, 1),
    }
    published = house.add(wheel, entry, epoch=epoch)
    shutil.rmtree(work.host, ignore_errors=True)
    return published
