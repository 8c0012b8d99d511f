"""JSON Schema (draft 2020-12) generated from a config dataclass.

Generated from the same annotations and field metadata the loader validates with, so the
schema shipped for editors (e.g. ``# yaml-language-server: $schema=...`` in a recipe) can never
disagree with the tool about types, required fields, bounds or choices.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from rvforge.config.typeinfo import (
    UNION_ORIGINS,
    config_fields,
    is_config_class,
    is_required,
)

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_Defs = dict[str, tuple[type, dict[str, Any]]]  # dataclass name -> (the class, its schema)
_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", Path: "string"}


def json_schema(cls: type, *, schema_id: str | None = None) -> dict[str, Any]:
    """The schema of one config file whose top level is ``cls``; nested dataclasses go in $defs."""
    defs: _Defs = {}
    root = {"$schema": DIALECT, **({"$id": schema_id} if schema_id else {}), "title": cls.__name__,
            **_object(cls, defs)}
    return {**root, "$defs": {name: schema for name, (_, schema) in defs.items()}} if defs else root


def _object(cls: type, defs: _Defs) -> dict[str, Any]:
    properties, required = {}, []
    for f, tp in config_fields(cls):
        prop = _schema(tp, f.metadata, defs)
        if "doc" in f.metadata:
            prop["description"] = f.metadata["doc"]
        if f.default is not dataclasses.MISSING and _is_json(f.default):
            prop["default"] = list(f.default) if isinstance(f.default, tuple) else f.default
        properties[f.name] = prop
        if is_required(f):
            required.append(f.name)
    return {"type": "object", "properties": properties, "required": required,
            "additionalProperties": False}


def _schema(tp: Any, meta: Mapping[str, Any], defs: _Defs) -> dict[str, Any]:
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return {}
    if tp is type(None):
        return {"type": "null"}
    if origin in UNION_ORIGINS:
        return {"anyOf": [_schema(arg, meta, defs) for arg in args]}
    if origin is Literal:
        return {"enum": list(args)}
    if is_config_class(tp):
        name = tp.__name__
        if name not in defs:
            schema: dict[str, Any] = {}
            defs[name] = (tp, schema)  # registered before filling: a dataclass may contain itself
            schema.update(_object(tp, defs))
        elif defs[name][0] is not tp:
            raise TypeError(f"two config dataclasses are both named {name}")
        return {"$ref": f"#/$defs/{name}"}
    if origin in (list, tuple):
        return {"type": "array", "items": _schema(args[0], meta, defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema(args[1], meta, defs)}
    leaf: dict[str, Any] = {"type": _TYPES[tp]}
    if "choices" in meta:
        leaf["enum"] = list(meta["choices"])
    if "min" in meta:
        leaf["minimum"] = meta["min"]
    if "max" in meta:
        leaf["maximum"] = meta["max"]
    if "pattern" in meta:
        leaf["pattern"] = f"^(?:{meta['pattern']})$"  # JSON Schema searches; the loader full-matches
    return leaf


def _is_json(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_is_json(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))
