"""JSON Schema ↔ Gemini ``Schema`` (the OpenAPI 3.0 subset of ``functionDeclarations[].parameters``
and ``responseSchema``).

Encode (JSON Schema → Gemini) keeps only the keys Gemini's ``Schema`` message has
(https://ai.google.dev/api/caching#Schema) and rewrites the rest:

=========================  ==============================================================
JSON Schema                Gemini Schema
=========================  ==============================================================
``type: "string"``         ``type: "STRING"`` (upper case: the proto enum names)
``type: ["x", "null"]``    ``type: "X"`` + ``nullable: true``; several non-null types → anyOf
``$ref`` into ``$defs`` /  inlined (recursion cut at depth 16: the cut node becomes ``{}``)
``definitions``
``oneOf``                  ``anyOf``
``const: "v"``             ``enum: ["v"]`` (string consts only)
``enum`` of non-strings    dropped (Gemini enums are strings)
``format``                 kept only for enum, date-time, int32, int64, float, double
``properties: {}``         dropped (Gemini rejects an OBJECT with empty properties)
dropped                    ``$schema``, ``$id``, ``$defs``, ``additionalProperties``,
                           ``strict``, ``allOf``, ``not``, ``if/then/else``, ``examples``,
                           ``patternProperties``, ... (anything not in ``_KEEP``)
=========================  ==============================================================

Decode (Gemini → JSON Schema) lower-cases ``type``, turns ``nullable`` into a type list and
drops ``propertyOrdering``; ``parametersJsonSchema`` / ``responseJsonSchema`` are already JSON
Schema and are kept as they are.
"""

from __future__ import annotations

from typing import Any

_KEEP = frozenset(
    {
        "default",
        "description",
        "example",
        "maxItems",
        "maxLength",
        "maxProperties",
        "maximum",
        "minItems",
        "minLength",
        "minProperties",
        "minimum",
        "nullable",
        "pattern",
        "propertyOrdering",
        "required",
        "title",
    }
)
_FORMATS = frozenset({"enum", "date-time", "int32", "int64", "float", "double"})
_MAX_DEPTH = 16


def to_gemini(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema → a Gemini ``Schema`` dict (a new object; the input is not modified)."""
    defs = {**_dict(schema.get("definitions")), **_dict(schema.get("$defs"))}
    return _convert(schema, defs, 0)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _convert(schema: dict[str, Any], defs: dict[str, Any], depth: int) -> dict[str, Any]:
    if depth > _MAX_DEPTH:
        return {}
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = defs.get(ref.rsplit("/", 1)[-1])
        schema = {**_dict(target), **{k: v for k, v in schema.items() if k != "$ref"}}
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _KEEP:
            out[key] = value
        elif key in _SPECIAL:
            _SPECIAL[key](out, value, defs, depth + 1)
    return out


def _type(out: dict[str, Any], value: Any, defs: dict[str, Any], depth: int) -> None:
    if isinstance(value, str):
        if value == "null":
            out["nullable"] = True
        else:
            out["type"] = value.upper()
        return
    if not isinstance(value, list):
        return
    kinds = [str(v).upper() for v in value if v != "null"]
    if len(kinds) < len(value):
        out["nullable"] = True
    if len(kinds) == 1:
        out["type"] = kinds[0]
    elif kinds:
        out["anyOf"] = [{"type": k} for k in kinds]


def _properties(out: dict[str, Any], value: Any, defs: dict[str, Any], depth: int) -> None:
    props = {name: _convert(sub, defs, depth) for name, sub in _dict(value).items() if isinstance(sub, dict)}
    if props:
        out["properties"] = props


def _items(out: dict[str, Any], value: Any, defs: dict[str, Any], depth: int) -> None:
    if isinstance(value, dict):
        out["items"] = _convert(value, defs, depth)


def _any_of(out: dict[str, Any], value: Any, defs: dict[str, Any], depth: int) -> None:
    if isinstance(value, list):
        out["anyOf"] = [_convert(s, defs, depth) for s in value if isinstance(s, dict)]


def _enum(out: dict[str, Any], value: Any, defs: dict[str, Any], depth: int) -> None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        out["enum"] = value


def _const(out: dict[str, Any], value: Any, defs: dict[str, Any], depth: int) -> None:
    if isinstance(value, str):
        out["enum"] = [value]


def _format(out: dict[str, Any], value: Any, defs: dict[str, Any], depth: int) -> None:
    if value in _FORMATS:
        out["format"] = value


_SPECIAL = {
    "type": _type,
    "properties": _properties,
    "items": _items,
    "anyOf": _any_of,
    "oneOf": _any_of,
    "enum": _enum,
    "const": _const,
    "format": _format,
}


def from_gemini(schema: Any) -> Any:
    """A Gemini ``Schema`` → JSON Schema: lower-case types, ``nullable`` → ``[type, "null"]``."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: from_gemini(sub) for name, sub in value.items()}
        elif key == "items":
            out[key] = from_gemini(value)
        elif key == "anyOf" and isinstance(value, list):
            out[key] = [from_gemini(sub) for sub in value]
        elif key == "type" and isinstance(value, str):
            out[key] = value.lower()
        elif key not in ("nullable", "propertyOrdering"):
            out[key] = value
    if schema.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out
