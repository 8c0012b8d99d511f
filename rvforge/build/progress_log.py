"""Progress in machine form: each line the terminal gets during a compile step is also one JSON
object in ``<cache>/logs/<recipe>-<version>.progress.jsonl``, so ``build-wheels --status`` (or
any other program) can tell how far a day-long build is without parsing its terminal output."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

SUFFIX = ".progress.jsonl"


def journal_path(log_file: Path) -> Path:
    """``logs/torch-2.6.0.log`` -> ``logs/torch-2.6.0.progress.jsonl``."""
    return log_file.with_name(log_file.name.removesuffix(".log") + SUFFIX)


def pace_path(journal: Path) -> Path:
    """``logs/torch-2.6.0.progress.jsonl`` -> ``logs/torch-2.6.0.pace.json``: the last finished
    compile's pace, which the next build of the same version estimates from."""
    return journal.with_name(journal.name.removesuffix(SUFFIX) + ".pace.json")


class Journal:
    """Appends one record per progress line; a new run of a recipe starts a new journal."""

    def __init__(self, path: Path, recipe: str) -> None:
        self.path, self.recipe = path, recipe
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")

    def record(self, done: int | None, total: int | None, elapsed: float, left: float | None) -> None:
        entry = {
            "recipe": self.recipe,
            "done": done,
            "total": total,
            "percent": None if done is None or total is None else 100 * done // max(total, 1),
            "elapsed_s": round(elapsed, 1),
            "eta_s": None if left is None else round(left, 1),
            "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        try:
            with self.path.open("a") as handle:
                handle.write(json.dumps(entry) + "\n")
        except OSError:
            pass  # a full disk must not stop the build over a progress note


def latest(logs: Path) -> dict[str, Any] | None:
    """The newest record of the most recently started journal in ``logs``; None when there is
    none or it is still empty (the recipe being built has not reached its compile step)."""
    journals = sorted(logs.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime)
    if not journals:
        return None
    for line in reversed(journals[-1].read_text(errors="replace").splitlines()):
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut short by a kill
        if isinstance(entry, dict):
            return entry
    return None
