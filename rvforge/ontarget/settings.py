"""What one deploy on the target needs, passed to it as JSON (``--settings``); defaults live here."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from rvforge.ontarget import release as rel
from rvforge.ontarget import service as svc

TORCH_PROVIDERS = ("wheelhouse", "system", "wheel:PATH")


@dataclass(frozen=True)
class Settings:
    """A release's settings. Every default is written here once; target files and flags override them."""

    prefix: str = field(default="~/.local/lib/magiceraser",
                        metadata={"doc": "install prefix: releases/, current, bin/magiceraserctl, log/"})
    wheelhouse: str = ""
    python: str = field(default="python3", metadata={"doc": "the interpreter the release venvs are made from"})
    torch: str = field(default="wheelhouse", metadata={"doc": "wheelhouse | system | wheel:PATH"})
    keep: int = field(default=3, metadata={"min": 1, "doc": "releases kept for --rollback"})
    manager: Literal["auto", "systemd", "pidfile"] = "auto"
    health_timeout: float = field(default=180.0, metadata={
        "min": 1, "doc": "seconds a new release gets to load the model and answer its health check"})
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
