"""A parsed mapping checked against a config dataclass, field by field.

The dataclass's annotations are the schema and its field defaults the only defaults, so a bad
field anywhere is one ConfigError naming the place (file or flag), the dotted field and the
expected type. A ``__post_init__`` raises ``Invalid`` (or any ValueError) for checks a type
cannot express; it is reported the same way.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, cast, get_args, get_origin

from rvforge.config.typeinfo import (
    SCALARS,
    UNION_ORIGINS,
    config_fields,
    describe,
    got,
    is_config_class,
    is_required,
    tag_choices,
    tag_field,
)
from rvforge.errors import ConfigError

T = TypeVar("T")
_WORDS = {"true": True, "yes": True, "on": True, "1": True,
          "false": False, "no": False, "off": False, "0": False}


class Invalid(ValueError):
    """Raised by a config dataclass's ``__post_init__``; ``field`` names one of its fields."""

    def __init__(self, message: str, *, field: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.field, self.hint = field, hint


class Mismatch(Exception):
    """A value that failed, and where; it becomes a ConfigError once the place is added."""

    def __init__(self, path: str, problem: str, hint: str) -> None:
        super().__init__(problem)
        self.path, self.problem, self.hint = path, problem, hint

    def error(self, where: str) -> ConfigError:
        place = ": ".join(part for part in (where, self.path) if part)
        return ConfigError(f"{place}: {self.problem}" if place else self.problem, hint=self.hint)


def field_error(where: str, path: str, problem: str, hint: str) -> ConfigError:
    """A check made after loading (e.g. against other files), worded like the loader's own."""
    return Mismatch(path, problem, hint).error(where)


def from_mapping(cls: type[T], data: Any, where: str, *, coerce: bool = False) -> T:
    """Build ``cls`` from a parsed mapping; ``where`` (usually the file) prefixes every error.

    ``coerce`` also accepts strings for numbers, booleans and comma-separated lists (CLI input).
    """
    try:
        return cast(T, convert(cls, data, "", {}, coerce))
    except Mismatch as exc:
        raise exc.error(where) from None


def convert(tp: Any, value: Any, path: str, meta: Mapping[str, Any], coerce: bool) -> Any:
    """``value`` as type ``tp``, or a Mismatch naming the dotted ``path`` inside it."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return value
    if origin in UNION_ORIGINS:
        return _union(tp, args, value, path, meta, coerce)
    if origin is Literal:
        for choice in args:
            if _same(choice, value, coerce):
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
        return origin(convert(args[0], v, f"{path}[{i}]", meta, coerce) for i, v in enumerate(value))
    if origin is dict and args[0] is str:
        if not isinstance(value, Mapping):
            raise _mismatch(path, tp, meta, value)
        for key in value:
            if not isinstance(key, str):
                raise Mismatch(_join(path, key), f"key {key!r} is not a string", "quote the key")
        return {k: convert(args[1], v, _join(path, k), meta, coerce) for k, v in value.items()}
    if tp not in SCALARS:
        raise TypeError(f"config type {tp!r} is not supported")
    result = _scalar(tp, _parse_text(tp, value) if coerce and isinstance(value, str) else value)
    if result is None or not _within(result, meta):
        raise _mismatch(path, tp, meta, value)
    return result


def _mismatch(path: str, tp: Any, meta: Mapping[str, Any], value: Any) -> Mismatch:
    expected = describe(tp, meta)
    text = tp is str or (get_origin(tp) in UNION_ORIGINS and str in get_args(tp))
    quote = " (quote it so YAML keeps it as text)" if text and not isinstance(
        value, (str, dict, list, type(None))) else ""
    return Mismatch(path, f"expected {expected}, got {got(value)}", f"give {path} {expected}{quote}")


def _missing(path: str, name: str, tp: Any, meta: Mapping[str, Any]) -> Mismatch:
    expected = describe(tp, meta)
    return Mismatch(_join(path, name), f"missing required field ({expected})",
                    f"add '{name}' ({expected}) to {path or 'the top level'}")


def _same(choice: Any, value: Any, coerce: bool) -> bool:
    """``value`` spells the Literal ``choice``: same type too (``1`` is not ``'1'`` nor ``true``)."""
    return (value == choice and type(value) is type(choice)) or (coerce and value == str(choice))


def _join(path: str, name: Any) -> str:
    return f"{path}.{name}" if path else str(name)


def _refuse_unknown(value: Mapping[Any, Any], known: Sequence[str], path: str) -> None:
    """A key that names no field is a Mismatch with the nearest known name, if any."""
    for key in value:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "remove it"
            raise Mismatch(_join(path, key), "unknown field", f"{hint} (known fields: {', '.join(known)})")


def check_known_fields(data: Mapping[Any, Any], known: Sequence[str], where: str) -> None:
    """Refuse a key no name in ``known`` has, worded like the loader's own (for a file whose
    fields several dataclasses share)."""
    try:
        _refuse_unknown(data, known, "")
    except Mismatch as exc:
        raise exc.error(where) from None


def _dataclass(cls: type, value: Any, path: str, coerce: bool) -> Any:
    if not isinstance(value, Mapping):
        raise _mismatch(path, cls, {}, value)
    fields = {f.name: (f, tp) for f, tp in config_fields(cls)}
    _refuse_unknown(value, list(fields), path)
    kwargs = {}
    for name, (f, tp) in fields.items():
        if name in value:
            kwargs[name] = convert(tp, value[name], _join(path, name), f.metadata, coerce)
        elif is_required(f):
            raise _missing(path, name, tp, f.metadata)
    try:
        return cls(**kwargs)
    except ValueError as exc:  # __post_init__ checks; Invalid may name the field
        field = getattr(exc, "field", "")
        hint = getattr(exc, "hint", "") or f"fix {_join(path, field) or 'the file'}"
        raise Mismatch(_join(path, field) if field else path, str(exc), hint) from None


def _union(tp: Any, args: tuple[Any, ...], value: Any, path: str, meta: Mapping[str, Any],
           coerce: bool) -> Any:
    """The alternative the value's tag names, else the first that fits; a failure deep inside
    one alternative is the real error."""
    if value is None and type(None) in args:
        return None
    alternatives = tuple(arg for arg in args if arg is not type(None))
    tag = tag_field(alternatives)
    if tag and isinstance(value, Mapping):
        choices = tag_choices(alternatives, tag)
        tag_meta = {"choices": tuple(choices)}
        if tag not in value:
            raise _missing(path, tag, str, tag_meta)
        for choice, alternative in choices.items():
            if _same(choice, value[tag], coerce):
                return convert(alternative, value, path, meta, coerce)
        raise _mismatch(_join(path, tag), str, tag_meta, value[tag])
    failures = []
    for arg in alternatives:
        try:
            return convert(arg, value, path, meta, coerce)
        except Mismatch as exc:
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
