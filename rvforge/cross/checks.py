"""``invoke doctor --cross-target PROFILE``: is the cross root there and does it fit the target?

The file checks read the root's dpkg database and files, so they also judge a root that
cannot run here; only the flag check runs the cross compiler. ``require`` is what a cross
build calls first: the first failing check stops it with one line, before anything is written.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from rvforge.common import last_lines
from rvforge.cross import chroot
from rvforge.cross import root as cross_root
from rvforge.cross.files import ARCHES, pkg_config_libdir
from rvforge.cross.target import SYSROOT_INSIDE, CrossTarget
from rvforge.errors import CheckFailed

PASS, FAIL, SKIP = "ok", "fail", "skip"
_CROSS_GCC = re.compile(r"^gcc-(\d+)-(.+)$")


@dataclass(frozen=True)
class Result:
    """One check's verdict (``PASS``, ``FAIL`` or ``SKIP``) and, when it fails, the command that fixes it."""

    name: str
    status: str
    detail: str
    fix: str = ""


def installed(root: Path) -> dict[str, str]:
    """``package`` or ``package:arch`` (foreign arch) -> version, from the root's dpkg status."""
    try:
        text = (root / "var/lib/dpkg/status").read_text(errors="replace")
    except OSError:
        return {}
    packages = {}
    for para in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in para.splitlines() if ": " in line and line[0] != " ")
        if fields.get("Status", "").endswith(" installed") and "Package" in fields:
            arch = fields.get("Architecture", "")
            name = fields["Package"] + (f":{arch}" if arch not in ("amd64", "all", "") else "")
            packages[name] = fields.get("Version", "")
    return packages


def exists_in(root: Path, path: str) -> bool:
    """Whether ``path`` names a file inside ``root``, following absolute symlinks (Debian's
    alternatives) within the root rather than on this machine."""
    current = root / path.lstrip("/")
    for _ in range(16):
        if not current.is_symlink():
            return current.is_file()
        link = os.readlink(current)
        current = root / link.lstrip("/") if link.startswith("/") else current.parent / link
    return False


def _exists(target: CrossTarget, root: Path, path: str) -> bool:
    """``exists_in`` for a path as a build sees it: under SYSROOT_INSIDE it is in ``--sysroot``."""
    if target.sysroot and path.startswith(f"{SYSROOT_INSIDE}/"):
        return exists_in(target.sysroot, path.removeprefix(SYSROOT_INSIDE))
    return exists_in(root, path)


def _recreate(target: CrossTarget, root: Path) -> str:
    """The fix for a root made wrong: remove it and create it again."""
    return f"rm -rf {root} && invoke doctor {target.options} --fix"


def check_tools(target: CrossTarget) -> Result:
    needed = [ARCHES[target.arch].qemu, "unshare" if chroot.use_chroot() else "proot"]
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if missing:
        return Result("host tools", FAIL, f"missing: {', '.join(missing)}",
                      "apt-get install --no-install-recommends qemu-user-static proot util-linux")
    return Result("host tools", PASS, ", ".join(needed))


def check_root(target: CrossTarget, root: Path) -> Result:
    if cross_root.is_ready(root):
        return Result("cross root", PASS, str(root))
    return Result("cross root", FAIL, f"no finished cross root at {root}",
                  f"invoke doctor {target.options} --fix   (as root, a few minutes)")


def check_gcc(target: CrossTarget, root: Path, packages: dict[str, str]) -> Result:
    wanted = f"gcc-{target.profile.gcc}-{target.triplet}"
    if wanted in packages:
        return Result("cross gcc", PASS, f"{target.gcc} {packages[wanted]}")
    others = sorted(m.group(1) for name in packages if (m := _CROSS_GCC.match(name)) and m.group(2) == target.triplet)
    found = f"cross gcc major {', '.join(others)}" if others else "no cross gcc"
    return Result("cross gcc", FAIL, f"{found}; the target's gcc is {target.profile.gcc} "
                  "(objects and runtime libraries must come from the same major)", _recreate(target, root))


