"""The package of a library wheel (``__init__.py`` of e.g. ``rvforge_openblas``): loads the flavour of the
library chosen for this machine, once, at interpreter start (the wheel's ``.pth`` calls ``load``).

numpy's and torch's extensions built against the wheel name the library by its soname (e.g.
``libopenblas_rvforge.so.0``) and carry no path to it; the dynamic linker satisfies such a name
with a library already loaded under that soname. So loading the chosen flavour with
``RTLD_GLOBAL`` first is what decides which kernels every later import runs, without environment
variables or rpaths that would differ per release; being first in the global scope, it also serves
the BLAS calls a distro's libraries make by symbol name.

Which flavour: ``<PACKAGE>_FLAVOUR`` in the environment (to compare, or to rule one out), else
the one ``selected.json`` names - written by ``python -m <package> --select NAME`` once the
flavour passed its self-test on this machine - else the fallback that runs on any CPU of the
machine. A vector flavour is never picked by guessing: an RVV 1.0 kernel on the C910's RVV
0.7.1 unit can compute garbage instead of failing. Loading never raises (it runs inside
``site``); a problem falls back and is kept in ``problem``.

Standard library only, and self-contained: this file is copied into the wheel as it is.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FLAVOURS_FILE = HERE / "flavours.json"
SELECTED_FILE = HERE / "selected.json"

loaded_flavour: str | None = None
loaded_files: list[str] = []
problem: str | None = None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def flavours() -> list[dict[str, str]]:
    """Each flavour in the wheel, fallback first: ``{"name": ..., "needs": ...}``."""
    return [f for f in _read_json(FLAVOURS_FILE).get("flavours", []) if isinstance(f, dict) and "name" in f]


def _env_name() -> str:
    return f"{HERE.name.upper()}_FLAVOUR"


def library_dir(flavour: str) -> Path:
    """Where a flavour's shared libraries are (``<package>/<flavour>/lib``)."""
    return HERE / flavour / "lib"


def _is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def libraries(flavour: str) -> list[Path]:
    """The flavour's shared libraries (``libopenblas_rvforge.so.0``; development links are linker scripts)."""
    directory = library_dir(flavour)
    found = directory.glob("*.so*") if directory.is_dir() else ()
    return sorted(p for p in found if p.is_file() and _is_elf(p))


def wanted() -> tuple[str | None, str, str | None]:
    """The flavour to load, what chose it, and a problem worth reporting (or None)."""
    names = [f["name"] for f in flavours()]
    fallback = names[0] if names else None
    forced = os.environ.get(_env_name(), "").strip()
    if forced in names:
        return forced, f"{_env_name()}={forced}", None
    complaint = f"{_env_name()}={forced} names no flavour of {HERE.name} ({', '.join(names)})" if forced else None
    selected = _read_json(SELECTED_FILE).get("flavour")
    if selected in names:
        return selected, "it passed its self-test on this machine", complaint
    return fallback, "the fallback: no other flavour passed a self-test on this machine", complaint


def _load(flavour: str) -> list[str]:
    files = libraries(flavour)
    if not files:
        raise OSError(f"no shared library in {library_dir(flavour)}")
    for path in files:
        ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
    return [str(p) for p in files]


def load() -> None:
    """Load the wanted flavour, or the fallback when it cannot be loaded; once; never raises."""
    global loaded_flavour, loaded_files, problem
    if loaded_flavour is not None:
        return
    flavour, _, problem = wanted()
    names = [f["name"] for f in flavours()]
    if flavour is None:
        problem = f"{FLAVOURS_FILE} lists no flavour"
        return
    for candidate in dict.fromkeys([flavour, names[0]]):
        try:
            loaded_files = _load(candidate)
        except OSError as exc:
            problem = f"flavour {candidate} cannot be loaded: {exc}"
            continue
        loaded_flavour = candidate
        return


def select(flavour: str, reason: str) -> None:
    """Make ``flavour`` the one loaded from now on (after it passed its self-test here)."""
    if flavour not in [f["name"] for f in flavours()]:
        raise ValueError(f"no flavour {flavour!r} in {HERE}")
    tmp = SELECTED_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps({"flavour": flavour, "reason": reason}) + "\n")
    os.replace(tmp, SELECTED_FILE)


def status() -> dict[str, Any]:
    flavour, why, _ = wanted()
    return {"package": HERE.name, "flavours": flavours(), "wanted": flavour, "why": why,
            "loaded": loaded_flavour, "files": loaded_files, "problem": problem}


def main(argv: list[str] | None = None) -> int:
    """``python -m <package>``: the status as JSON; ``--select NAME [REASON]`` chooses a flavour;
    ``--libraries NAME`` prints a flavour's library files (for a self-test to load by path)."""
    args = sys.argv[1:] if argv is None else argv
    try:
        if args[:1] == ["--select"] and len(args) in (2, 3):
            select(args[1], args[2] if len(args) == 3 else "chosen by hand")
        elif args[:1] == ["--libraries"] and len(args) == 2:
            print("\n".join(str(p) for p in libraries(args[1])))
            return 0
        elif args:
            print(f"usage: python -m {HERE.name} [--select FLAVOUR [REASON] | --libraries FLAVOUR]",
                  file=sys.stderr)
            return 2
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    load()
    print(json.dumps(status(), indent=2))
    return 0
