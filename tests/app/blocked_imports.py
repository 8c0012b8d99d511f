"""Run Python in a child process where chosen packages fail to import, as on a machine without them."""

from __future__ import annotations

import subprocess
import sys

_BLOCKER = """
import sys

BLOCKED = {blocked!r}


class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


assert not any(name.split(".")[0] in BLOCKED for name in sys.modules), "imported before the block"
sys.meta_path.insert(0, NotInstalled())
"""


def run_without(blocked: tuple[str, ...], code: str, *args: str) -> subprocess.CompletedProcess:
    """``python -c CODE ARGS`` with every module of ``blocked`` (submodules too) refused at import.

    ``BLOCKED`` is defined for CODE, so it can check what got imported anyway."""
    return subprocess.run([sys.executable, "-c", _BLOCKER.format(blocked=blocked) + code, *args],
                          capture_output=True, text=True, timeout=60)
