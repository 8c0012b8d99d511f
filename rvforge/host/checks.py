"""The doctor's checks: each looks at one requirement of the build host and says pass, fix (the
tool repairs it with ``--fix``), warn (works, but slower or riskier) or fail (the user must act),
with the exact command for the selected profile.

The context (profile, sysroot, PATH, env, host, which recipes need what) is resolved once; every
check is a small function of it. A failing check blocks the recipes whose ``system`` list names
its requirement; host-wide checks (disk, memory) block every recipe.
"""

from __future__ import annotations

import os
import platform
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal, Mapping, Sequence

from rvforge.errors import ForgeError
from rvforge.host import blas, capacity, openblas, pkgconfig, toolchain
from rvforge.host import sysroot as sr
from rvforge.host.facts import Host
from rvforge.host.profiles import Profile
from rvforge.ontarget.settings import Settings

Status = Literal["pass", "fix", "warn", "fail"]
PASS: Status = "pass"
FIX: Status = "fix"
WARN: Status = "warn"
FAIL: Status = "fail"
SWAP_COMMAND = ("sudo fallocate -l {gb}G /swapfile && sudo chmod 600 /swapfile && "
                "sudo mkswap /swapfile && sudo swapon /swapfile")


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict (stable interface; ``--json`` prints these fields).

    ``needed_by`` lists the recipes that need this requirement; ``blocking`` is true when the
    check failed and at least one of them therefore cannot build."""

    name: str
    status: Status
    detail: str
    fix_command: str | None = None
    blocking: bool = False
    requirement: str | None = None  # logical requirement (a profile ``packages`` key)
    needed_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckContext:
    """Everything the checks look at, resolved once."""

    profile: Profile
    sysroot: Path | None
    env: Mapping[str, str]
    host: Host
    needs: Mapping[str, Sequence[str]]  # recipe name -> its system requirements
    work_dir: Path  # where sources and build trees go (the disk check looks here)
    python_version: str = f"{sys.version_info.major}.{sys.version_info.minor}"
    python_include: Path = field(default_factory=lambda: Path(sysconfig.get_paths()["include"]))
    explicit_profile: bool = False  # --profile was given (repeat it in printed commands)
    blas_seconds: float = blas.SECONDS  # length of the sgemm benchmark of the BLAS checks
    eraser_prefix: Path = field(default_factory=lambda: Settings().layout.prefix)  # the local deploy's prefix

    def needed_by(self, requirement: str | None) -> tuple[str, ...]:
        """Recipes needing ``requirement``; every recipe for a host-wide check (None)."""
        return tuple(sorted(name for name, system in self.needs.items()
                            if requirement is None or requirement in system))

    @property
    def doctor_fix_command(self) -> str:
        """``invoke doctor --fix`` with the options that select this same context."""
        words = ["invoke doctor --fix"]
        if self.explicit_profile or self.sysroot:
            words.append(f"--profile {self.profile.name}")
        if self.sysroot:
            words.append(f"--sysroot {self.sysroot}")
        return " ".join(words)


@dataclass(frozen=True)
class Finding:
    status: Status
    detail: str
    fix_command: str | None = None


@dataclass(frozen=True)
class Check:
    name: str
    requirement: str | None  # None: host-wide, needed by every recipe
    run: Callable[[CheckContext], Finding]
    help: str  # troubleshooting text; ``{install}`` becomes the profile's install command
    apply: Callable[[CheckContext], object] | None = None  # what --fix does when the status is "fix"

    def evaluate(self, ctx: CheckContext) -> CheckResult:
        finding = self.run(ctx)
        needed_by = ctx.needed_by(self.requirement)
        return CheckResult(self.name, finding.status, finding.detail, finding.fix_command,
                           blocking=finding.status == FAIL and bool(needed_by),
                           requirement=self.requirement, needed_by=needed_by)


def _install(ctx: CheckContext, requirement: str) -> str:
    return ctx.profile.install_hint(requirement)


def _version_matches(actual: str, wanted: str) -> bool:
    return actual == wanted or actual.startswith(wanted + ".")


def check_python(ctx: CheckContext) -> Finding:
    """The building Python matches the profile's and its headers (Python.h) are installed."""
    wanted = ctx.profile.python
    if not _version_matches(ctx.python_version, wanted):
        return Finding(FAIL, f"Python {ctx.python_version} runs the tool, but {ctx.profile.name} builds "
                             f"for Python {wanted}: the wheels would not install on the system Python",
                       f"rm -rf .venv && PYTHON=python{wanted} bash ci/setup.sh")
    if ctx.sysroot is None:
        header = ctx.python_include / "Python.h"
        found = header if header.is_file() else None
    else:
        found = sr.find_first(sr.dirs_under(ctx.sysroot, ctx.profile.include_dirs), ["Python.h"],
                              [f"python{ctx.python_version}"])
    if found is None:
        return Finding(FAIL, f"Python {ctx.python_version}: headers (Python.h) not installed",
                       _install(ctx, "python-headers"))
    return Finding(PASS, f"Python {ctx.python_version}, headers {found.parent}")


