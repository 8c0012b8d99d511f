"""``python -m magiceraser.blas``: print the BLAS report (or ``--json``) for one OpenBLAS, self-test one
(``--self-test LIBRARY``: exit code 0 only when it computes right on this CPU), or choose the flavour of
the openblas wheel this machine runs (``--choose-flavour``)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from dataclasses import asdict
from pathlib import Path

from . import cpu, flavours, selftest
from .probe import lines, run, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m magiceraser.blas", description=__doc__)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--library", help="this OpenBLAS file (default: the one loaded after --import, else the "
                       "dynamic linker's libopenblas)")
    where.add_argument("--dir", type=Path, help="the first libopenblas*.so* in this directory")
    where.add_argument("--self-test", metavar="LIBRARY", help="check this OpenBLAS's sgemm, dgemm, sdot and ddot "
                       "against an exact reference in a child process (exit code 1: do not use it)")
    where.add_argument("--choose-flavour", action="store_true", help="self-test the openblas wheel's "
                       "flavours this CPU can run and select the best that passes (else the scalar fallback)")
    parser.add_argument("--timeout", type=float, default=selftest.TIMEOUT,
                        help="seconds the self-test may take before it counts as hung")
    parser.add_argument("--in-process", action="store_true",
                        help="run the self-test in this process (the child's side: the library can kill it)")
    parser.add_argument("--import", dest="modules", default="",
                        help="comma-separated modules to import first, so the probe sees the BLAS they load "
                        "(e.g. numpy,torch)")
    parser.add_argument("--seconds", type=float, default=2.0, help="sgemm benchmark time (0: none)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if args.self_test is not None:
        return _self_test(args.self_test, args.timeout, args.in_process, args.json)
    if args.choose_flavour:
        return _choose_flavour(args.timeout, args.json)
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


def _self_test(library: str, timeout: float, in_process: bool, as_json: bool) -> int:
    if in_process:
        return selftest.child_main(library)
    result = selftest.run(library, timeout)
    print(json.dumps(asdict(result), indent=2) if as_json else result.text, flush=True)
    return 0 if result.passed else 1


def _choose_flavour(timeout: float, as_json: bool) -> int:
    package = flavours.installed()
    if package is None:
        text = f"no {flavours.PACKAGE} installed: numpy and torch use the BLAS they were linked with"
        print(json.dumps({"flavour": None, "text": text}) if as_json else text, flush=True)
        return 0
    choice = flavours.choose(package, cpu.detect()[0], timeout)
    print(json.dumps({**asdict(choice), "text": choice.text}, indent=2) if as_json else choice.text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
