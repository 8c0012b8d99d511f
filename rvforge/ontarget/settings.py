"""What one deploy on the target needs, passed to it as JSON (``--settings``); defaults live here."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rvforge.ontarget import release as rel
from rvforge.ontarget import service as svc

TORCH_PROVIDERS = ("wheelhouse", "system", "wheel:PATH")


@dataclass(frozen=True)
class Settings:
    prefix: str
    wheelhouse: str = ""
    python: str = "python3"
    torch: str = "wheelhouse"  # wheelhouse | system | wheel:PATH
    keep: int = 3
    manager: str = "auto"  # auto | systemd | pidfile
    health_timeout: float = 120.0
    service: svc.ServiceConfig = field(default_factory=svc.ServiceConfig)

    @classmethod
    def from_json(cls, text: str) -> "Settings":
        data = json.loads(text)
        data["service"] = svc.ServiceConfig(**data.get("service", {}))
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @property
    def layout(self) -> rel.Layout:
        return rel.Layout(Path(os.path.expanduser(self.prefix)))
