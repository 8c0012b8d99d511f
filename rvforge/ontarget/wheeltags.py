"""Does a wheelhouse fit the interpreter it is about to be installed into?

Checked before a deploy changes anything, so a cp312 or x86_64 wheelhouse copied to a
cp311 riscv64 laptop is refused up front instead of half-installing. Standard library only:
this runs on the target, where only the distro's Python is guaranteed.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from rvforge.errors import DeployError

_PROBE = (
    "import json,platform,sys;"
    "print(json.dumps({'major':sys.version_info[0],'minor':sys.version_info[1],"
    "'impl':sys.implementation.name,'machine':platform.machine(),'executable':sys.executable}))"
)


@dataclass(frozen=True)
class Interpreter:
    major: int
    minor: int
    impl: str
    machine: str
    executable: str

    @property
    def cp_tag(self) -> str:
        return f"cp{self.major}{self.minor}"


@dataclass(frozen=True)
class WheelName:
    project: str
    version: str
    python_tags: tuple[str, ...]
    abi_tags: tuple[str, ...]
    platform_tags: tuple[str, ...]
    filename: str


def probe(python: str) -> Interpreter:
    """Ask the interpreter itself: its version and machine are what the wheels must match."""
    try:
        out = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True, check=True,
                             timeout=60).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise DeployError(f"cannot run the target's Python '{python}': {exc}",
                          hint="install python3 (3.9 or newer) or set 'python:' in the target config") from exc
    return Interpreter(**json.loads(out))


def project_name(text: str) -> str:
    """The project a requirement line (``Flask>=3; python_version...``) or a wheel file's first
    field names, lower-case with '-' for '_': how recipes and the wheelhouse name packages."""
    match = re.match(r"[A-Za-z0-9._-]*", text.strip())
    assert match is not None  # the pattern also matches the empty string
    return match.group(0).lower().replace("_", "-")


def parse_wheel_name(path: Path) -> WheelName | None:
    """Split ``name-version(-build)?-py-abi-plat.whl``; None for anything else."""
    parts = path.name[: -len(".whl")].split("-") if path.name.endswith(".whl") else []
    if len(parts) not in (5, 6):
        return None
    py, abi, plat = parts[-3:]
    return WheelName(project_name(parts[0]), parts[1], tuple(py.split(".")),
                     tuple(abi.split(".")), tuple(plat.split(".")), path.name)


def _python_ok(wheel: WheelName, interp: Interpreter) -> bool:
    for tag in wheel.python_tags:
        if tag in (f"py{interp.major}", interp.cp_tag, f"py{interp.major}{interp.minor}"):
            return True
        if tag.startswith(f"cp{interp.major}") and "abi3" in wheel.abi_tags:
            minor = tag[len(f"cp{interp.major}"):]
            if minor.isdigit() and int(minor) <= interp.minor:
                return True
    return False


def _platform_ok(wheel: WheelName, interp: Interpreter) -> bool:
    return any(tag == "any" or tag.endswith("_" + interp.machine) for tag in wheel.platform_tags)


def compatible(wheel: WheelName, interp: Interpreter) -> bool:
    return _python_ok(wheel, interp) and _platform_ok(wheel, interp)


def library_wheels(wheels: list[Path]) -> list[str]:
    """Projects of the native-library wheels among ``wheels`` (``py3-none-linux_*``: a C library
    such as OpenBLAS, which the other wheels link by soname and no wheel lists as a requirement)."""
    names = [parse_wheel_name(path) for path in wheels]
    return sorted({n.project for n in names if n is not None and n.python_tags == ("py3",)
                   and n.abi_tags == ("none",) and all(tag.startswith("linux_") for tag in n.platform_tags)})


def check_wheels(wheels: list[Path], interp: Interpreter) -> None:
    """Every project in the list needs at least one wheel this interpreter can install."""
    by_project: dict[str, list[WheelName]] = {}
    for path in wheels:
        name = parse_wheel_name(path)
        if name:
            by_project.setdefault(name.project, []).append(name)
    unusable = {project: names for project, names in by_project.items()
                if not any(compatible(n, interp) for n in names)}
    if unusable:
        listed = ", ".join(n.filename for names in unusable.values() for n in names)
        raise DeployError(
            f"the wheels do not fit the target's Python ({interp.executable}: "
            f"{interp.cp_tag}, {interp.machine}): {listed}",
            hint=f"build the wheelhouse for {interp.cp_tag} {interp.machine} (invoke build-wheels on a "
                 "matching host) or point 'python:' in the target config at the interpreter they were built for",
        )
