"""``python3 -m rvforge.ontarget deploy|rollback|status|logs --settings '{json}'`` on the target."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rvforge.errors import ForgeError
from rvforge.ontarget import actions
from rvforge.ontarget.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m rvforge.ontarget")
    parser.add_argument("action", choices=sorted([*actions.ACTIONS, "switch"]))
    parser.add_argument("--settings", required=True, help="Settings as JSON")
    parser.add_argument("--release", help="switch: the release dir (run by deploy and rollback, detached)")
    args = parser.parse_args(argv)
    if args.action == "switch" and not args.release:
        parser.error("switch needs --release")
    try:
        settings = Settings.from_json(args.settings)
        if args.action == "switch":
            actions.switch(settings, Path(args.release))
        else:
            actions.ACTIONS[args.action](settings)
    except ForgeError as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        return err.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
