"""The riscv64 check's steps that run inside the emulated userland, as riscv64 code.

    python -m rvforge.emulation.guest [--native-build] [--skip-bench] [--distcc HELPER] --summary FILE

The Pillow wheel the release runs was cross-built by the host into the userland's wheelhouse
(``guest_pillow``). Each step calls the real command a user runs (``invoke doctor``, ``invoke build-wheels``,
``invoke deploy``, ``POST /predict``, ``magiceraser bench``). Deploy, erase and bench share
this one process because the deployed service must be stopped before the guest session can
end. Outcomes are written to ``--summary`` as JSON for the host side to report.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import Any

import tomllib
import yaml

from rvforge import REPO_ROOT
from rvforge.build import recipes
from rvforge.common import free_port
from rvforge.emulation import guest_pillow
from rvforge.emulation.steps import StepRun
from rvforge.errors import CheckFailed, ConfigError, DeployError
from rvforge.host import facts, profiles
from rvforge.log import info
from rvforge.ontarget.release import Layout
from rvforge.ontarget.wheeltags import project_name

WORK = guest_pillow.WORK
WHEELHOUSE = guest_pillow.WHEELHOUSE
PREFIX = Path("/opt/magiceraser-check")
REFERENCE = REPO_ROOT / "tests" / "data" / "lama"
GOLDEN_COMPARE = REPO_ROOT / "ci" / "riscv64" / "golden_compare.py"
EXPECTED_PROFILE = "debian-riscv64"
APP_PYPROJECT = REPO_ROOT / "app" / "pyproject.toml"
#: App dependencies provided otherwise: Debian's torch and numpy, the cross-built Pillow wheel.
PROVIDED = {"torch", "numpy", "pillow"}
#: Emulated riscv64 is 20-50x slower than native: torch alone takes ~20 s to import.
HEALTH_TIMEOUT = 900
#: The reference erase takes 3-4 s here once the service is up: 5 minutes means it is stuck.
REQUEST_TIMEOUT = 300
STACK_LINES = 80

STEP_PROFILE = f"profile detected as {EXPECTED_PROFILE}"
STEP_DOCTOR = "invoke doctor"
STEP_APP_WHEELS = "invoke build-wheels for the service's runtime dependencies"
STEP_DEPLOY = "invoke deploy --target local (torch: system)"
STEP_ERASE = "POST /predict matches the golden result"
BENCH_ARGS = ("--sizes", "64x64", "--repeats", "1", "--mkldnn", "off")
STEP_BENCH = f"magiceraser bench {' '.join(BENCH_ARGS)}"


def _invoke(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "invoke", *args], cwd=REPO_ROOT, check=True)


def check_profile() -> None:
    name = profiles.select(facts.detect()).name
    info(f"    detected profile: {name}")
    if name != EXPECTED_PROFILE:
        raise CheckFailed(f"profile detection chose {name}, expected {EXPECTED_PROFILE}")


def _doctor_report() -> tuple[int, list[dict[str, Any]]]:
    proc = subprocess.run([sys.executable, "-m", "invoke", "doctor", "--json"], cwd=REPO_ROOT,
                          capture_output=True, text=True)
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise CheckFailed(f"invoke doctor --json printed no JSON:\n{proc.stdout}{proc.stderr}") from None
    checks = data.get("checks", []) if isinstance(data, dict) else data
    return proc.returncode, checks


def _package_fixes(checks: list[dict[str, Any]]) -> list[str]:
    """The distro install commands doctor names for failing checks, run as root (no sudo here)."""
    commands = []
    for check in checks:
        command = check.get("fix_command") or ""
        if check.get("status") == "fail" and "apt-get install" in command:
            commands.append(command.replace("sudo ", ""))
    return commands


def check_doctor() -> None:
    """Doctor must pass once the system packages it names are installed."""
    code, checks = _doctor_report()
    if code != 0:
        for command in _package_fixes(checks):
            info(f"    doctor asks for: {command}")
            subprocess.run(command, shell=True, check=True)
    _invoke("doctor")


def _pillow_wheels() -> list[Path]:
    return guest_pillow.pillow_wheels(WHEELHOUSE)


def service_runtime() -> list[str]:
    """The app's declared dependencies that the wheelhouse must supply (recipe names)."""
    declared = tomllib.loads(APP_PYPROJECT.read_text())["project"]["dependencies"]
    names = {project_name(spec) for spec in declared}
    return sorted(names - PROVIDED)


def runtime_recipes(available: dict[str, recipes.Recipe]) -> list[str]:
    """The service's runtime dependencies and everything their recipes depend on."""
    wanted: set[str] = set()
    todo = service_runtime()
    while todo:
        name = todo.pop()
        if name not in available:
            raise ConfigError(f"the app needs {name}, but there is no recipe for it",
                              hint=f"add recipes/{name}.yaml")
        if name not in wanted:
            wanted.add(name)
            todo.extend(available[name].depends)
    return sorted(wanted)


def check_app_wheels() -> None:
    names = runtime_recipes(recipes.load_all(python=f"{sys.version_info.major}.{sys.version_info.minor}"))
    _invoke("build-wheels", *[arg for name in names for arg in ("--only", name)], "--wheelhouse", str(WHEELHOUSE))


