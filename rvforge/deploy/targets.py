"""Deploy targets (configs/targets/*.yaml or a path): where and how the eraser is installed.

A target without ``host`` is this machine; with ``host`` it is reached over OpenSSH.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from rvforge import REPO_ROOT
from rvforge.errors import ConfigError
from rvforge.ontarget.service import ServiceConfig
from rvforge.ontarget.settings import Settings

TARGETS_DIR = REPO_ROOT / "configs" / "targets"
DEFAULT_PREFIX = "~/.local/lib/magiceraser"

_SETTINGS_KEYS = {"prefix", "python", "torch", "keep", "manager", "health_timeout", "service"}
_SSH_KEYS = {"host", "port", "user", "key", "known_hosts", "data_dir", "remote_dir"}
_SERVICE_KEYS = {f.name for f in fields(ServiceConfig)}


@dataclass(frozen=True)
class SshTarget:
    host: str
    port: int = 22
    user: str | None = None
    key: str | None = None
    known_hosts: str = "~/.ssh/known_hosts"
    remote_dir: str | None = None  # where the wheelhouse and tool are synced (default PREFIX/incoming)

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host


@dataclass(frozen=True)
class DeployTarget:
    name: str
    settings: Settings
    ssh: SshTarget | None = None
    path: Path | None = None


def normalize_torch(value: Any, where: str) -> str:
    """``wheelhouse`` | ``system`` | ``{wheel: PATH}`` | ``wheel:PATH`` -> one string form."""
    if isinstance(value, dict) and set(value) == {"wheel"}:
        return f"wheel:{value['wheel']}"
    if isinstance(value, str) and (value in ("wheelhouse", "system") or value.startswith("wheel:")):
        return value
    raise ConfigError(f"{where}: torch must be wheelhouse, system or 'wheel: PATH', not {value!r}")


def _resolve_path(name: str) -> Path:
    candidate = Path(name).expanduser()
    if candidate.suffix in (".yaml", ".yml") or "/" in name:
        if not candidate.is_file():
            raise ConfigError(f"target file {candidate} does not exist")
        return candidate
    path = TARGETS_DIR / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in TARGETS_DIR.glob("*.yaml"))
        raise ConfigError(f"unknown deploy target '{name}'",
                          hint=f"use one of: {', '.join(known)} or a path to a target .yaml")
    return path


def load(name: str = "local") -> DeployTarget:
    """Read a target by name (configs/targets/NAME.yaml) or path; unknown keys are errors."""
    path = _resolve_path(name)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read target: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a target must be a mapping")
    unknown = set(data) - _SETTINGS_KEYS - _SSH_KEYS - {"name", "description"}
    if unknown:
        raise ConfigError(f"{path}: unknown field(s) {', '.join(sorted(unknown))}")
    service = dict(data.get("service") or {})
    bad = set(service) - _SERVICE_KEYS
    if bad:
        raise ConfigError(f"{path}: unknown service field(s) {', '.join(sorted(bad))}",
                          hint=f"known: {', '.join(sorted(_SERVICE_KEYS))}")
    if data.get("data_dir"):
        service.setdefault("data_dir", str(data["data_dir"]))
    settings = Settings(
        prefix=str(data.get("prefix") or DEFAULT_PREFIX),
        python=str(data.get("python") or "python3"),
        torch=normalize_torch(data["torch"], str(path)) if "torch" in data else "",
        keep=int(data.get("keep", 3)),
        manager=str(data.get("manager", "auto")),
        health_timeout=float(data.get("health_timeout", 120)),
        service=ServiceConfig(**service),
    )
    ssh = None
    if data.get("host"):
        ssh = SshTarget(host=str(data["host"]), port=int(data.get("port", 22)), user=data.get("user"),
                        key=data.get("key"), known_hosts=str(data.get("known_hosts") or "~/.ssh/known_hosts"),
                        remote_dir=data.get("remote_dir"))
    return DeployTarget(name=str(data.get("name") or path.stem), settings=settings, ssh=ssh, path=path)
