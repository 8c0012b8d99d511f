"""Config files in: YAML text to a mapping (strictly: a duplicate key is an error, not "last one
wins"), then to a config dataclass. Every problem is a ConfigError naming the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml

from rvforge.config.typeinfo import got
from rvforge.config.validate import from_mapping
from rvforge.errors import ConfigError

T = TypeVar("T")
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _unique_keys(loader: _StrictLoader, node: yaml.MappingNode) -> Any:
    seen: set[str] = set()
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode) and key.tag != _MERGE_TAG:
            if key.value in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark,
                    f"found duplicate key '{key.value}'", key.start_mark)
            seen.add(key.value)
    yield from loader.construct_yaml_map(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_keys)


def load_yaml(path: Path | str) -> dict[str, Any]:
    """The top-level mapping of a YAML file (empty file: ``{}``); any problem is a ConfigError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"{path}: cannot read: {reason}",
                          hint="check that the path names a readable UTF-8 YAML file") from exc
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: {at}invalid YAML: {problem}",
                          hint="fix the YAML at that position (indentation, a missing ':', "
                               "or quote a value containing ': ' or ' #')") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of fields at the top level, got {got(data)}",
                          hint="write the file as 'field: value' lines")
    return data


def load_file(cls: type[T], path: Path | str) -> T:
    """Read and validate one YAML config file into ``cls``."""
    return from_mapping(cls, load_yaml(path), str(path))
