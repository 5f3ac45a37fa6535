"""``GET /api/tags`` and ``POST /api/show``: the gateway's models as locally installed Ollama models."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import msgspec

from omniroute.formats.ollama.wire import ENCODER, encode_created


class _Details(msgspec.Struct):
    parent_model: str = ""
    format: str = "gguf"
    family: str = ""
    families: list[str] | None = None
    parameter_size: str = ""
    quantization_level: str = ""


class _TagModel(msgspec.Struct):
    name: str
    model: str
    modified_at: str
    size: int
    digest: str
    details: _Details


class _Tags(msgspec.Struct):
    models: list[_TagModel]


class _Show(msgspec.Struct):
    modelfile: str
    parameters: str
    template: str
    details: _Details
    model_info: dict[str, Any]
    capabilities: list[str]
    modified_at: str


def encode_tags(models: list[str]) -> bytes:
    """``GET /api/tags``: the gateway's models as locally installed Ollama models."""
    now = encode_created(int(time.time()))
    items = [_TagModel(m, m, now, 0, hashlib.sha256(m.encode()).hexdigest(), _Details()) for m in models]
    return ENCODER.encode(_Tags(items))


def encode_show(model: str) -> bytes:
    """``POST /api/show`` for ``model`` (the gateway knows no Modelfile: fields are empty)."""
    now = encode_created(int(time.time()))
    return ENCODER.encode(_Show("", "", "", _Details(), {}, ["completion", "tools"], now))
