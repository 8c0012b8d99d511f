"""Build and test environments: venvs made with the Python that runs the tool, their pinned
requirements, and the environment variables a reproducible build needs.

pip runs with no user or system configuration (``PIP_CONFIG_FILE=/dev/null``), so a host's
find-links or extra indexes cannot slip other wheels into a build. Requirements come from the
tool's own download cache; the index is asked only for what the cache lacks.
"""

from __future__ import annotations

import codecs
import os
import select
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Protocol, TextIO

from rvforge.build import library_wheel, sources
from rvforge.build.distcc_hosts import DistccSetup
from rvforge.build.recipes import Recipe
from rvforge.errors import BuildFailed
from rvforge.host import pkgconfig
from rvforge.host.profiles import Profile

#: Variables that would let the caller's shell change what gets built.
_DROPPED = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "CFLAGS", "CXXFLAGS",
            "FFLAGS", "LDFLAGS", "CPPFLAGS")
#: Seconds between a watcher's ticks when the command is silent.
_TICK = 1.0


@dataclass(frozen=True)
class BuildContext:
    """Everything about this run that a build step needs besides the recipe."""

    profile: Profile
    sysroot: Path | None
    python: str  # X.Y of sys.executable
    machine: str
    jobs: int
    cache: Path
    ccache: str | None  # path of ccache when present
    distcc: DistccSetup | None = None  # compile helpers (always with ccache)


def pip_cache(cache: Path) -> Path:
    return cache / "pip"


def clean_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without pip configuration and Python/compiler overrides."""
    env = {k: v for k, v in (base or os.environ).items()
           if not (k.startswith("PIP_") and k != "PIP_CERT") and k not in _DROPPED}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_INPUT="1", PYTHONNOUSERSITE="1")
    return env


def expand(value: str, jobs: int) -> str:
    return value.replace("{jobs}", str(jobs))


def build_environment(recipe: Recipe, ctx: BuildContext, tree: Path, venv: Path, epoch: int,
                      base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The full environment of one build.

    - ``SOURCE_DATE_EPOCH`` from the source, ``-ffile-prefix-map`` for the source tree and the
      venv: the wheel's bytes do not depend on when or where it was built;
    - PKG_CONFIG_PATH with the tool's own .pc dir (openblas.pc on openEuler), and before it the
      fallback flavour of each library wheel in the build venv (the openblas recipe's), which
      CMake also finds (``CMAKE_PREFIX_PATH``) and build-time programs load (``LD_LIBRARY_PATH``);
    - ccache in front of the compilers when installed (CMake's launcher for CMake projects),
      keyed on the mapped paths;
    - the recipe's own variables with ``{jobs}`` filled in."""
    env = pkgconfig.build_env(ctx.profile, ctx.sysroot, clean_env(base))
    prefix = f"/usr/src/{recipe.name}-{recipe.version}"
    maps = f"-ffile-prefix-map={tree}={prefix} -ffile-prefix-map={venv}=/usr/src/venv"
    for flag in ("CFLAGS", "CXXFLAGS", "FFLAGS"):
        env[flag] = maps
    for library in reversed(library_wheel.installed_prefixes(site_packages(venv))):
        for name, path in (("PKG_CONFIG_PATH", library / "lib" / "pkgconfig"), ("CMAKE_PREFIX_PATH", library),
                           ("LD_LIBRARY_PATH", library / "lib")):
            env[name] = os.pathsep.join(part for part in (str(path), env.get(name)) if part)
    env.update(
        SOURCE_DATE_EPOCH=str(epoch),
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        PYTHONHASHSEED="0",
        LC_ALL="C.UTF-8",
        TZ="UTC",
    )
    if ctx.ccache:
        cc, cxx = (ctx.distcc.cc, ctx.distcc.cxx) if ctx.distcc else ("gcc", "g++")
        # A CMake project runs its compiler by itself too (torch's ABI probe runs $CXX), so there
        # the compiler stays bare and ccache (and through it distcc) comes in as CMake's launcher.
        # torch's C++ extension builder (torchvision) drops the first word of CC's command and
        # would pass "gcc" to g++ as an input file: its compilers stay bare too.
        bare = "cmake" in recipe.system or "torch" in recipe.depends
        launcher = "" if bare else f"{ctx.ccache} "
        env.update(
            CC=f"{launcher}{cc}", CXX=f"{launcher}{cxx}",
            CMAKE_C_COMPILER_LAUNCHER=ctx.ccache, CMAKE_CXX_COMPILER_LAUNCHER=ctx.ccache,
            CCACHE_DIR=env.get("CCACHE_DIR") or str(ctx.cache / "ccache"),
            CCACHE_BASEDIR=str(tree.parent), CCACHE_NOHASHDIR="1",
        )
    if ctx.distcc:
        env.update(ctx.distcc.env())
        for flag in ("CFLAGS", "CXXFLAGS"):
            env[flag] = " ".join([env[flag], *ctx.distcc.flags])
    env.update({key: expand(value, ctx.jobs) for key, value in recipe.env.items()})
    return env


