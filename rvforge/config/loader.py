"""One validating loader for every config: recipes, profiles, targets, ``invoke.yaml``, CLI flags.

A config is a dataclass: its annotations are the schema and its field defaults the only defaults,
so a bad field anywhere is one ConfigError naming the file (or flag), the dotted field and the
expected type. Field ``metadata``: ``min``/``max``, ``choices``, ``pattern`` (full match), ``doc``;
in lists and mappings they apply to each item. A ``__post_init__`` raises ``Invalid`` (or any
ValueError) for checks a type cannot express; the loader reports it the same way.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import (
    Any,
    Literal,
    TypeVar,
    Union,
    cast,
    get_args,
    get_origin,
    get_type_hints,
)

import yaml

from rvforge.errors import ConfigError

T = TypeVar("T")
UNION_ORIGINS = (Union, getattr(types, "UnionType", Union))  # Optional[X] and X | None
META_KEYS = frozenset({"min", "max", "choices", "pattern", "doc"})
_NAMES = {str: ("a string", "strings"), int: ("an integer", "integers"),
          float: ("a number", "numbers"), bool: ("true or false", "true/false values"),
          Path: ("a path", "paths")}
_WORDS = {"true": True, "yes": True, "on": True, "1": True,
          "false": False, "no": False, "off": False, "0": False}
_MERGE_TAG = "tag:yaml.org,2002:merge"


class Invalid(ValueError):
    """Raised by a config dataclass's ``__post_init__``; ``field`` names one of its fields."""

    def __init__(self, message: str, *, field: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.field, self.hint = field, hint


class _Mismatch(Exception):
    """A value that failed, and where; it becomes a ConfigError once the file name is added."""

    def __init__(self, path: str, problem: str, hint: str) -> None:
        super().__init__(problem)
        self.path, self.problem, self.hint = path, problem, hint

    def error(self, where: str) -> ConfigError:
        place = ": ".join(part for part in (where, self.path) if part)
        return ConfigError(f"{place}: {self.problem}" if place else self.problem, hint=self.hint)


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
        raise ConfigError(f"{path}: expected a mapping of fields at the top level, got {_got(data)}",
                          hint="write the file as 'field: value' lines")
    return data


@cache
def config_fields(cls: type) -> tuple[tuple[dataclasses.Field[Any], Any], ...]:
    """The settable fields of a config dataclass with their resolved types (``init=False`` ones
    are computed, not configured, so they are left out)."""
    if not is_config_class(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = get_type_hints(cls)
    result = []
    for f in dataclasses.fields(cls):
        unknown = set(f.metadata) - META_KEYS
        if unknown:
            raise TypeError(f"{cls.__name__}.{f.name}: unknown metadata {sorted(unknown)}")
        if f.init:
            result.append((f, hints[f.name]))
    return tuple(result)


def is_required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def is_config_class(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def from_mapping(cls: type[T], data: Any, where: str, *, coerce: bool = False) -> T:
    """Build ``cls`` from a parsed mapping; ``where`` (usually the file) prefixes every error.

    ``coerce`` also accepts strings for numbers, booleans and comma-separated lists (CLI input).
    """
    try:
        return cast(T, _dataclass(cls, data, "", coerce))
    except _Mismatch as exc:
        raise exc.error(where) from None


def load_file(cls: type[T], path: Path | str) -> T:
    """Read and validate one YAML config file into ``cls``."""
    return from_mapping(cls, load_yaml(path), str(path))


def parse_value(tp: Any, raw: str, flag: str, metadata: Mapping[str, Any] | None = None) -> Any:
    """A command-line string as type ``tp``; errors name the flag (``--keep: expected ...``)."""
    try:
        return _convert(tp, raw, flag, metadata or {}, True)
    except _Mismatch as exc:
        raise exc.error("") from None


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


def describe(tp: Any, metadata: Mapping[str, Any] | None = None, plural: bool = False) -> str:
    """The type in words, for errors and task help: "an integer >= 1", "a list of strings"."""
    meta = metadata or {}
    origin, args = get_origin(tp), get_args(tp)
    if "choices" in meta or origin is Literal:
        names = ", ".join(str(c) for c in meta.get("choices", args))
        return f"values from: {names}" if plural else f"one of: {names}"
    if origin in UNION_ORIGINS:
        text = " or ".join(describe(a, meta, plural) for a in args if a is not type(None))
        return text + " or null" if type(None) in args else text
    if origin in (list, tuple):
        return ("lists of " if plural else "a list of ") + describe(args[0], meta, True)
    if origin is dict:
        return ("mappings" if plural else "a mapping") + " of names to " + describe(args[1], meta, True)
    if is_config_class(tp):
        return "mappings" if plural else "a mapping"
    if tp is Any:
        return "values" if plural else "any value"
    text = _NAMES[tp][1 if plural else 0]
    if "min" in meta and "max" in meta:
        text += f" from {meta['min']} to {meta['max']}"
    elif "min" in meta or "max" in meta:
        text += f" >= {meta['min']}" if "min" in meta else f" <= {meta['max']}"
    return text + (f" matching {meta['pattern']}" if "pattern" in meta else "")


def _got(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return f"{value} ({_NAMES.get(type(value), (f'a {type(value).__name__}',))[0]})"


def _mismatch(path: str, tp: Any, meta: Mapping[str, Any], value: Any) -> _Mismatch:
    expected = describe(tp, meta)
    quote = " (quote it so YAML keeps it as text)" if tp is str and not isinstance(
        value, (str, dict, list, type(None))) else ""
    return _Mismatch(path, f"expected {expected}, got {_got(value)}", f"give {path} {expected}{quote}")


def _join(path: str, name: Any) -> str:
    return f"{path}.{name}" if path else str(name)


def _dataclass(cls: type, value: Any, path: str, coerce: bool) -> Any:
    if not isinstance(value, Mapping):
        raise _mismatch(path, cls, {}, value)
    fields = {f.name: (f, tp) for f, tp in config_fields(cls)}
    for key in value:
        if key not in fields:
            close = difflib.get_close_matches(str(key), fields, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "remove it"
            raise _Mismatch(_join(path, key), "unknown field",
                            f"{hint} (known fields: {', '.join(fields)})")
    kwargs = {}
    for name, (f, tp) in fields.items():
        if name in value:
            kwargs[name] = _convert(tp, value[name], _join(path, name), f.metadata, coerce)
        elif is_required(f):
            expected = describe(tp, f.metadata)
            raise _Mismatch(_join(path, name), f"missing required field ({expected})",
                            f"add '{name}' ({expected}) to {path or 'the top level'}")
    try:
        return cls(**kwargs)
    except ValueError as exc:  # __post_init__ checks; Invalid may name the field
        field = getattr(exc, "field", "")
        hint = getattr(exc, "hint", "") or f"fix {_join(path, field) or 'the file'}"
        raise _Mismatch(_join(path, field) if field else path, str(exc), hint) from None


def _convert(tp: Any, value: Any, path: str, meta: Mapping[str, Any], coerce: bool) -> Any:
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return value
    if origin in UNION_ORIGINS:
        return _union(tp, args, value, path, meta, coerce)
    if origin is Literal:
        for choice in args:
            if (value == choice and type(value) is type(choice)) or (coerce and value == str(choice)):
                return choice
        raise _mismatch(path, tp, meta, value)
    if is_config_class(tp):
        return _dataclass(tp, value, path, coerce)
    if origin in (list, tuple):
        if origin is tuple and (len(args) != 2 or args[1] is not Ellipsis):
            raise TypeError(f"config type {tp} is not supported: use tuple[X, ...]")
        if coerce and isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, (list, tuple)):
            raise _mismatch(path, tp, meta, value)
        return origin(_convert(args[0], v, f"{path}[{i}]", meta, coerce) for i, v in enumerate(value))
    if origin is dict and args[0] is str:
        if not isinstance(value, Mapping):
            raise _mismatch(path, tp, meta, value)
        for key in value:
            if not isinstance(key, str):
                raise _Mismatch(_join(path, key), f"key {key!r} is not a string", "quote the key")
        return {k: _convert(args[1], v, _join(path, k), meta, coerce) for k, v in value.items()}
    if tp not in _NAMES:
        raise TypeError(f"config type {tp!r} is not supported")
    result = _scalar(tp, _parse_text(tp, value) if coerce and isinstance(value, str) else value)
    if result is None or not _within(result, meta):
        raise _mismatch(path, tp, meta, value)
    return result


def _union(tp: Any, args: tuple[Any, ...], value: Any, path: str, meta: Mapping[str, Any],
           coerce: bool) -> Any:
    """The first alternative that fits; a failure deep inside one alternative is the real error."""
    if value is None and type(None) in args:
        return None
    failures = []
    for arg in args:
        if arg is not type(None):
            try:
                return _convert(arg, value, path, meta, coerce)
            except _Mismatch as exc:
                failures.append(exc)
    deepest = max(failures, key=lambda exc: len(exc.path))
    raise deepest if len(deepest.path) > len(path) else _mismatch(path, tp, meta, value)


def _parse_text(tp: Any, text: str) -> Any:
    """A CLI string as ``tp`` where it spells one; otherwise the text, which then fails the check."""
    text = text.strip()
    if tp is int and re.fullmatch(r"[+-]?[0-9]+", text):
        return int(text)
    if tp is float and re.fullmatch(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", text):
        return float(text)
    return _WORDS.get(text.lower(), text) if tp is bool else text


def _scalar(tp: type, value: Any) -> Any:
    """``value`` as ``tp``, or None when it is not one (a bool is never a number)."""
    if isinstance(value, bool) != (tp is bool):
        return None
    if tp is float and isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if tp is Path and isinstance(value, (str, Path)):
        return Path(value) if str(value) else None
    return value if isinstance(value, tp) else None


def _within(value: Any, meta: Mapping[str, Any]) -> bool:
    return (("choices" not in meta or value in meta["choices"])
            and ("min" not in meta or value >= meta["min"])
            and ("max" not in meta or value <= meta["max"])
            and ("pattern" not in meta or re.fullmatch(meta["pattern"], str(value)) is not None))
