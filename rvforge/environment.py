"""Every environment variable the tool, the app and the CI scripts read, in one table.

Python code reads them through ``get`` (an unlisted name is a programming error), and
``invoke regenerate`` writes the table into README.md, so the documentation cannot drift.
Standard library only: on-target code may read them too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    name: str
    read_by: str
    meaning: str


VARIABLES = (
    Variable("RVFORGE_HOME", "tool, CI scripts",
             "the tool's own cache (sources, build venvs, logs, the riscv64 userland); default "
             "`$XDG_CACHE_HOME/rvforge`, i.e. `~/.cache/rvforge`"),
    Variable("MAGICERASER_HOME", "tool, app",
             "per-user data that survives every deploy (models, settings); default "
             "`$XDG_DATA_HOME/magiceraser`, i.e. `~/.local/share/magiceraser`"),
    Variable("MAGICERASER_MODEL", "app", "the LaMa model to load when `--model` is not given"),
    Variable("RVFORGE_RECIPES", "build-wheels", "recipe directory instead of `recipes/` (`--recipes` wins)"),
    Variable("RVFORGE_INDEX_URL", "build-wheels",
             "package index (simple API) for sources and build requirements; default `PIP_INDEX_URL`, "
             "then pip's configured `index-url`, then pip's own default"),
    Variable("RVFORGE_DEBIAN_MIRROR", "build-wheels",
             "Debian archive base URL for recipes' Debian source tarballs; default: this host's "
             "apt mirror, else debootstrap's default"),
    Variable("RVFORGE_CCACHE", "build-wheels", "`0` builds without ccache even when it is installed"),
    Variable("RVFORGE_MACHINE", "doctor, build-wheels",
             "the machine to plan for instead of `uname -m` (e.g. `riscv64` with `--sysroot` on x86_64)"),
    Variable("RVFORGE_RISCV64_SUITE", "ci/riscv64", "Debian suite of the emulated userland; default `forky`"),
    Variable("RVFORGE_RISCV64_MIRROR", "ci/riscv64, build-wheels --cross-target",
             "Debian mirror for the userland and the cross root; default: this host's apt mirror, "
             "else debootstrap's default"),
    Variable("RVFORGE_RISCV64_PACKAGES", "ci/riscv64",
             "package list of the userland; default `ci/riscv64/packages.txt`"),
    Variable("RVFORGE_RISCV64_SKIP_BUILD", "tests",
             "`1`: the opt-in riscv64 pytest reuses the cross-built Pillow wheel an earlier run put there"),
    Variable("RVFORGE_SKIP_RISCV64", "ci/test.sh", "`1` skips the emulated riscv64 check"),
    Variable("RVFORGE_OPENBLAS_FLAVOUR", "the openblas wheel's loader, ci/riscv64/blas_flavours.py",
             "load this flavour of the `openblas` recipe's wheel (e.g. `generic`) instead of the one "
             "selected by self-test, for one process"),
)
NAMES = frozenset(v.name for v in VARIABLES)


def get(name: str) -> str | None:
    """The variable's value, or None when unset or empty."""
    if name not in NAMES:
        raise KeyError(f"{name} is not in rvforge.environment.VARIABLES: add it there (and to the README)")
    return os.environ.get(name) or None


def markdown_table() -> str:
    rows = "\n".join(f"| `{v.name}` | {v.read_by} | {v.meaning} |" for v in VARIABLES)
    return f"| variable | read by | what it sets |\n|---|---|---|\n{rows}\n"
