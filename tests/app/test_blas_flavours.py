"""Choosing the openblas wheel's flavour: flavours the CPU cannot run are skipped, one that computes
wrong or dies by SIGILL is refused, the best that passes its self-test is selected and the wheel's
loader loads it from then on; with nothing passing, the fallback stays. Real libraries: wrappers
built here around the distro's OpenBLAS, some wrong on purpose."""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from pathlib import Path

import pytest
from fake_openblas import wrapped_openblas

from magiceraser.blas import cpu, flavours, library

REPO = Path(__file__).resolve().parents[2]
LOADER = REPO / "rvforge" / "ontarget" / "library_loader.py"
AVX2 = cpu.VectorUnit(cpu.X86, "AVX2", "test")
RVV = cpu.VectorUnit(cpu.RVV1, "RVV 1.0", "test")


def _package(root: Path, libraries: dict[str, tuple[str, Path]]) -> Path:
    """An installed ``rvforge_openblas`` as the wheel lays it out: flavour -> (needs, library file)."""
    package = root / flavours.PACKAGE
    package.mkdir(parents=True)
    shutil.copyfile(LOADER, package / "__init__.py")
    listed = [{"name": name, "needs": needs} for name, (needs, _) in libraries.items()]
    (package / "flavours.json").write_text(json.dumps({"flavours": listed}))
    for name, (_, lib) in libraries.items():
        (package / name / "lib").mkdir(parents=True)
        shutil.copyfile(lib, package / name / "lib" / "libopenblas.so.0")
    return package


@pytest.fixture
def installed(tmp_path, monkeypatch):
    name = library.system_default()
    if name is None:
        pytest.skip("no OpenBLAS on the dynamic linker's path")
    real = library.open_library(name).path
    built = {}
    for kind, flags in (("good", ()), ("wrong", ("-DCORRUPT_SGEMM",)), ("trap", ("-DTRAP_SGEMM",))):
        directory = tmp_path / kind
        directory.mkdir()
        built[kind] = wrapped_openblas(directory, real, *flags)

    def make(layout: dict[str, tuple[str, str]]):
        site = tmp_path / "site"
        _package(site, {flavour: (needs, built[kind]) for flavour, (needs, kind) in layout.items()})
        monkeypatch.syspath_prepend(str(site))
        sys.modules.pop(flavours.PACKAGE, None)
        module = importlib.import_module(flavours.PACKAGE)
        return module

    yield make
    sys.modules.pop(flavours.PACKAGE, None)


def test_best_passing_flavour_is_selected_and_loaded(installed, monkeypatch):
    monkeypatch.setattr(flavours, "runs_on", lambda needs, unit: needs in ("", "avx2"))
    package = installed({"generic": ("", "good"), "fast": ("avx2", "good"), "wrong": ("avx2", "wrong"),
                         "trap": ("avx2", "trap"), "rvv": ("rvv1.0", "good")})
    choice = flavours.choose(package, AVX2, timeout=60)
    assert choice.flavour == "fast" and not choice.fallback
    why = {trial.flavour: trial.why for trial in choice.trials}
    assert list(why) == ["rvv", "trap", "wrong", "fast"]  # most specific first
    assert why["rvv"] == "this CPU has no rvv1.0 (AVX2)"
    assert why["trap"].startswith("killed by SIGILL in sgemm_")
    assert why["wrong"].startswith("sgemm_ transa=") and "bound" in why["wrong"]
    package.load()
    assert package.loaded_flavour == "fast" and package.status()["why"] == "it passed its self-test on this machine"


def test_nothing_passing_keeps_the_fallback(installed):
    package = installed({"generic": ("", "good"), "wrong": ("rvv1.0", "wrong"), "trap": ("rvv1.0", "trap")})
    choice = flavours.choose(package, RVV, timeout=60)
    assert choice.fallback and choice.flavour == "generic"
    assert choice.text.startswith("OpenBLAS flavour generic (the scalar fallback): trap: killed by SIGILL")
    assert json.loads((Path(package.__file__).parent / "selected.json").read_text())["flavour"] == "generic"


def test_needs_are_read_from_the_cpu():
    assert flavours.runs_on("", cpu.VectorUnit(cpu.NONE, "none", "t"))
    assert flavours.runs_on("rvv1.0", RVV) and not flavours.runs_on("xtheadvector", RVV)
    assert not flavours.runs_on("rvv1.0", cpu.VectorUnit(cpu.XTHEADVECTOR, "XTheadVector", "t"))
    assert not flavours.runs_on("avx2", RVV)