def _compiler_check(language: str, requirement: str) -> Callable[[CheckContext], Finding]:
    def run(ctx: CheckContext) -> Finding:
        probe = toolchain.probe_compiler(language, ctx.env)
        if not probe.ok:
            return Finding(FAIL, probe.error, _install(ctx, requirement))
        return Finding(PASS, f"{' '.join(probe.command)} ({probe.version}) compiles, links and runs")
    return run


def _tool_check(requirement: str, names: tuple[str, ...]) -> Callable[[CheckContext], Finding]:
    def run(ctx: CheckContext) -> Finding:
        probes = [toolchain.probe_tool(name, ctx.env) for name in names]
        good = next((p for p in probes if p.ok), None)
        if good is None:
            return Finding(FAIL, "; ".join(p.error for p in probes), _install(ctx, requirement))
        return Finding(PASS, f"{good.path} ({good.version})")
    return run


def _header_check(requirement: str, header: str) -> Callable[[CheckContext], Finding]:
    def run(ctx: CheckContext) -> Finding:
        found = sr.find_first(sr.dirs_under(ctx.sysroot, ctx.profile.include_dirs), [header])
        if found is None:
            return Finding(FAIL, f"{header} not found in {', '.join(ctx.profile.include_dirs)}"
                                 f"{_under(ctx)}", _install(ctx, requirement))
        return Finding(PASS, str(found))
    return run


def _under(ctx: CheckContext) -> str:
    return f" under {ctx.sysroot}" if ctx.sysroot else ""


def check_pkg_config(ctx: CheckContext) -> Finding:
    """pkg-config (or pkgconf) is on PATH and runs."""
    found = pkgconfig.pkg_config_command(ctx.env)
    probe = toolchain.probe_tool(str(found) if found else "pkg-config", ctx.env)
    if not probe.ok:
        return Finding(FAIL, probe.error, _install(ctx, "pkg-config"))
    return Finding(PASS, f"{probe.path} {probe.version}")


def check_pkg_config_path(ctx: CheckContext) -> Finding:
    """The profile's pkgconfig dirs are on the user's search path (builds add them anyway)."""
    searched = pkgconfig.split_path(ctx.env.get("PKG_CONFIG_PATH"))
    if ctx.sysroot is None:
        searched += pkgconfig.default_search_path(ctx.env)
    wanted = [str(d) for d in pkgconfig.profile_dirs(ctx.profile, ctx.sysroot) if d.is_dir()]
    missing = [d for d in wanted if d.rstrip("/") not in {s.rstrip("/") for s in searched}]
    build_path = pkgconfig.build_pkg_config_path(ctx.profile, ctx.sysroot, ctx.env)
    if missing:
        export = f"export PKG_CONFIG_PATH={os.pathsep.join(missing)}${{PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}}"
        return Finding(WARN, f"{', '.join(missing)} not searched by pkg-config in your shell; "
                             f"rvforge builds use PKG_CONFIG_PATH={build_path}", export)
    return Finding(PASS, f"builds use PKG_CONFIG_PATH={build_path}")


def check_openblas(ctx: CheckContext) -> Finding:
    """The OpenBLAS library, cblas.h and openblas_config.h (with its version) are installed."""
    found = openblas.find(ctx.profile, ctx.sysroot)
    if found.missing:
        return Finding(FAIL, f"OpenBLAS incomplete: missing {', '.join(found.missing)} in "
                             f"{', '.join(ctx.profile.lib_dirs)} / {', '.join(ctx.profile.include_dirs)}"
                             f"{_under(ctx)}", _install(ctx, "openblas"))
    return Finding(PASS, f"OpenBLAS {found.version}: {found.library}, headers {found.include_dir}")


