"""What a config dataclass declares, read once: its settable fields, their types and metadata,
and those types in words, so the loader, its errors, task help and the JSON schema agree.

Field ``metadata``: ``min``/``max``, ``choices``, ``pattern`` (full match), ``doc``; in lists and
mappings they apply to each item.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

UNION_ORIGINS = (Union, getattr(types, "UnionType", Union))  # Optional[X] and X | None
META_KEYS = frozenset({"min", "max", "choices", "pattern", "doc"})
#: The scalar types a config may use, in words (singular, plural).
SCALARS = {str: ("a string", "strings"), int: ("an integer", "integers"),
           float: ("a number", "numbers"), bool: ("true or false", "true/false values"),
           Path: ("a path", "paths")}


def is_config_class(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def is_required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


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


@cache
def tag_field(alternatives: tuple[Any, ...]) -> str | None:
    """The field that tells a union of dataclasses apart (e.g. ``kind``): one every alternative
    declares as a Literal, with no value shared. The loader then picks the alternative by that
    value, so an error names the right one's fields instead of the union as a whole."""
    if len(alternatives) < 2 or not all(is_config_class(a) for a in alternatives):
        return None
    typed = [{f.name: tp for f, tp in config_fields(a)} for a in alternatives]
    for name in typed[0]:
        values = [get_args(t.get(name)) for t in typed if get_origin(t.get(name)) is Literal]
        flat = [v for group in values for v in group]
        if len(values) == len(typed) and len(flat) == len(set(flat)):
            return name
    return None


def tag_choices(alternatives: tuple[Any, ...], tag: str) -> dict[Any, type]:
    """Tag value -> the alternative that declares it."""
    return {value: alt for alt in alternatives for f, tp in config_fields(alt) if f.name == tag
            for value in get_args(tp)}


def describe(tp: Any, metadata: Mapping[str, Any] | None = None, plural: bool = False) -> str:
    """The type in words, for errors and task help: "an integer >= 1", "a list of strings"."""
    meta = metadata or {}
    origin, args = get_origin(tp), get_args(tp)
    if "choices" in meta or origin is Literal:
        names = ", ".join(str(c) for c in meta.get("choices", args))
        return f"values from: {names}" if plural else f"one of: {names}"
    if origin in UNION_ORIGINS:
        words = dict.fromkeys(describe(a, meta, plural) for a in args if a is not type(None))
        text = " or ".join(words)
        return text + " or null" if type(None) in args else text
    if origin in (list, tuple):
        return ("lists of " if plural else "a list of ") + describe(args[0], meta, True)
    if origin is dict:
        return ("mappings" if plural else "a mapping") + " of names to " + describe(args[1], meta, True)
    if is_config_class(tp):
        return "mappings" if plural else "a mapping"
    if tp is Any:
        return "values" if plural else "any value"
    text = SCALARS[tp][1 if plural else 0]
    if "min" in meta and "max" in meta:
        text += f" from {meta['min']} to {meta['max']}"
    elif "min" in meta or "max" in meta:
        text += f" >= {meta['min']}" if "min" in meta else f" <= {meta['max']}"
    return text + (f" matching {meta['pattern']}" if "pattern" in meta else "")


def got(value: Any) -> str:
    """A value as an error quotes it: what YAML made of it, so "2.10" vs 2.10 is visible."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return f"{value} ({SCALARS.get(type(value), (f'a {type(value).__name__}',))[0]})"