def check_python(target: CrossTarget, root: Path, packages: dict[str, str]) -> Result:
    if target.sysroot:  # cross_target() checked its headers, sysconfig and interpreter
        return Result("target python", PASS, f"Python {target.python} ({target.arch}) in {target.sysroot}")
    dev = f"libpython{target.python}-dev:{target.arch}"
    missing = [path for path in (f"{target.python_include}/Python.h", target.sysconfigdata, target.target_python,
                                 f"/usr/include/{target.triplet}/python{target.python}/pyconfig.h")
               if not exists_in(root, path)]
    if dev not in packages or missing:
        what = ", ".join(missing) or f"package {dev}"
        return Result("target python", FAIL, f"the sysroot has no Python {target.python} headers or "
                      f"sysconfig for {target.arch}: missing {what}", _recreate(target, root))
    return Result("target python", PASS, f"Python {packages[dev]} ({target.arch}) with headers")


def check_libraries(target: CrossTarget, root: Path) -> Result:
    dirs = pkg_config_libdir(target)
    missing = [pc for pc in ("zlib.pc", "libjpeg.pc", "openblas.pc")
               if not any(_exists(target, root, f"{d}/{pc}") for d in dirs)]
    # C++ extensions load it when their test runs as target code.
    runtimes = [f"{target.target_root.rstrip('/')}{d}/libstdc++.so.6" for d in (target.multiarch_libdir, "/usr/lib64")]
    missing += [] if any(_exists(target, root, r) for r in runtimes) else [runtimes[0]]
    if missing:
        fix = (f"install the development packages of zlib, libjpeg and openblas, and libstdc++, into {target.sysroot}"
               if target.sysroot else _recreate(target, root))
        return Result("target libraries", FAIL, f"no {', '.join(missing)} for {target.arch}", fix)
    return Result("target libraries", PASS, "zlib, libjpeg, openblas (.pc files), libstdc++")


def check_crossenv(target: CrossTarget, root: Path) -> Result:
    site = root / f"opt/rvforge/build-python/lib/python{target.python}/site-packages"
    found = sorted(p.name for p in site.glob("crossenv-*.dist-info"))
    if not found:
        return Result("crossenv", FAIL, "crossenv is not in the root's build venv", _recreate(target, root))
    return Result("crossenv", PASS, found[0].removesuffix(".dist-info").replace("-", " "))


def check_flags(target: CrossTarget, root: Path) -> Result:
    """The pins must be set and the cross gcc must accept them."""
    if len(target.flags) != 2:
        return Result("march/mabi", FAIL, f"profile {target.profile.name} does not pin -march and -mabi",
                      f"set march: and mabi: in {target.profile.path}")
    probe = [target.gcc, *target.flags, "-E", "-dM", "-x", "c", "/dev/null"]
    try:
        proc = subprocess.run(chroot.argv(root, probe), capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return Result("march/mabi", FAIL, f"{target.gcc} gave no answer within 120 s", _recreate(target, root))
    if proc.returncode != 0:
        return Result("march/mabi", FAIL, f"{target.gcc} refuses {' '.join(target.flags)}: "
                      f"{last_lines(proc.stderr, empty='?')}", _recreate(target, root))
    return Result("march/mabi", PASS, " ".join(target.flags))


def evaluate(target: CrossTarget, root: Path) -> list[Result]:
    results = [check_tools(target), check_root(target, root)]
    if results[-1].status != PASS:
        return results + [Result(name, SKIP, "no cross root") for name in
                          ("cross gcc", "target python", "target libraries", "crossenv", "march/mabi")]
    packages = installed(root)
    results += [check_gcc(target, root, packages), check_python(target, root, packages),
                check_libraries(target, root), check_crossenv(target, root)]
    files_ok = all(r.status == PASS for r in results)
    results.append(check_flags(target, root) if files_ok else Result("march/mabi", SKIP, "root not usable"))
    return results


def require(target: CrossTarget, root: Path) -> None:
    """Stop at the first failing check, with its fix."""
    for result in evaluate(target, root):
        if result.status == FAIL:
            raise CheckFailed(f"cross target {target.profile.name}: {result.name}: {result.detail}",
                              hint=result.fix or None)


def render(target: CrossTarget, results: list[Result]) -> str:
    lines = [f"doctor: cross target {target.profile.name} ({target.arch}, gcc {target.profile.gcc}, "
             f"Python {target.python}, Debian {target.suite}"
             f"{f', sysroot {target.sysroot}' if target.sysroot else ''})"]
    for result in results:
        label = result.status.upper() if result.status == FAIL else result.status
        lines.append(f"  [{label:<4}] {result.name:<16} {result.detail}")
        if result.status == FAIL and result.fix:
            lines.append(f"  {'':6} {'':16} fix: {result.fix}")
    return "\n".join(lines)
