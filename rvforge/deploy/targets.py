"""Deploy targets (configs/targets/*.yaml or a path): where and how the eraser is installed.

A target without ``host`` is this machine; with ``host`` it is reached over OpenSSH. A target
file is the release ``Settings`` (defaults live there) plus the ssh fields, validated by the one
config loader.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from rvforge import REPO_ROOT
from rvforge.config import check_known_fields, from_mapping, load_yaml
from rvforge.errors import ConfigError
from rvforge.ontarget.settings import Settings

TARGETS_DIR = REPO_ROOT / "configs" / "targets"
#: Fields of a target file that are neither release settings nor ssh fields.
_OWN_KEYS = ("name", "description", "data_dir")


@dataclass(frozen=True)
class SshTarget:
    host: str
    port: int = field(default=22, metadata={"min": 1, "max": 65535})
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
    raise ConfigError(f"{where}: torch must be wheelhouse, system or 'wheel: PATH', not {value!r}",
                      hint="set torch to wheelhouse, system or {wheel: /path/to/torch-*.whl}")


def _resolve_path(name: str) -> Path:
    candidate = Path(name).expanduser()
    if candidate.suffix in (".yaml", ".yml") or "/" in name:
        if not candidate.is_file():
            raise ConfigError(f"target file {candidate} does not exist",
                              hint="give a name from configs/targets or the path of an existing target .yaml")
        return candidate
    path = TARGETS_DIR / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in TARGETS_DIR.glob("*.yaml"))
        raise ConfigError(f"unknown deploy target '{name}'",
                          hint=f"use one of: {', '.join(known)} or a path to a target .yaml")
    return path


def load(name: str = "local") -> DeployTarget:
    """Read a target by name (configs/targets/NAME.yaml) or path; every field is type-checked."""
    path = _resolve_path(name)
    data = load_yaml(path)
    known = [*_OWN_KEYS, *(f.name for f in fields(Settings) if f.name != "wheelhouse"),
             *(f.name for f in fields(SshTarget))]
    check_known_fields(data, sorted(known), str(path))
    settings_part = {f.name: data[f.name] for f in fields(Settings) if f.name in data}
    settings_part["torch"] = normalize_torch(data["torch"], f"{path}: torch") if "torch" in data else ""
    if data.get("data_dir") is not None:
        service = settings_part.get("service")
        settings_part["service"] = {"data_dir": data["data_dir"], **(service if isinstance(service, dict) else {})}
    settings = from_mapping(Settings, settings_part, str(path))
    ssh = None
    if data.get("host") is not None:
        ssh = from_mapping(SshTarget, {f.name: data[f.name] for f in fields(SshTarget) if f.name in data}, str(path))
    label = data.get("name")
    return DeployTarget(name=label if isinstance(label, str) and label else path.stem, settings=settings, ssh=ssh,
                        path=path)
