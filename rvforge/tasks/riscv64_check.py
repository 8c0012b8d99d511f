"""``invoke riscv64-check``: prove the tool and the eraser run as riscv64 code, without riscv64
hardware, in an emulated Debian riscv64 userland (qemu user mode through proot).

Host steps make the userland ready (created and cached when missing), copy the checkout in,
install the tool into a guest venv that sees Debian's torch and numpy, and cross-build Pillow
for riscv64 here straight into the userland's wheelhouse; the guest steps
(rvforge.emulation.guest) then run doctor, test that cross-built wheel, build Pillow again
through a compile helper started here (distcc), deploy with the cross-built wheel, erase
(checked against the golden result) and benchmark.
"""

from __future__ import annotations

import json
import subprocess
from contextlib import ExitStack
from pathlib import Path

from rvforge.cross import wheels as cross_wheels
from rvforge.emulation import guest_pillow, host_helper, userland
from rvforge.emulation.steps import Outcome, StepRun
from rvforge.errors import CheckFailed, EmulationError, GuestLingered
from rvforge.log import info

GUEST_VENV = "/opt/rvforge/venv"
GUEST_SUMMARY = "/var/lib/rvforge-check/summary.json"
#: Re-installs the tool only when its pyproject changed (pip under emulation takes minutes).
#: setuptools: deploy builds the app wheel without build isolation.
INSTALL_TOOL = f"""set -e
test -x {GUEST_VENV}/bin/python || python3 -m venv --system-site-packages {GUEST_VENV}
if ! cmp -s {userland.GUEST_SRC}/pyproject.toml {GUEST_VENV}/installed-pyproject.toml; then
    {GUEST_VENV}/bin/python -m pip install -q setuptools -e {userland.GUEST_SRC}
    cp {userland.GUEST_SRC}/pyproject.toml {GUEST_VENV}/installed-pyproject.toml
fi
{GUEST_VENV}/bin/python -c 'import platform, rvforge
print("    rvforge", rvforge.__version__, "on", platform.machine())'
"""
#: Doctor, Pillow through distcc, deploy and an erase: 5-10 min here, 30 on a busy host.
GUEST_TIMEOUT = 40 * 60
#: Pillow compiled inside the userland: 8-10 min here.
NATIVE_BUILD_TIMEOUT = 30 * 60
#: The emulated benchmark: 4-10 min here.
BENCH_TIMEOUT = 30 * 60

STEP_USERLAND = "riscv64 userland ready"
STEP_COPY = f"checkout copied to the userland's {userland.GUEST_SRC}"
STEP_TOOL = "tool installed in a guest venv (system site packages)"
STEP_CROSS = (f"invoke build-wheels --cross-target {host_helper.PROFILE} --sysroot USERLAND --only pillow "
              "(on this machine)")
STEP_HELPER = f"invoke build-helper --profile {host_helper.PROFILE} on 127.0.0.1 (this machine)"
STEP_HELPER_JOBS = "the helper's log shows the guest's compile jobs"
STEP_SESSION_END = "the guest session ended with its checks (no process left behind)"
#: The helper's slots: this machine's cores also run the emulation.
HELPER_SLOTS = 2


def _cross_build(root: Path) -> None:
    """The Pillow wheel the guest deploys, cross-built here into the userland's wheelhouse against
    the userland itself as ``--sysroot`` (its libjpeg, zlib and Python). Forced: a wheel an earlier
    run built natively in the userland has the same inputs, so it would count as built, and the
    check would deploy it instead."""
    house = root / guest_pillow.WHEELHOUSE.relative_to("/")
    code = cross_wheels.main(host_helper.PROFILE, only=["pillow"], wheelhouse=str(house), force=True,
                             sysroot=str(root))
    if code:
        raise CheckFailed(f"invoke build-wheels --cross-target {host_helper.PROFILE} ended with exit code {code}")


def _guest_outcomes(root: Path, native_build: bool, skip_bench: bool, distcc: str | None) -> list[Outcome]:
    summary = root / GUEST_SUMMARY.lstrip("/")
    summary.unlink(missing_ok=True)
    argv = [f"{GUEST_VENV}/bin/python", "-m", "rvforge.emulation.guest", "--summary", GUEST_SUMMARY]
    argv += ["--native-build"] if native_build else []
    argv += ["--skip-bench"] if skip_bench else []
    argv += ["--distcc", distcc] if distcc else []
    timeout = guest_timeout(native_build, skip_bench)
    ended = Outcome(STEP_SESSION_END, True, 0.0)
    try:
        userland.run_in_guest(root, argv, timeout=timeout, done_file=summary)
    except GuestLingered as err:
        ended = Outcome(STEP_SESSION_END, False, userland.LINGER, str(err))
    except (EmulationError, OSError) as err:  # a failed step: the summary says which
        info(f"    {err}")
    except subprocess.TimeoutExpired:
        ended = Outcome(STEP_SESSION_END, False, timeout, f"the guest checks did not finish within {timeout:.0f} s")
    if not summary.is_file():
        return [Outcome("guest checks (rvforge.emulation.guest)", False, 0.0, "ended without a summary"), ended]
    return [*(Outcome(**item) for item in json.loads(summary.read_text())), ended]


def guest_timeout(native_build: bool, skip_bench: bool) -> float:
    """The guest steps take 5-10 min warm; these bounds only stop a stuck run from eating CI's time."""
    return GUEST_TIMEOUT + (NATIVE_BUILD_TIMEOUT if native_build else 0) + (0 if skip_bench else BENCH_TIMEOUT)


def main(rootfs: str | None = None, skip_build: bool = False, skip_bench: bool = False,
         skip_distcc: bool = False, native_build: bool = False) -> None:
    checks = StepRun()
    state: dict[str, Path] = {}
    wanted = Path(rootfs).expanduser().resolve() if rootfs else None
    checks.run(STEP_USERLAND, lambda: state.update(root=userland.ensure_rootfs(wanted)))
    checks.run(STEP_COPY, lambda: userland.copy_checkout(state["root"]), needs=[STEP_USERLAND])
    checks.run(STEP_TOOL, lambda: userland.run_in_guest(state["root"], ["/bin/sh", "-c", INSTALL_TOOL]),
               needs=[STEP_COPY])
    if not skip_build:
        checks.run(STEP_CROSS, lambda: _cross_build(state["root"]), needs=[STEP_USERLAND])
    if checks.passed(STEP_TOOL):
        with ExitStack() as stack:
            helper: list[host_helper.RunningHelper] = []
            if not skip_distcc:
                checks.run(STEP_HELPER, lambda: helper.append(stack.enter_context(host_helper.running(HELPER_SLOTS))))
            checks.add(_guest_outcomes(state["root"], native_build, skip_bench,
                                       helper[0].address if helper else None))
            if helper:
                checks.run(STEP_HELPER_JOBS, helper[0].require_jobs, needs=[guest_pillow.STEP_DISTCC])
    info(checks.table())
    if checks.failed:
        raise CheckFailed(f"riscv64 check: {checks.summary()}")
    info(checks.summary())
