"""The cross root: a Debian amd64 tree in the tool's cache with the cross compiler, the build
Python, crossenv and the target's ``:ARCH`` development packages.

It is keyed like the emulated userland: suite, mirror and package lists hash into its name, so
a changed list makes a fresh root rather than a stale one. It is built beside its final place
and renamed into place only after the cross compiler has built a Python extension stub for the
target, so a half-created root is never used. Creating it needs root rights (debootstrap);
using it does not (proot).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Sequence

from rvforge.build import buildenv
from rvforge.common import last_lines
from rvforge.cross import chroot, elfcheck
from rvforge.cross.target import SYSROOT_INSIDE, CrossTarget
from rvforge.errors import BuildFailed, CheckFailed
from rvforge.host.debian_mirror import debian_mirror
from rvforge.log import info, step
from rvforge.paths import cache_dir

#: Bumped when the way a root is made changes, so older roots are not reused.
RECIPE_VERSION = 1
READY = "opt/rvforge/ready.json"
BUILD_PYTHON = "/opt/rvforge/build-python/bin/python"
#: The Python side of a cross build: crossenv, and a stock pip for the venvs it makes (Debian's
#: own pip carries a version the package index does not have, and crossenv re-fetches it).
PINS = ("crossenv==1.6.2", "pip==26.3")
WHEELS_INSIDE = "/opt/rvforge/wheels"
_APT_CONF = """APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Retries "3";
Acquire::Check-Valid-Until "false";
Dpkg::Use-Pty "false";
"""


def mirror() -> str:
    """``RVFORGE_RISCV64_MIRROR``, else this machine's apt sources, else debootstrap's default
    (the same rule as the emulated userland)."""
    return debian_mirror("RVFORGE_RISCV64_MIRROR")


def key(target: CrossTarget) -> str:
    """The root's directory name: what it is made from, hashed (a changed list makes a new root)."""
    text = "\n".join([f"recipe={RECIPE_VERSION}", f"suite={target.suite}", f"mirror={mirror()}",
                      *target.build_packages(), *target.target_packages(), *target.python_debs(), *PINS])
    return f"debian-{target.suite}-amd64-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def default_path(target: CrossTarget) -> Path:
    """Where the tool's cache keeps the root for ``target``."""
    return cache_dir() / "cross" / key(target)


def is_ready(root: Path) -> bool:
    """Whether the root was finished and proven (only a finished root is renamed into place)."""
    return (root / READY).is_file()


def sysroot_binds(target: CrossTarget) -> list[chroot.Bind]:
    """``--sysroot`` where the target's files are expected inside the root."""
    return [chroot.Bind(target.sysroot, SYSROOT_INSIDE)] if target.sysroot else []


def run(root: Path, command: Sequence[str], log_file: Path, what: str,
        binds: Sequence[chroot.Bind] = ()) -> None:
    """Run ``command`` in the root, its output appended to ``log_file``; a failure is BuildFailed."""
    with log_file.open("a") as log:
        buildenv.run(chroot.argv(root, command, binds=binds), log, os.environ, what=what)


def _debootstrap(target: CrossTarget, tmp: Path, log_file: Path) -> None:
    if shutil.which("debootstrap") is None:
        raise CheckFailed("debootstrap is missing", hint="apt-get install debootstrap")
    with log_file.open("a") as log:
        buildenv.run(["debootstrap", "--variant=minbase", "--include=ca-certificates", target.suite,
                      str(tmp), mirror(), "/usr/share/debootstrap/scripts/sid"], log, os.environ,
                     what="debootstrap of the cross root")
    (tmp / "etc/apt/sources.list").write_text(f"deb {mirror()} {target.suite} main\n")
    (tmp / "etc/apt/apt.conf.d/90rvforge").write_text(_APT_CONF)
    policy = tmp / "usr/sbin/policy-rc.d"  # no init runs here: package scripts start no service
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)


def _packages(target: CrossTarget, tmp: Path, log_file: Path) -> None:
    if target.target_packages():
        run(tmp, ["dpkg", "--add-architecture", target.arch], log_file, "adding the target architecture")
    run(tmp, ["apt-get", "update", "-q"], log_file, "apt-get update in the cross root")
    run(tmp, ["apt-get", "install", "-y", "-q", *target.build_packages(), *target.target_packages()],
        log_file, "installing the cross root's packages")
    if not target.python_debs():  # --sysroot: the target's Python is there
        return
    # The target's python binary cannot be installed beside the build one: unpack it instead.
    unpacked = Path(target.target_python).parents[2]
    script = (f"mkdir -p {unpacked} && cd /tmp && apt-get download {' '.join(target.python_debs())} && "
              f"for deb in /tmp/*.deb; do dpkg-deb -x \"$deb\" {unpacked}; done && rm -f /tmp/*.deb && "
              f"mkdir -p {unpacked}/usr/include && ln -sfn {target.python_include} {unpacked}/usr/include/")
    run(tmp, ["sh", "-c", script], log_file, "unpacking the target's Python")


