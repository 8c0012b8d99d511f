"""``invoke deploy``: the wheelhouse becomes a running eraser, locally or on a host over ssh.

Here (on the machine with the checkout) the app wheel is built into the wheelhouse and the
target's settings are resolved; the release steps themselves live in ``rvforge.ontarget`` and
run in-process for ``local`` or as ``python3 -m rvforge.ontarget`` on a remote target.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rvforge import REPO_ROOT
from rvforge.config import cli_overrides
from rvforge.deploy import bundle, targets
from rvforge.deploy.remote import Ssh
from rvforge.errors import ConfigError, DeployError
from rvforge.host.facts import detect
from rvforge.host.profiles import select
from rvforge.log import info, step, warn
from rvforge.ontarget import actions
from rvforge.ontarget.release import offline_pip_env
from rvforge.ontarget.service import ServiceConfig
from rvforge.ontarget.settings import Settings
from rvforge.paths import models_dir, user_data_dir

DEFAULT_WHEELHOUSE = REPO_ROOT / "wheelhouse"
APP_DIR = REPO_ROOT / "app"


def build_app_wheel(wheelhouse: Path) -> Path:
    """``pip wheel --no-deps`` of app/ (from a clean copy, so the checkout gains no build files)."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    for stale in wheelhouse.glob("magiceraser-*.whl"):
        stale.unlink()
    with tempfile.TemporaryDirectory(prefix="rvforge-app-") as tmp:
        src = Path(tmp) / "app"
        shutil.copytree(APP_DIR, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                               "--no-index", "-w", str(wheelhouse), str(src)],
                              capture_output=True, text=True, env=offline_pip_env())
    built = sorted(wheelhouse.glob("magiceraser-*.whl"))
    if proc.returncode != 0 or not built:
        raise DeployError(f"building the magiceraser wheel failed:\n{proc.stdout[-1500:]}{proc.stderr[-1500:]}",
                          hint="the tool's venv needs setuptools and wheel (bash ci/setup.sh installs them)")
    return built[-1]


def default_torch() -> str:
    """The distro profile's provider for this machine; the wheelhouse when no profile matches."""
    try:
        return select(detect()).torch_provider
    except ConfigError:
        return "wheelhouse"


def resolve_settings(target: targets.DeployTarget, prefix: str | None, wheelhouse: Path, torch: str | None,
                     keep: str | None, port: str | None) -> Settings:
    """Command-line flags over the target file over defaults; flags are checked like file fields."""
    s = dataclasses.replace(target.settings, **cli_overrides(Settings, keep=keep))
    service = dataclasses.replace(s.service, **cli_overrides(ServiceConfig, port=port))
    if target.ssh is None and not service.data_dir:
        service = dataclasses.replace(service, data_dir=str(user_data_dir()))
    return dataclasses.replace(
        s,
        prefix=prefix or s.prefix,
        wheelhouse=str(wheelhouse),
        torch=targets.normalize_torch(torch, "--torch") if torch else (s.torch or (
            default_torch() if target.ssh is None else "wheelhouse")),
        service=service,
    )


def warn_without_model(settings: Settings) -> None:
    if settings.service.model:
        return
    if not any((models_dir() / name).exists() for name in ("big-lama", "big-lama.pt")):
        warn(f"no LaMa model under {models_dir()}: run `invoke fetch-model` first "
             "(the eraser starts without it but cannot erase with LaMa)")


def deploy_remote(target: targets.DeployTarget, settings: Settings, action: str) -> None:
    """Copy what changed (wheelhouse, tool, model) and run the same steps on the target."""
    if target.ssh is None:
        raise DeployError(f"target '{target.name}' has no ssh settings: it is not a remote target")
    ssh = Ssh(target.ssh)
    with step(f"connect to {target.ssh.destination}:{target.ssh.port} (host key checked)"):
        home = ssh.connect()

    def absolute(path: str) -> str:
        return home + path[1:] if path.startswith("~") else path

    prefix = absolute(settings.prefix)
    incoming = absolute(target.ssh.remote_dir or f"{prefix}/incoming")
    data_dir = absolute(settings.service.data_dir or "~/.local/share/magiceraser")
    settings = dataclasses.replace(settings, prefix=prefix,
                                   service=dataclasses.replace(settings.service, data_dir=data_dir))
    if action == "deploy":
        settings = _sync_for_deploy(ssh, settings, incoming, data_dir)
    proc = ssh.run(["env", f"PYTHONPATH={incoming}/tool", settings.python, "-m", "rvforge.ontarget",
                    action, "--settings", settings.to_json()], capture=False)
    if proc.returncode != 0:
        raise DeployError(f"{action} on {target.ssh.destination} failed (exit {proc.returncode}); "
                          "see the messages above")


def _sync_for_deploy(ssh: Ssh, settings: Settings, incoming: str, data_dir: str) -> Settings:
    with step("copy the wheelhouse (only what changed)"):
        ssh.copy(Path(settings.wheelhouse), f"{incoming}/wheelhouse", delete=True)
    with step("copy the on-target tool"), tempfile.TemporaryDirectory() as staging:
        ssh.copy(bundle.stage(Path(staging)), f"{incoming}/tool/rvforge", delete=True)
    if os.path.isdir(models_dir()):
        with step("copy the model (only what changed)"):
            ssh.copy(models_dir(), f"{data_dir}/models", excludes=(".incoming-*", "*.tmp", "*.link", ".*.lock"))
    torch = settings.torch
    if torch.startswith("wheel:"):
        wheel = Path(torch.split(":", 1)[1]).expanduser()
        with step(f"copy {wheel.name}"):
            ssh.copy(wheel, f"{incoming}/torch")
        torch = f"wheel:{incoming}/torch/{wheel.name}"
    return dataclasses.replace(settings, wheelhouse=f"{incoming}/wheelhouse", torch=torch)


def main(target_name: str = "local", prefix: str | None = None, rollback: bool = False, status: bool = False,
         logs: bool = False, wheelhouse: str | None = None, torch: str | None = None,
         keep: str | None = None, port: str | None = None) -> None:
    chosen = targets.load(target_name or "local")
    house = Path(wheelhouse).expanduser().resolve() if wheelhouse else DEFAULT_WHEELHOUSE
    settings = resolve_settings(chosen, prefix, house, torch, keep, port)
    action = "rollback" if rollback else "status" if status else "logs" if logs else "deploy"
    if sum((rollback, status, logs)) > 1:
        raise ConfigError("--rollback, --status and --logs exclude each other")
    if action == "deploy":
        warn_without_model(settings)
        with step("build the magiceraser wheel into the wheelhouse"):
            info(f"    {build_app_wheel(house).name}")
    if chosen.ssh is None:
        actions.ACTIONS[action](settings)
    else:
        deploy_remote(chosen, settings, action)
