"""Choose the OpenBLAS flavour this machine runs, from the flavours the openblas wheel carries.

The openblas recipe builds one OpenBLAS per kind of CPU (the scalar fallback, RVV 1.0, the
C910's XTheadVector...) into one wheel, whose loader loads the flavour recorded as selected.
Selecting is this module's job, done once where the eraser is installed: the flavours the CPU
can run are tried from the most specific down, each self-tested in a child process that loads
it exactly as the eraser will (the loader, told the flavour by its variable). The first that
passes is selected; a CPU without the extension, a wrong result, a crash or a hang leaves the
next one, and in the end the fallback: never wrong, only slower.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType

from . import cpu, selftest

#: The import name of the openblas recipe's wheel (``library.package`` in recipes/openblas.yaml).
PACKAGE = "rvforge_openblas"


def _x86_flag(flag: str) -> bool:
    try:
        return flag in cpu.first_block(cpu.CPUINFO.read_text(errors="replace")).get("flags", "").split()
    except OSError:
        return False


def runs_on(needs: str, unit: cpu.VectorUnit) -> bool:
    """Whether a CPU with ``unit`` has the extension a flavour ``needs`` (as the recipe names it)."""
    if not needs:
        return True
    if needs in (cpu.RVV1, cpu.XTHEADVECTOR):
        return unit.kind == needs
    return unit.kind == cpu.X86 and _x86_flag(needs)


@dataclass(frozen=True)
class Trial:
    flavour: str
    passed: bool
    why: str


@dataclass
class Choice:
    """The flavour selected, and what happened to each one tried before it."""

    flavour: str
    fallback: bool
    trials: list[Trial] = field(default_factory=list)

    @property
    def text(self) -> str:
        tried = "; ".join(f"{t.flavour}: {t.why}" for t in self.trials)
        if self.fallback:
            return f"OpenBLAS flavour {self.flavour} (the scalar fallback)" + (f": {tried}" if tried else "")
        return f"OpenBLAS flavour {self.flavour}: {tried}"


def installed() -> ModuleType | None:
    """The openblas wheel's package when it is installed (importing it loads its current flavour)."""
    try:
        return importlib.import_module(PACKAGE)
    except ImportError:
        return None


def choose(package: ModuleType, unit: cpu.VectorUnit, timeout: float = selftest.TIMEOUT) -> Choice:
    """Self-test the flavours this CPU can run, most specific first; select the first that passes,
    else the fallback. The selection is written into the package (the loader reads it)."""
    flavours = package.flavours()
    fallback = flavours[0]["name"]
    trials = []
    for flavour in reversed(flavours[1:]):
        name, needs = flavour["name"], flavour.get("needs", "")
        if not runs_on(needs, unit):
            trials.append(Trial(name, False, f"this CPU has no {needs} ({unit.name})"))
            continue
        libraries = [p for p in package.libraries(name) if "openblas" in p.name]
        if not libraries:
            trials.append(Trial(name, False, f"no libopenblas in {package.library_dir(name)}"))
            continue
        result = selftest.run(libraries[0], timeout, extra_env={f"{PACKAGE.upper()}_FLAVOUR": name})
        trials.append(Trial(name, result.passed, result.reason))
        if result.passed:
            package.select(name, f"self-test passed: {result.reason}")
            return Choice(name, False, trials)
    choice = Choice(fallback, True, trials)
    package.select(fallback, choice.text)
    return choice
