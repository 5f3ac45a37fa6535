"""Ollama errors: ``{"error": "message"}`` (a stream record of that shape makes the ``ollama`` SDK
raise ``ResponseError``); an over-long prompt is worded as OpenAI words it (Ollama itself
truncates)."""

from __future__ import annotations

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.error_words import context_message, recognise
from omniroute.formats.ollama.wire import ENCODER
from omniroute.formats.openai_chat.errors import CONTEXT_WORDS

#: the HTTP status of an overload in this dialect
OVERLOADED_STATUS = 503


class _ErrorBody(msgspec.Struct):
    error: str


def encode_error(err: GatewayError) -> bytes:
    if err.kind is ErrorKind.CONTEXT_LENGTH:  # Ollama itself truncates; say it as OpenAI does
        return ENCODER.encode(_ErrorBody(context_message(err, *CONTEXT_WORDS)))
    return ENCODER.encode(_ErrorBody(err.message))


def encode_stream_error(err: GatewayError) -> bytes:
    """The NDJSON record ending a failed stream (the ``ollama`` SDK raises ``ResponseError``)."""
    return encode_error(err) + b"\n"


def decode_error(status: int, body: bytes, provider: str | None = None) -> GatewayError:
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        value = body[:500].decode("utf-8", "replace").strip()
    message = value.get("error") if isinstance(value, dict) else value
    text = message if isinstance(message, str) else ""
    return recognise(GatewayError.from_status(status, text or f"upstream answered HTTP {status}", provider))
