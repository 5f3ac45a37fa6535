"""JSON Schema ↔ Gemini Schema."""

from __future__ import annotations

from omniroute.formats.gemini import schema as gemini_schema


def test_schema_to_gemini_inlines_refs_and_drops_unsupported_keys() -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": False,
        "$defs": {
            "Pet": {"type": "object", "properties": {"kind": {"const": "cat"}, "age": {"type": ["integer", "null"]}}}
        },
        "properties": {
            "pet": {"$ref": "#/$defs/Pet", "description": "the pet"},
            "tags": {"type": "array", "items": {"type": "string", "format": "email"}, "minItems": 1},
            "when": {"type": "string", "format": "date-time"},
            "either": {"oneOf": [{"type": "string"}, {"type": "number"}]},
            "level": {"type": "integer", "enum": [1, 2]},
            "multi": {"type": ["string", "integer"]},
        },
        "required": ["pet"],
    }
    assert gemini_schema.to_gemini(schema) == {
        "type": "OBJECT",
        "properties": {
            "pet": {"type": "OBJECT",
                    "properties": {"kind": {"enum": ["cat"]}, "age": {"type": "INTEGER", "nullable": True}},
                    "description": "the pet"},
            "tags": {"type": "ARRAY", "items": {"type": "STRING"}, "minItems": 1},
            "when": {"type": "STRING", "format": "date-time"},
            "either": {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}]},
            "level": {"type": "INTEGER"},
            "multi": {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]},
        },
        "required": ["pet"],
    }  # fmt: skip


def test_recursive_schema_is_cut() -> None:
    schema = {
        "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
        "$ref": "#/$defs/Node",
    }
    out = gemini_schema.to_gemini(schema)
    depth = 0
    while "properties" in out:
        out, depth = out["properties"]["next"], depth + 1
    assert 5 < depth < 20