def check_openblas_pc(ctx: CheckContext) -> Finding:
    """``pkg-config openblas`` (scipy's only way in) reports the OpenBLAS really installed."""
    found = openblas.find(ctx.profile, ctx.sysroot)
    if found.missing:
        return Finding(FAIL, "no openblas.pc can be written until OpenBLAS is installed",
                       _install(ctx, "openblas"))
    if pkgconfig.pkg_config_command(ctx.env) is None:
        return Finding(FAIL, "pkg-config is missing, so nothing can find openblas.pc",
                       _install(ctx, "pkg-config"))
    module = pkgconfig.describe("openblas", pkgconfig.build_env(ctx.profile, ctx.sysroot, ctx.env))
    if module is None:
        return Finding(FIX, "no openblas.pc on the build PKG_CONFIG_PATH (scipy cannot find OpenBLAS); "
                            "the tool writes one into its own directory", ctx.doctor_fix_command)
    issues = openblas.problems(module, found)
    if issues:
        return Finding(FIX, f"{module.pc_dir}/openblas.pc is wrong: {'; '.join(issues)}; "
                            "the tool writes a correct one that comes first", ctx.doctor_fix_command)
    tool_dir = openblas.tool_pc_file(ctx.profile, ctx.sysroot).parent
    owner = "tool-owned" if module.pc_dir == tool_dir else "distro"
    return Finding(PASS, f"pkg-config openblas {module.version} ({owner} {module.pc_dir}/openblas.pc)")


_BLAS_STATUS: dict[str, Status] = {"ok": PASS, "warn": WARN, "fail": FAIL}


def _blas_finding(probed: blas.Probed, fix: str | None = None) -> Finding:
    if probed.report is None:
        return Finding(FAIL if probed.crashed else WARN, probed.error or "no report",
                       "use an OpenBLAS built for this CPU" if probed.crashed else fix)
    verdict = probed.report["verdict"]
    return Finding(_BLAS_STATUS.get(verdict["status"], WARN), probed.report["summary"], verdict["fix"])


def _foreign(ctx: CheckContext) -> str | None:
    """Why this machine cannot run the target's libraries, or None when it can."""
    if ctx.sysroot is None and ctx.host.machine == platform.machine():
        return None
    return (f"not measured: the build is for {ctx.host.machine}{_under(ctx)}, this machine cannot run its "
            "libraries; run invoke doctor on the target")


def check_blas(ctx: CheckContext) -> Finding:
    """The OpenBLAS the build links, measured: its core, the CPU's vector unit, sgemm GFLOP/s, a verdict."""
    foreign = _foreign(ctx)
    if foreign:
        return Finding(PASS, foreign)
    found = openblas.find(ctx.profile, None)
    if found.library is None:
        return Finding(WARN, "no OpenBLAS to measure (see the openblas check)", _install(ctx, "openblas"))
    return _blas_finding(blas.measure_library(found.library, ctx.env, ctx.blas_seconds))


def check_eraser_blas(ctx: CheckContext) -> Finding:
    """The OpenBLAS the deployed eraser loads: its release's Python imports numpy and torch, then measures."""
    foreign = _foreign(ctx)
    python = ctx.eraser_prefix / "current" / "venv" / "bin" / "python"
    if foreign or not python.exists():
        return Finding(PASS, foreign or f"no eraser deployed under {ctx.eraser_prefix} yet; after `invoke deploy` "
                                        "this line and its /api/v1/health show the BLAS it loaded")
    return _blas_finding(blas.measure_release(python, ctx.env, ctx.blas_seconds),
                         "invoke deploy")  # a release older than the probe lacks it


def check_disk(ctx: CheckContext) -> Finding:
    """Free disk where sources and build trees go."""
    free_gb = capacity.free_bytes(ctx.work_dir) / capacity.GIB
    where = f"{free_gb:.1f} GB free at {ctx.work_dir}"
    full, minimum = capacity.DISK_FULL_STACK_GB, capacity.DISK_MINIMUM_GB
    fix = f"free space there, or point RVFORGE_HOME at a disk with {full:.0f} GB free"
    if free_gb < minimum:
        return Finding(FAIL, f"{where}; at least {minimum:.0f} GB needed", fix)
    if free_gb < full:
        return Finding(WARN, f"{where}; the full stack (torch) needs ~{full:.0f} GB", fix)
    return Finding(PASS, where)


def check_memory(ctx: CheckContext) -> Finding:
    """RAM+swap against the parallel compile jobs torch needs (~2 GB each)."""
    host = ctx.host
    total_gb = (host.mem_bytes + host.swap_bytes) / capacity.GIB
    jobs = capacity.max_jobs(host)
    facts = (f"RAM {host.mem_bytes / capacity.GIB:.1f} GB + swap {host.swap_bytes / capacity.GIB:.1f} GB: "
             f"{jobs} parallel compile job(s) of ~{capacity.GB_PER_JOB:.0f} GB (cores: {host.cpus})")
    short_gb = max(8, int(host.cpus * capacity.GB_PER_JOB - total_gb + 0.999))
    swap = SWAP_COMMAND.format(gb=short_gb)
    if total_gb < capacity.GB_PER_JOB:
        return Finding(FAIL, f"{facts}; not enough for one torch compile job", swap)
    if jobs < host.cpus:
        return Finding(WARN, f"{facts}; builds run with -j{jobs}, add swap for more", swap)
    if host.swap_bytes == 0 and host.mem_bytes < 16 * capacity.GIB:
        return Finding(WARN, f"{facts}; no swap: the heaviest torch files need more than "
                             f"{capacity.GB_PER_JOB:.0f} GB each", SWAP_COMMAND.format(gb=8))
    return Finding(PASS, facts)


