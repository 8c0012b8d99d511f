"""``build-wheels --status``: who is building what in this cache, how far, and the time left.

Read-only and lock-free, so it answers while a build holds the cache: the holder comes from
the build lock's note (``lock``), the progress from the newest record of the progress journals
(``progress_log``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rvforge.build import lock, progress_log
from rvforge.common import lock_holder
from rvforge.log import format_duration


def read(cache: Path) -> dict[str, Any]:
    """``{"running": bool, "holder": str | None, "progress": record | None, "cache": str}``."""
    holder = lock_holder(cache / lock.LOCK_NAME)
    progress = progress_log.latest(cache / "logs") if holder else None
    return {"running": holder is not None, "holder": holder, "progress": progress, "cache": str(cache)}


def render(status: dict[str, Any]) -> str:
    if not status["running"]:
        return f"no build running in {status['cache']}"
    lines = [f"building in {status['cache']}: {status['holder']}"]
    record = status["progress"]
    if record is None:
        lines.append("  no progress recorded yet (fetching, unpacking or configuring)")
    elif record.get("total") is None:
        lines.append(f"  {record['recipe']}: {format_duration(record['elapsed_s'])} elapsed "
                     f"(as of {record['ts']})")
    else:
        eta = record.get("eta_s")
        left = f", about {format_duration(eta)} left" if eta is not None else ""
        lines.append(f"  {record['recipe']}: {record['done']}/{record['total']} ({record['percent']}%), "
                     f"{format_duration(record['elapsed_s'])} elapsed{left} (as of {record['ts']})")
    return "\n".join(lines)


def main(cache: Path, as_json: bool) -> int:
    status = read(cache)
    print(json.dumps(status, indent=2) if as_json else render(status), flush=True)
    return 0