def _python_side(target: CrossTarget, tmp: Path, log_file: Path) -> None:
    """A build venv with crossenv; ensurepip's wheel becomes the stock pip crossenv expects."""
    wheels = buildenv.pip_cache(cache_dir())
    with log_file.open("a") as log:
        buildenv.download(list(PINS), cache_dir(), log)
    pip_version = PINS[1].split("==")[1]
    found = sorted(wheels.glob(f"pip-{pip_version}-*.whl"))
    if not found:
        raise BuildFailed(f"pip {pip_version} is not in {wheels} after its download",
                          hint=f"see {log_file}; connect once so the download can finish")
    pip_wheel = found[0]
    bundled = tmp / "usr/share/python-wheels"
    aside = tmp / "opt/rvforge/debian-wheels"
    aside.mkdir(parents=True, exist_ok=True)
    for old in bundled.glob("pip-*.whl"):
        old.rename(aside / old.name)
    shutil.copy2(pip_wheel, bundled / pip_wheel.name)
    venv = str(Path(BUILD_PYTHON).parents[1])
    run(tmp, [f"python{target.python}", "-m", "venv", venv], log_file, "creating the build venv")
    run(tmp, [BUILD_PYTHON, "-m", "pip", "install", "--no-index", "--no-deps", "--find-links",
              WHEELS_INSIDE, *PINS], log_file, "installing crossenv",
        binds=[chroot.Bind(wheels, WHEELS_INSIDE)])


def _prove(target: CrossTarget, tmp: Path, log_file: Path) -> None:
    """The root is ready only when the cross gcc builds a target object against Python.h (with
    ``--sysroot``, the root holds no target headers: a plain object; each run checks the sysroot)."""
    probe = tmp / "opt/rvforge/probe.c"
    if target.sysroot:
        probe.write_text("int rvforge_probe(void) { return 3; }\n")
        command = [target.gcc, *target.flags, "-c", "-o", "/opt/rvforge/probe.so", "/opt/rvforge/probe.c"]
    else:
        probe.write_text("#include <Python.h>\nint rvforge_probe(void) { return PY_MAJOR_VERSION; }\n")
        command = [target.gcc, *target.flags, "-fPIC", "-shared", f"-I{target.python_include}", "-o",
                   "/opt/rvforge/probe.so", "/opt/rvforge/probe.c"]
    run(tmp, command, log_file, "compiling a target probe")
    elfcheck.require_machine(tmp / "opt/rvforge/probe.so", target.arch)


def ensure(target: CrossTarget, path: Path | None = None) -> Path:
    """The ready cross root for ``target``, created (a few minutes, needs root) when missing."""
    root = path or default_path(target)
    if is_ready(root):
        return root
    if root.exists():
        raise CheckFailed(f"{root} exists but is not a finished cross root",
                          hint=f"remove it (rm -rf {root}) and run the command again")
    if os.geteuid() != 0:
        raise CheckFailed("creating the cross root needs root rights (debootstrap)",
                          hint=f"run once as root: invoke doctor {target.options} --fix")
    root.parent.mkdir(parents=True, exist_ok=True)
    for stale in root.parent.glob(f".{root.name}.tmp.*"):  # left by a killed creation
        if not Path(f"/proc/{stale.name.rsplit('.', 1)[1]}").exists():
            shutil.rmtree(stale, ignore_errors=True)
    tmp = root.parent / f".{root.name}.tmp.{os.getpid()}"
    log_file = cache_dir() / "logs" / f"cross-root-{root.name}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text("")
    start = time.monotonic()
    try:
        with step(f"create the cross root {root.name} (log: {log_file})"):
            _debootstrap(target, tmp, log_file)
            _packages(target, tmp, log_file)
            _python_side(target, tmp, log_file)
            _prove(target, tmp, log_file)
            seconds = round(time.monotonic() - start, 1)
            (tmp / READY).write_text(json.dumps({"key": root.name, "suite": target.suite,
                                                 "seconds": seconds}, indent=2) + "\n")
            tmp.rename(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    info(f"    cross root ready in {seconds:.0f} s: {root}")
    return root


def compiler_version(root: Path, target: CrossTarget) -> str:
    """``NAME X.Y.Z`` of the root's cross gcc, for the manifest."""
    check = f"invoke doctor {target.options}"
    try:
        proc = subprocess.run(chroot.argv(root, [target.gcc, "-dumpfullversion"]), capture_output=True,
                              text=True, timeout=120)
    except subprocess.TimeoutExpired:
        raise BuildFailed(f"{target.gcc} in {root} gave no version within 120 s", hint=check) from None
    if proc.returncode != 0:
        raise BuildFailed(f"{target.gcc} does not run in {root}: {last_lines(proc.stderr)}", hint=check)
    return f"{target.gcc} {proc.stdout.strip()}"