def _apply_openblas_pc(ctx: CheckContext) -> object:
    return openblas.ensure_pc(ctx.profile, ctx.sysroot, ctx.env)


CHECKS: tuple[Check, ...] = (
    Check("python", "python-headers", check_python,
          "Python version or Python.h: the wheels are built for the system Python and compile "
          "against its headers. Install them with `{install}`."),
    Check("c-compiler", "c-compiler", _compiler_check("c", "c-compiler"),
          "No working C compiler. `{install}`."),
    Check("cxx-compiler", "cxx-compiler", _compiler_check("c++", "cxx-compiler"),
          "No working C++ compiler. `{install}`."),
    Check("gfortran", "gfortran", _compiler_check("fortran", "gfortran"),
          "gfortran is missing or cannot link a program (`Unknown compiler(s): [['gfortran']...`): "
          "scipy up to 1.17 compiles Fortran. `{install}`."),
    Check("pkg-config", "pkg-config", check_pkg_config,
          "pkg-config is how Meson (numpy, scipy) finds OpenBLAS. `{install}`."),
    Check("pkg-config-path", "pkg-config", check_pkg_config_path,
          "The distro's pkgconfig directories are not on your shell's search path. rvforge "
          "builds add them themselves; for your own shell, export the PKG_CONFIG_PATH doctor prints."),
    Check("openblas", "openblas", check_openblas,
          "OpenBLAS library or headers (cblas.h, openblas_config.h) missing. `{install}`."),
    Check("openblas-pc", "openblas", check_openblas_pc,
          "`Dependency \"OpenBLAS\" not found, tried pkgconfig and cmake` from scipy: the distro "
          "ships no (or a wrong) openblas.pc. `invoke doctor --fix` writes a correct one under "
          "the tool's cache (never under /usr); build-wheels does the same before building.",
          apply=_apply_openblas_pc),
    Check("blas", "openblas", check_blas,
          "The OpenBLAS the build links uses a scalar kernel although the CPU has a vector unit (every "
          "distro and PyPI OpenBLAS on the TH1520): erasing is ~3-5x slower than it could be. Doctor "
          "prints the core, the CPU's vector unit, sgemm GFLOP/s and the fix."),
    Check("eraser-blas", "openblas", check_eraser_blas,
          "The same for the OpenBLAS the deployed eraser loaded (also in its /api/v1/health)."),
    Check("cmake", "cmake", _tool_check("cmake", ("cmake",)),
          "torch configures with CMake. `{install}`."),
    Check("ninja", "ninja", _tool_check("ninja", ("ninja", "ninja-build")),
          "Meson and CMake builds run ninja. `{install}`."),
    Check("patch", "patch", _tool_check("patch", ("patch",)),
          "Recipes apply riscv64 patches with it. `{install}`."),
    Check("make", "make", _tool_check("make", ("make", "gmake")),
          "OpenBLAS builds with make (its own Makefiles). `{install}`."),
    Check("git", "git", _tool_check("git", ("git",)),
          "Sources pinned to a git commit need it. `{install}`."),
    Check("jpeg", "jpeg", _header_check("jpeg", "jpeglib.h"), "libjpeg headers. `{install}`."),
    Check("zlib", "zlib", _header_check("zlib", "zlib.h"), "zlib headers. `{install}`."),
    Check("protobuf", "protobuf", _header_check("protobuf", "google/protobuf/message.h"),
          "protobuf headers and protoc (torch's onnx export code). `{install}`."),
    Check("disk", None, check_disk,
          "Not enough free disk for sources and build trees: free space or set RVFORGE_HOME to a "
          "bigger disk."),
    Check("memory", None, check_memory,
          "`cc1plus: Killed signal` while building torch: each compile job needs ~2 GB. Add swap "
          "(the command doctor prints) or pass a lower --jobs."),
)


def evaluate_all(ctx: CheckContext, checks: Sequence[Check] = CHECKS, fix: bool = False) -> list[CheckResult]:
    """Run every check; with ``fix``, apply the tool's own fix for each "fix" result and re-check."""
    results = []
    for check in checks:
        result = check.evaluate(ctx)
        if fix and result.status == FIX and check.apply is not None:
            try:
                check.apply(ctx)
            except ForgeError as err:
                result = CheckResult(result.name, FAIL, f"--fix failed: {err.message}", err.hint,
                                     blocking=bool(result.needed_by), requirement=result.requirement,
                                     needed_by=result.needed_by)
            else:
                result = check.evaluate(ctx)
        results.append(result)
    return results
