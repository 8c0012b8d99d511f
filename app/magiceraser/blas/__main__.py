"""``python -m magiceraser.blas``: print the BLAS report (or ``--json``) for one OpenBLAS."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from .probe import lines, run, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m magiceraser.blas", description=__doc__)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--library", help="this OpenBLAS file (default: the one loaded after --import, else the "
                       "dynamic linker's libopenblas)")
    where.add_argument("--dir", type=Path, help="the first libopenblas*.so* in this directory")
    parser.add_argument("--import", dest="modules", default="",
                        help="comma-separated modules to import first, so the probe sees the BLAS they load "
                        "(e.g. numpy,torch)")
    parser.add_argument("--seconds", type=float, default=2.0, help="sgemm benchmark time (0: none)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    for name in filter(None, (part.strip() for part in args.modules.split(","))):
        try:
            importlib.import_module(name)
        except ImportError as exc:
            print(f"--import {name}: {exc}; probing without it", file=sys.stderr)
    report = run(args.library, directory=args.dir, seconds=max(0.0, args.seconds))
    if args.json:
        print(json.dumps({**report, "summary": summary(report), "lines": lines(report)}, indent=2), flush=True)
    else:
        print("\n".join(lines(report)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
