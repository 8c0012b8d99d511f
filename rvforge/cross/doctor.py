"""The body of ``invoke doctor --cross-target PROFILE``; ``--fix`` creates the cross root."""

from __future__ import annotations

import json
from dataclasses import asdict

from rvforge.cross import checks
from rvforge.cross import root as cross_root
from rvforge.cross.target import cross_target
from rvforge.errors import CheckFailed
from rvforge.log import info


def main(name: str, fix: bool = False, as_json: bool = False, sysroot: str | None = None) -> list[checks.Result]:
    target = cross_target(name, sysroot)
    path = cross_root.default_path(target)
    if fix and not cross_root.is_ready(path):
        cross_root.ensure(target, path)
    results = checks.evaluate(target, path)
    info(json.dumps([asdict(r) for r in results], indent=2) if as_json else checks.render(target, results))
    failing = [r.name for r in results if r.status == checks.FAIL]
    if failing:
        raise CheckFailed(f"{len(failing)} cross check(s) failed: {', '.join(failing)}",
                          hint="run the fix command printed under each failing check, then doctor again")
    return results
