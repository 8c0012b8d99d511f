"""Command-line flags checked like file fields: the same types and bounds, errors named by flag."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rvforge.config.typeinfo import config_fields
from rvforge.config.validate import Mismatch, convert
from rvforge.errors import ConfigError


def parse_value(tp: Any, raw: str, flag: str, metadata: Mapping[str, Any] | None = None) -> Any:
    """A command-line string as type ``tp``; errors name the flag (``--keep: expected ...``)."""
    try:
        return convert(tp, raw, flag, metadata or {}, True)
    except Mismatch as exc:
        raise exc.error("") from None


def existing_path(raw: str, flag: str, hint: str) -> Path:
    """A path flag that must name something that exists, checked before any work starts."""
    path = Path(raw).expanduser()
    if not path.exists():
        raise ConfigError(f"{flag} {raw}: no such file or directory", hint=hint)
    return path


def cli_overrides(cls: type, **raw: Any) -> dict[str, Any]:
    """Validated values of the flags actually given (None = not given), keyed by field name,
    ready for ``dataclasses.replace``; flag ``keep_days`` is reported as ``--keep-days``."""
    known = {f.name: (f, tp) for f, tp in config_fields(cls)}
    overrides = {}
    for name, text in raw.items():
        if name not in known:
            raise TypeError(f"{cls.__name__} has no field {name!r}")
        if text is not None:
            f, tp = known[name]
            overrides[name] = parse_value(tp, text, "--" + name.replace("_", "-"), f.metadata)
    return overrides
