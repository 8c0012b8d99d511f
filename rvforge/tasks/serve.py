"""``invoke serve``: run the eraser in the foreground, from a deployed release or the checkout."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

from rvforge import REPO_ROOT
from rvforge.common import display_host
from rvforge.config import cli_overrides, existing_path
from rvforge.errors import DeployError
from rvforge.log import info, warn
from rvforge.ontarget.release import Layout, current_release
from rvforge.ontarget.service import ServiceConfig
from rvforge.paths import MODEL_PATH_HINT

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def command(prefix: str | None, host: str, port: int, model: str | None) -> tuple[list[str], dict[str, str]]:
    """The release's venv python when a prefix is given, else this python on the checkout's app/."""
    env = dict(os.environ)
    if prefix:
        layout = Layout(Path(prefix).expanduser())
        release = current_release(layout)
        if release is None:
            raise DeployError(f"nothing is deployed under {layout.prefix} (no 'current' release)",
                              hint="run `invoke deploy --prefix PREFIX` first, or drop --prefix to run the checkout")
        python = str(release / "venv" / "bin" / "python")
    else:
        python = sys.executable
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT / "app"), env.get("PYTHONPATH")]))
    args = [python, "-m", "magiceraser", "serve", "--host", host, "--port", str(port)]
    if model:
        args += ["--model", str(Path(model).expanduser())]
    return args, env


def main(host: str | None = None, port: str | None = None, model: str | None = None,
         prefix: str | None = None) -> None:
    """Flags are checked (a port is 1-65535) before anything starts; unset ones take the service defaults."""
    service = dataclasses.replace(ServiceConfig(), **cli_overrides(ServiceConfig, host=host, port=port))
    host, port_number = service.host, service.port
    if model:
        existing_path(model, "--model", MODEL_PATH_HINT)
    args, env = command(prefix, host, port_number, model)
    if host not in LOOPBACK:
        warn(f"--host {host} exposes the eraser to the network: anyone who can reach this machine can "
             "use it and see the photos sent to it")
    info(f"MagicEraser will listen on http://{display_host(host)}:{port_number}/  (Ctrl-C stops it)")
    os.execve(args[0], args, env)
