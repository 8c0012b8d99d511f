"""``invoke bench``: run the eraser benchmark and write its section of docs/benchmarks.md.

The measuring lives in the eraser itself (``magiceraser.bench``, also ``magiceraser bench`` on the
laptop); this task runs it with the checkout's interpreter so every configuration gets its own
process, and points it at the shared benchmarks file.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Literal

from rvforge import REPO_ROOT
from rvforge.config import existing_path, parse_value
from rvforge.errors import ConfigError, ForgeError
from rvforge.log import step
from rvforge.paths import MODEL_PATH_HINT

_SIZE = re.compile(r"^\d+x\d+$")


def bench_command(sizes: str | None, quick: bool, output: Path, model: str | None = None,
                  threads: int | str | None = None, mkldnn: str | None = None,
                  json_path: str | None = None) -> list[str]:
    """The ``python -m magiceraser.bench`` command line for these task options."""
    cmd = [sys.executable, "-m", "magiceraser.bench", "--output", str(output)]
    if json_path:
        cmd += ["--json", str(Path(json_path).expanduser().resolve())]
    if model:
        cmd += ["--model", str(existing_path(model, "--model", MODEL_PATH_HINT))]
    if threads is not None:
        cmd += ["--threads", str(parse_value(int, str(threads), "--threads", {"min": 1}))]
    if mkldnn is not None:
        cmd += ["--mkldnn", parse_value(Literal["on", "off", "both"], mkldnn, "--mkldnn")]
    if sizes:
        parts = [part.strip().lower() for part in sizes.split(",") if part.strip()]
        bad = [part for part in parts if not _SIZE.match(part)]
        if bad or not parts:
            raise ConfigError(f"--sizes: expected WxH sizes, comma-separated, got {sizes!r}",
                             hint="give sizes as WxH, comma-separated: 1280x720,1920x1080")
        cmd += ["--sizes", ",".join(parts)]
    if quick:
        cmd.append("--quick")
    return cmd


def main(sizes: str | None = None, quick: bool = False, output: str | None = None, model: str | None = None,
         threads: str | None = None, mkldnn: str | None = None, json_path: str | None = None) -> None:
    target = Path(output) if output else REPO_ROOT / "docs" / "benchmarks.md"
    cmd = bench_command(sizes, quick, target, model, threads, mkldnn, json_path)
    for module in ("magiceraser", "torch", "skimage"):
        if importlib.util.find_spec(module) is None:
            raise ForgeError(f"the benchmark needs {module}, which this Python ({sys.executable}) cannot import",
                             hint="run `bash ci/setup.sh --dev` and use .venv/bin/invoke")
    with step("eraser benchmark"):
        proc = subprocess.run(cmd, cwd=REPO_ROOT)
    if proc.returncode:
        raise ForgeError(f"the benchmark failed (exit {proc.returncode}); see the output above",
                         hint="re-run with --quick to check the set-up")
