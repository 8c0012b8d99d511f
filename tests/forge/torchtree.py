"""A configured torch 2.6.0 source tree made with the tool's own steps, for the tests that
compile real torch and torchvision translation units without building the whole wheel.

The recipe's ``debian`` alternative (the archive set) is fetched, verified, unpacked and
patched exactly as ``invoke build-wheels`` does; CMake is configured by torch's own
``setup.py build --cmake-only`` in the build environment the tool builds with."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO

from rvforge.build import buildenv, patches, sources
from rvforge.build.recipes import Recipe, load_recipe_file
from rvforge.host.facts import detect
from rvforge.host.profiles import select

#: numpy and PyYAML come from the wheelhouse in a real build; the index's wheels do here.
CONFIGURE_REQUIRES = ["numpy==2.2.6", "pyyaml==6.0.2"]


@dataclasses.dataclass(frozen=True)
class TorchTree:
    tree: Path
    build: Path
    venv: Path
    env: dict[str, str]
    timings: dict[str, float]
    cache: Path

    def compile_commands(self) -> list[dict[str, str]]:
        data: list[dict[str, str]] = json.loads((self.build / "compile_commands.json").read_text())
        return data

    def command_for(self, suffix: str) -> dict[str, str]:
        return next(c for c in self.compile_commands() if c["file"].endswith(suffix))


def recipe_with(name: str, alternative: str) -> Recipe:
    recipe = load_recipe_file(REPO / "recipes" / f"{name}.yaml", f"{sys.version_info[0]}.{sys.version_info[1]}")
    source = next(s for s in recipe.alternatives if s.name == alternative)
    return dataclasses.replace(recipe, source=source)


def context(cache: Path, jobs: int = 2) -> buildenv.BuildContext:
    host = detect(None)
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return buildenv.BuildContext(profile=select(host), sysroot=None, python=python, machine=host.machine,
                                 jobs=jobs, cache=cache, ccache=None)


def unpacked(recipe: Recipe, ctx: buildenv.BuildContext, dest: Path, log_path: Path) -> tuple[Path, int]:
    """The recipe's archive set fetched into the cache, unpacked and patched under ``dest``."""
    fetched = sources.fetch(recipe, ctx.cache)
    tree = sources.unpack(recipe, fetched, dest)
    with log_path.open("a") as log:
        patches.apply(recipe, patches.applicable(recipe, machine=ctx.machine, profile=ctx.profile.name,
                                                 python=ctx.python), tree, log)
    return tree, sources.source_date_epoch(recipe, fetched)


def configure(cache: Path, work: Path) -> TorchTree:
    timings: dict[str, float] = {}
    ctx = context(cache)
    recipe = recipe_with("torch", "debian")
    log_path = work / "torch.log"
    start = time.monotonic()
    tree, epoch = unpacked(recipe, ctx, work / "src", log_path)
    timings["fetch+unpack+patch"] = time.monotonic() - start
    start = time.monotonic()
    with log_path.open("a") as log:
        python = buildenv.create_venv(work / "venv", log)
        buildenv.install(python, [*recipe.build_requires, *CONFIGURE_REQUIRES], cache, log)
    timings["venv"] = time.monotonic() - start
    env = buildenv.build_environment(recipe, ctx, tree, work / "venv", epoch)
    start = time.monotonic()
    with log_path.open("a") as log:
        buildenv.run([str(python), "setup.py", "build", "--cmake-only"], log, env, cwd=tree,
                     what="torch's CMake configure")
    timings["configure"] = time.monotonic() - start
    return TorchTree(tree, tree / "build", work / "venv", env, timings, cache)


def ninja(torch: TorchTree, *targets: str) -> float:
    start = time.monotonic()
    subprocess.run(["ninja", "-C", str(torch.build), "-j2", *targets], env=torch.env, check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return time.monotonic() - start


def object_target(torch: TorchTree, suffix: str) -> str:
    """The ninja target (build-dir relative path) of the object compiled from ``suffix``."""
    args = shlex.split(torch.command_for(suffix)["command"])
    return args[args.index("-o") + 1]


#: Flags of an x86_64 compile line that a riscv64 compiler rejects.
_X86_ONLY = re.compile(r"-m(avx|sse|fma|f16c|bmi|lzcnt|popcnt|pclmul|arch=|tune=)")
RV64GC = ["-march=rv64gc", "-mabi=lp64d"]


def cross_args(torch: TorchTree, suffix: str, compiler: str, output: Path) -> list[str]:
    """The recorded compile line of ``suffix`` for ``compiler`` (rv64gc), writing ``output``."""
    args = shlex.split(torch.command_for(suffix)["command"])
    args[args.index("-o") + 1] = str(output)
    kept = [arg for arg in args[1:] if not _X86_ONLY.match(arg)]
    return [compiler, *kept, *RV64GC]


def header_flags(torch: TorchTree) -> list[str]:
    """What an extension needs to compile against this tree, as an installed torch's
    ``include/`` and ``include/torch/csrc/api/include`` would provide."""
    dirs = [torch.tree, torch.tree / "aten" / "src", torch.build / "aten" / "src", torch.build,
            torch.tree / "torch" / "csrc" / "api" / "include"]
    return ["-std=c++17", "-O2", "-fPIC", "-D_GLIBCXX_USE_CXX11_ABI=1", *(f"-I{d}" for d in dirs)]


def elf_machine(path: Path) -> int:
    """ELF ``e_machine``: 62 for x86-64, 243 for RISC-V."""
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF file"
    return int.from_bytes(header[18:20], "little")
