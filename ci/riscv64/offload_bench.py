"""Time one recipe's riscv64 wheel several ways through the tool, then test each wheel as riscv64 code.

    .venv/bin/python ci/riscv64/offload_bench.py [--recipe numpy] [--route cross|distcc|native]...

- ``cross``: ``invoke build-wheels --cross-target debian-riscv64`` on this machine;
- ``distcc``: ``invoke build-wheels --distcc`` inside the emulated userland, with compile jobs sent
  to ``invoke build-helper`` on 127.0.0.1 (this machine), from an empty ccache;
- ``native``: ``invoke build-wheels`` inside the emulated userland, local compiles only, from an
  empty ccache.

All are ``--force`` builds of the same recipe, each into a wheelhouse of its own in the userland
(``/var/lib/rvforge-offload/<route>``). Wall time, and CPU time twice: of this script's children
(the build, or the whole emulated session plus the helper) and of the whole machine
(``/proc/stat``, which also counts anything else running: run it on quiet cores). Then each wheel
goes into a fresh venv in the userland with pytest and runs the recipe's test subset
(``--tests``, pytest ``--pyargs`` names) as riscv64 code. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from rvforge import REPO_ROOT  # noqa: E402
from rvforge.emulation import host_helper, userland  # noqa: E402
from rvforge.tasks.riscv64_check import GUEST_VENV, HELPER_SLOTS, INSTALL_TOOL  # noqa: E402

GUEST_WORK = "/var/lib/rvforge-offload"
#: numpy's own subset the cross build was first proven with (long double layout and linalg).
DEFAULT_TESTS = {"numpy": ["numpy._core.tests.test_longdouble", "numpy.linalg.tests.test_linalg"]}
TEST_REQUIREMENTS = "pytest==8.4.2 hypothesis==6.155.7"


@dataclass
class Timed:
    route: str
    wall: float
    cpu_children: float
    cpu_machine: float
    wheel: str = ""
    tests: str = "not run"


def _machine_cpu() -> float:
    """Busy CPU seconds of the whole machine since boot (user, nice, system, irq, softirq)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(fields[i]) for i in (0, 1, 2, 5, 6))
    return busy / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(route: str, run) -> Timed:
    wall, children, machine = time.monotonic(), _children_cpu(), _machine_cpu()
    run()
    return Timed(route, time.monotonic() - wall, _children_cpu() - children, _machine_cpu() - machine)


def _build_argv(recipe: str, house: str) -> list[str]:
    return ["-m", "invoke", "build-wheels", "--only", recipe, "--force", "--wheelhouse", house]


def cross(root: Path, recipe: str) -> Timed:
    house = root / GUEST_WORK.lstrip("/") / "cross"
    argv = [sys.executable, *_build_argv(recipe, str(house)), "--cross-target", host_helper.PROFILE]
    return _timed("cross", lambda: subprocess.run(argv, cwd=REPO_ROOT, check=True))


def _guest_build(root: Path, recipe: str, route: str, *extra: str) -> Timed:
    """The build inside the userland from an empty ccache of its own."""
    ccache = f"{GUEST_WORK}/ccache-{route}"
    build = " ".join(shlex.quote(a) for a in [*_build_argv(recipe, f"{GUEST_WORK}/{route}"), *extra])
    install = "command -v distcc >/dev/null || apt-get install -y -q --no-install-recommends distcc\n"
    script = (f"set -e; {install if '--distcc' in extra else ''}"
              f"rm -rf {ccache}; CCACHE_DIR={ccache} {GUEST_VENV}/bin/python {build}")
    return _timed(route, lambda: userland.run_in_guest(root, ["/bin/sh", "-c", script]))


def distcc(root: Path, recipe: str, slots: int) -> Timed:
    with host_helper.running(slots) as helper:
        timed = _guest_build(root, recipe, "distcc", "--distcc", helper.address)
        helper.require_jobs()
    return timed


def test_wheel(root: Path, timed: Timed, recipe: str, tests: list[str]) -> None:
    """The route's wheel in a fresh venv (no system site packages) with pytest, as riscv64 code."""
    house = root / GUEST_WORK.lstrip("/") / timed.route
    wheels = sorted(house.glob(f"{recipe}-*linux_riscv64.whl"))
    if not wheels:
        raise SystemExit(f"error: no linux_riscv64 {recipe} wheel in {house}")
    timed.wheel = wheels[-1].name
    venv = f"{GUEST_WORK}/test-{timed.route}"
    script = (f"set -e; rm -rf {venv}; python3 -m venv {venv}\n"
              f"{venv}/bin/python -m pip install -q {TEST_REQUIREMENTS} {GUEST_WORK}/{timed.route}/{timed.wheel}\n"
              f"cd /tmp && {venv}/bin/python -m pytest -q -p no:cacheprovider --pyargs {' '.join(tests)} "
              f"| tee {venv}/pytest.log")
    userland.run_in_guest(root, ["/bin/sh", "-c", script])
    log = (root / venv.lstrip("/") / "pytest.log").read_text().strip().splitlines()
    timed.tests = log[-1].strip("= ") if log else "no output"


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}m{seconds % 60:04.1f}s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="numpy")
    parser.add_argument("--route", action="append", choices=("cross", "distcc", "native"),
                        help="default: cross, then distcc (native: local compiles in the userland, an hour for numpy)")
    parser.add_argument("--slots", type=int, default=HELPER_SLOTS, help="the helper's job slots")
    parser.add_argument("--tests", nargs="*", help="pytest --pyargs names (default: the recipe's subset)")
    args = parser.parse_args(argv)
    tests = args.tests if args.tests is not None else DEFAULT_TESTS.get(args.recipe, [args.recipe])
    root = userland.ensure_rootfs(None)
    userland.copy_checkout(root)
    userland.run_in_guest(root, ["/bin/sh", "-c", INSTALL_TOOL])
    results = []
    for route in args.route or ["cross", "distcc"]:
        if route == "cross":
            timed = cross(root, args.recipe)
        elif route == "distcc":
            timed = distcc(root, args.recipe, args.slots)
        else:
            timed = _guest_build(root, args.recipe, "native")
        print(f"{route}: {_minutes(timed.wall)} wall", flush=True)
        results.append(timed)
    for timed in results:
        test_wheel(root, timed, args.recipe, tests)
    print("\n| route | wall | CPU s (children) | CPU s (machine) | wheel | tests as riscv64 code |")
    print("|---|---|---|---|---|---|")
    for t in results:
        print(f"| {t.route} | {_minutes(t.wall)} | {t.cpu_children:.0f} | {t.cpu_machine:.0f} | {t.wheel} "
              f"| {t.tests} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
