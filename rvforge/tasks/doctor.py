"""``invoke doctor``: check the build host, print each problem with the command that fixes it for
this distro, apply the fixes the tool may make itself (``--fix``), exit non-zero when a check
that a recipe depends on fails."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, Mapping, Sequence

from rvforge.cross import doctor as cross_doctor
from rvforge.cross.checks import Result as CrossResult
from rvforge.errors import CheckFailed
from rvforge.host import capacity, facts, pkgconfig, profiles
from rvforge.host import sysroot as sr
from rvforge.host.checks import (
    CHECKS,
    FAIL,
    PASS,
    CheckContext,
    CheckResult,
    evaluate_all,
)
from rvforge.host.facts import Host
from rvforge.host.profiles import Profile
from rvforge.log import info
from rvforge.paths import cache_dir


def recipe_needs(directory: Path | None = None) -> dict[str, tuple[str, ...]]:
    """Recipe name -> the system requirements its ``system`` field lists."""
    from rvforge.build.recipes import load_all

    return {name: recipe.system for name, recipe in load_all(directory).items()}


def make_context(profile: Profile | str | None = None, sysroot: str | Path | None = None, *,
                 env: Mapping[str, str] | None = None, host: Host | None = None,
                 needs: Mapping[str, Sequence[str]] | None = None,
                 work_dir: Path | None = None) -> CheckContext:
    """Resolve the profile (given, or detected from the sysroot's os-release and the machine),
    the sysroot, the environment and the recipe requirements once."""
    root = sr.resolve(sysroot)
    host = host or facts.detect(root)
    explicit = profile is not None
    if not isinstance(profile, Profile):
        profile = profiles.select(host, profile)
    return CheckContext(profile=profile, sysroot=root, env=dict(os.environ if env is None else env),
                   host=host, needs=recipe_needs() if needs is None else needs,
                   work_dir=work_dir or cache_dir(), explicit_profile=explicit)


def evaluate_host(profile: Profile | str | None, sysroot: str | Path | None, *, fix: bool = False,
               **context: Any) -> list[CheckResult]:
    """Run every check (stable interface). With ``fix``, a check whose status is "fix" gets the
    tool's own fix (the openblas.pc) and is run again. Keyword arguments go to ``make_context``
    (env, host, needs, work_dir).

    Which checks block which recipes: ``CheckResult.needed_by`` / ``blocking``, or
    ``blocked_recipes(results)``."""
    return evaluate_all(make_context(profile, sysroot, **context), fix=fix)


def blocked_recipes(results: Sequence[CheckResult]) -> dict[str, list[str]]:
    """Recipe -> the failing checks that stop it from building."""
    blocked: dict[str, list[str]] = {}
    for result in results:
        if result.blocking:
            for recipe in result.needed_by:
                blocked.setdefault(recipe, []).append(result.name)
    return dict(sorted(blocked.items()))


def report(ctx: CheckContext, results: Sequence[CheckResult]) -> dict[str, object]:
    """The machine-readable result (``--json``)."""
    return {
        "profile": ctx.profile.name,
        "sysroot": str(ctx.sysroot) if ctx.sysroot else None,
        "machine": ctx.host.machine,
        "ok": not any(r.blocking for r in results),
        "max_jobs": capacity.max_jobs(ctx.host),
        "pkg_config_path": pkgconfig.build_pkg_config_path(ctx.profile, ctx.sysroot, ctx.env),
        "blocked_recipes": blocked_recipes(results),
        "checks": [asdict(r) for r in results],
    }


def render_text(data: Mapping[str, Any]) -> str:
    """The human report: one line per check, the fix command and affected recipes under it."""
    where = f", sysroot {data['sysroot']}" if data["sysroot"] else ""
    lines = [f"doctor: profile {data['profile']}{where} (machine {data['machine']})"]
    for check in data["checks"]:
        label = check["status"].upper() if check["status"] == FAIL else check["status"]
        lines.append(f"  [{label:<4}] {check['name']:<16} {check['detail']}")
        if check["status"] != PASS:
            if check["fix_command"]:
                lines.append(f"  {'':6} {'':16} fix: {check['fix_command']}")
            if check["needed_by"]:
                verb = "blocks" if check["blocking"] else "needed by"
                lines.append(f"  {'':6} {'':16} {verb}: {', '.join(check['needed_by'])}")
    lines.append(f"build PKG_CONFIG_PATH: {data['pkg_config_path']}")
    lines.append(f"parallel compile jobs: {data['max_jobs']}")
    blocked = data["blocked_recipes"]
    if blocked:
        lines.append("cannot build: " + "; ".join(f"{r} ({', '.join(c)})" for r, c in blocked.items()))
    else:
        lines.append("ok: no blocking problem")
    return "\n".join(lines)


def troubleshooting(profile: Profile, needs: Mapping[str, Sequence[str]] | None = None) -> str:
    """A Markdown "Troubleshooting" section generated from the checks for one profile; with
    ``needs`` (recipe -> system requirements) each entry names the recipes it blocks."""
    lines = ["## Troubleshooting", "",
             f"Run `invoke doctor` first; it prints each problem with the fix for this machine. "
             f"Fix commands below are for {profile.description}.", ""]
    for check in CHECKS:
        install = profile.install_hint(check.requirement) if check.requirement else ""
        line = f"- **{check.name}**: {check.help.format(install=install)}"
        if needs is not None and check.requirement is not None:
            users = sorted(name for name, system in needs.items() if check.requirement in system)
            line += f" Needed by: {', '.join(users) or 'no recipe'}."
        lines.append(line)
    return "\n".join(lines) + "\n"


def main(profile: str | None = None, sysroot: str | None = None, fix: bool = False,
         as_json: bool = False, cross_target: str | None = None) -> list[CheckResult] | list[CrossResult]:
    """Task body of ``invoke doctor``."""
    if cross_target is not None:
        return cross_doctor.main(cross_target, fix, as_json, sysroot)
    ctx = make_context(profile, sysroot)
    results = evaluate_all(ctx, fix=fix)
    data = report(ctx, results)
    info(json.dumps(data, indent=2) if as_json else render_text(data))
    blocked = data["blocked_recipes"]
    if blocked:
        failing = sorted({r.name for r in results if r.blocking})
        raise CheckFailed(f"{len(failing)} blocking check(s) failed: {', '.join(failing)}",
                          hint="run the fix command printed under each failing check, then doctor again")
    return results