def write_target(port: int) -> Path:
    """A local target: fresh prefix, Debian's torch, the tiny reference model, a spare port."""
    target = {
        "name": "local",
        "description": "riscv64 check: local deploy inside the emulated userland",
        "prefix": str(PREFIX),
        "torch": "system",
        "manager": "pidfile",
        "health_timeout": HEALTH_TIMEOUT,
        "service": {"host": "127.0.0.1", "port": port, "model": str(REFERENCE / "tiny-lama"),
                    "data_dir": str(WORK / "data")},
    }
    path = WORK / "target-local.yaml"
    path.write_text(yaml.safe_dump(target, sort_keys=False))
    return path


def check_deploy(port: int) -> None:
    if not _pillow_wheels():
        raise DeployError(f"no linux_riscv64 Pillow wheel in {WHEELHOUSE}",
                          hint="run the check without --skip-build once (the host cross-builds it)")
    shutil.rmtree(PREFIX, ignore_errors=True)
    _invoke("deploy", "--target", str(write_target(port)), "--wheelhouse", str(WHEELHOUSE))
    _check_deployed_pillow()


def _check_deployed_pillow() -> None:
    """The release must run the Pillow wheel from the wheelhouse, not some other copy."""
    probe = "import PIL, sys; print(PIL.__version__, PIL.__file__)"
    out = subprocess.run([str(_release_python()), "-c", probe], capture_output=True, text=True, check=True).stdout
    version, _, location = out.strip().partition(" ")
    info(f"    deployed Pillow {version} from {location}")
    if not Path(location).resolve().is_relative_to(PREFIX.resolve()):
        raise DeployError(f"the deployed release imports Pillow from {location}, not from its own venv")
    if not any(w.name.startswith(f"pillow-{version}-") for w in _pillow_wheels()):
        raise DeployError(f"the deployed Pillow {version} is not the linux_riscv64 wheel in {WHEELHOUSE}")


def _data_url(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def check_erase(port: int) -> None:
    body = json.dumps({"image": _data_url(REFERENCE / "image.png"),
                       "mask": _data_url(REFERENCE / "mask.png")}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/predict", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            answer = json.loads(response.read())
            info(f"    inference {response.headers.get('X-Inference-Seconds')} s "
                 f"({response.headers.get('X-Engine')})")
    except TimeoutError:
        _show_service_stacks()
        raise CheckFailed(f"no answer from the deployed service within {REQUEST_TIMEOUT} s "
                          "(its threads' stacks are above)") from None
    result = WORK / "predict-result.png"
    result.write_bytes(base64.b64decode(answer["result_image"].partition(",")[2]))
    subprocess.run([str(_release_python()), str(GOLDEN_COMPARE), str(result), str(REFERENCE)], check=True)


def _show_service_stacks() -> None:
    """Ask the stuck service for its threads' stacks (``magiceraser serve`` dumps them on SIGUSR1
    into its log) and print the end of that log."""
    layout = Layout(PREFIX)
    try:
        os.kill(int(layout.pid_file.read_text().strip()), signal.SIGUSR1)
        time.sleep(2)
        tail = layout.log_file.read_text(errors="replace").splitlines()[-STACK_LINES:]
    except (OSError, ValueError) as exc:
        info(f"    no stacks from the service: {exc}")
        return
    info("\n".join(f"    | {line}" for line in tail))


def _release_python() -> Path:
    return PREFIX / "current" / "venv" / "bin" / "python"


def check_bench() -> None:
    """The benchmark runs the full-size big-lama architecture: at ~0.1 GFLOP/s under qemu only
    the smallest size it accepts finishes in minutes."""
    subprocess.run([str(_release_python()), "-m", "magiceraser", "bench", *BENCH_ARGS], check=True)


def stop_service() -> None:
    ctl = PREFIX / "bin" / "magiceraserctl"
    if ctl.exists():
        subprocess.run([str(ctl), "stop"], check=False)


def run_guest_steps(native_build: bool = False, skip_bench: bool = False, distcc: str | None = None) -> StepRun:
    checks = StepRun()
    checks.run(STEP_PROFILE, check_profile)
    checks.run(STEP_DOCTOR, check_doctor)
    checks.run(guest_pillow.STEP_CROSS, guest_pillow.check_cross_wheel)
    if native_build:
        checks.run(guest_pillow.STEP_NATIVE, guest_pillow.check_native_build, needs=[STEP_DOCTOR])
    if distcc:
        checks.run(guest_pillow.STEP_DISTCC, lambda: guest_pillow.check_distcc_build(distcc), needs=[STEP_DOCTOR])
    port = free_port()
    try:
        checks.run(STEP_APP_WHEELS, check_app_wheels, needs=[STEP_DOCTOR])
        checks.run(STEP_DEPLOY, lambda: check_deploy(port), needs=[STEP_APP_WHEELS, guest_pillow.STEP_CROSS])
        checks.run(STEP_ERASE, lambda: check_erase(port), needs=[STEP_DEPLOY])
        if not skip_bench:
            checks.run(STEP_BENCH, check_bench, needs=[STEP_DEPLOY])
    finally:
        stop_service()
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rvforge.emulation.guest")
    parser.add_argument("--native-build", action="store_true", help="also build Pillow here with local compiles")
    parser.add_argument("--skip-bench", action="store_true")
    parser.add_argument("--distcc", help="build Pillow once more through this compile helper (HOST:PORT/SLOTS)")
    parser.add_argument("--summary", required=True, type=Path)
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    steps = run_guest_steps(args.native_build, args.skip_bench, args.distcc)
    args.summary.write_text(json.dumps([asdict(o) for o in steps.outcomes], indent=1))
    return 1 if steps.failed else 0


if __name__ == "__main__":
    sys.exit(main())
