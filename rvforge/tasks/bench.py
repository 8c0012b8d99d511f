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

from rvforge import REPO_ROOT
from rvforge.errors import ForgeError
from rvforge.log import step

_SIZE = re.compile(r"^\d+x\d+$")


def bench_command(sizes: str | None, quick: bool, output: Path, model: str | None = None,
                  threads: int | str | None = None, mkldnn: str | None = None) -> list[str]:
    """The ``python -m magiceraser.bench`` command line for these task options."""
    cmd = [sys.executable, "-m", "magiceraser.bench", "--output", str(output)]
    if model:
        if not Path(model).expanduser().exists():
            raise ForgeError(f"--model {model}: no such file or directory",
                             hint="give a big-lama directory, its models/best.ckpt or big-lama.pt "
                                  "(`invoke fetch-model` installs one)")
        cmd += ["--model", str(Path(model).expanduser())]
    if threads is not None:
        if not str(threads).isdigit() or int(threads) < 1:
            raise ForgeError(f"bad --threads value {threads!r}", hint="give a whole number of at least 1")
        cmd += ["--threads", str(int(threads))]
    if mkldnn is not None:
        if mkldnn not in ("on", "off", "both"):
            raise ForgeError(f"bad --mkldnn value {mkldnn!r}", hint="use on, off or both")
        cmd += ["--mkldnn", mkldnn]
    if sizes:
        parts = [part.strip().lower() for part in sizes.split(",") if part.strip()]
        bad = [part for part in parts if not _SIZE.match(part)]
        if bad or not parts:
            raise ForgeError(f"bad --sizes value {sizes!r}",
                             hint="give sizes as WxH, comma-separated: 1280x720,1920x1080")
        cmd += ["--sizes", ",".join(parts)]
    if quick:
        cmd.append("--quick")
    return cmd


def main(sizes: str | None = None, quick: bool = False, output: str | None = None, model: str | None = None,
         threads: str | None = None, mkldnn: str | None = None) -> None:
    target = Path(output) if output else REPO_ROOT / "docs" / "benchmarks.md"
    cmd = bench_command(sizes, quick, target, model, threads, mkldnn)
    for module in ("magiceraser", "torch", "skimage"):
        if importlib.util.find_spec(module) is None:
            raise ForgeError(f"the benchmark needs {module}, which this Python ({sys.executable}) cannot import",
                             hint="run `bash ci/setup.sh --dev` and use .venv/bin/invoke")
    with step("eraser benchmark"):
        proc = subprocess.run(cmd, cwd=REPO_ROOT)
    if proc.returncode:
        raise ForgeError(f"the benchmark failed (exit {proc.returncode}); see the output above",
                         hint="re-run with --quick to check the set-up")
