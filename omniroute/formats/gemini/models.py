"""``GET /v1beta/models``: the gateway's models as the ``google-genai`` SDK's ``models.list()``
reads them."""

from __future__ import annotations

import msgspec

from omniroute.formats.gemini.wire import ENCODER


class ModelInfo(msgspec.Struct, rename="camel", omit_defaults=True):
    name: str
    display_name: str
    version: str = "001"
    description: str = ""
    supported_generation_methods: list[str] = msgspec.field(
        default_factory=lambda: ["generateContent", "streamGenerateContent", "countTokens"]
    )


class ModelList(msgspec.Struct):
    models: list[ModelInfo]


def encode_model_list(models: list[str]) -> bytes:
    """``GET /v1beta/models``: the body the ``google-genai`` SDK's ``models.list()`` reads."""
    items = [
        ModelInfo(name=m if m.startswith("models/") else f"models/{m}", display_name=m.removeprefix("models/"))
        for m in models
    ]
    return ENCODER.encode(ModelList(items))