def config_settings(recipe: Recipe, jobs: int) -> list[str]:
    return [f"{key}={expand(value, jobs)}" for key, values in recipe.config_settings.items()
            for value in values]


def link_settings(recipe: Recipe, ctx: BuildContext) -> list[str]:
    """With helpers, ``-j`` counts their slots; links run here, so Meson's link pool keeps them
    to what this machine's RAM allows."""
    meson = any(req.replace("_", "-").startswith("meson-python") for req in recipe.build_requires)
    return [f"setup-args=-Dbackend_max_links={ctx.distcc.local_jobs}"] if ctx.distcc and meson else []


class LineWatcher(Protocol):
    """Reads a command's output as it comes (progress, a killed compiler), besides the log."""

    def line(self, text: str) -> None: ...

    def tick(self) -> None: ...


def run(args: list[str], log: TextIO, env: Mapping[str, str], cwd: Path | None = None,
        what: str = "", watcher: LineWatcher | None = None) -> None:
    """Run a command with all its output in the log; BuildFailed names ``what`` on failure."""
    log.write(f"\n$ {' '.join(args)}\n")
    log.flush()
    if watcher is None:
        code = subprocess.run(args, stdout=log, stderr=subprocess.STDOUT, env=dict(env), cwd=cwd).returncode
    else:
        code = _run_watched(args, log, env, cwd, watcher)
    if code != 0:
        raise BuildFailed(f"{what or args[0]} failed (exit {code})")


def _run_watched(args: list[str], log: TextIO, env: Mapping[str, str], cwd: Path | None,
                 watcher: LineWatcher) -> int:
    """Copy the output into the log through a pipe, showing each line to ``watcher`` and
    ticking it at least every ``_TICK`` seconds even while the command prints nothing."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(env),
                          cwd=cwd) as proc:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        while True:
            if select.select([fd], [], [], _TICK)[0]:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                text = decoder.decode(chunk)
                log.write(text)
                log.flush()  # `tail -f` on the log follows the build as it goes
                *lines, pending = (pending + text).split("\n")
                for line in lines:
                    watcher.line(line)
            elif proc.poll() is not None:
                break  # it exited; whatever still holds the pipe (a daemon it started) is not waited for
            watcher.tick()
        tail = decoder.decode(b"", final=True)  # an incomplete UTF-8 sequence at the very end
        log.write(tail)
        if pending + tail:
            watcher.line(pending + tail)
        log.flush()
        return proc.wait()


def create_venv(path: Path, log: TextIO) -> Path:
    """A fresh venv from the Python running the tool (the laptop's system Python). It gets no
    pip of its own: the tool's pip drives it (``pip --python``), which saves ~10 s per venv."""
    shutil.rmtree(path, ignore_errors=True)
    run([sys.executable, "-m", "venv", "--without-pip", str(path)], log, clean_env(),
        what="creating a venv")
    return venv_python(path)


def site_packages(venv: Path) -> Path:
    """The venv's site-packages (one Python per venv: lib/pythonX.Y/site-packages)."""
    found = sorted(venv.glob("lib/python*/site-packages"))
    return found[0] if found else venv / "lib" / "site-packages"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def pip(python: Path) -> list[str]:
    """The command that runs pip for the venv of ``python``."""
    return [sys.executable, "-m", "pip", "--python", str(python)]


def download(requirements: list[str], cache: Path, log: TextIO, python_version: str | None = None) -> None:
    """Put wheels for exactly ``requirements`` into the pip cache (for another Python X.Y
    with ``python_version``: a cross build's build Python).

    No dependency resolution: recipes pin every requirement, and the ones built here (numpy,
    Pillow...) come from the wheelhouse. Resolving would fetch, say, PyPI's newest numpy for
    pythran - a wheel that does not exist for riscv64 and would shadow the one just built."""
    if requirements:
        other = ["--python-version", python_version] if python_version else []
        run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", *other,
             "--index-url", sources.index_url(), "-d", str(pip_cache(cache)), *requirements], log,
            clean_env(), what="downloading build requirements")


def install(python: Path, requirements: list[str], cache: Path, log: TextIO) -> None:
    """Install pinned requirements from the cache, downloading into it first if needed."""
    if not requirements:
        return
    offline = [*pip(python), "install", "--no-index", "--no-deps", "--find-links",
               str(pip_cache(cache)), *requirements]
    try:
        run(offline, log, clean_env(), what="installing requirements from the cache")
    except BuildFailed:
        download(requirements, cache, log)
        run(offline, log, clean_env(), what="installing requirements")


def install_wheels(python: Path, wheels: list[Path], log: TextIO) -> None:
    """Install exactly these wheel files (no resolver, no index)."""
    if wheels:
        run([*pip(python), "install", "--no-index", "--no-deps",
             *(str(w) for w in wheels)], log, clean_env(), what="installing wheels")
