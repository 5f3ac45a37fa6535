"""Anthropic Messages: the wire vocabulary shared by requests, answers and streams.

Validation (a msgspec error → ``INVALID_REQUEST`` naming the dotted path), usage, stop reasons
and the message object of answers and ``message_start``. The mapping tables, and what is
lossy, are in the docstring of ``omniroute.formats.anthropic``; content blocks are in
``content``, error types in ``errors``.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from omniroute.canonical import StopReason, Usage
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.error_words import unsupported_role

NAME = "anthropic"
SOURCE = "anthropic"
T = TypeVar("T")

json_encode = msgspec.json.Encoder().encode
json_decode = msgspec.json.decode


def invalid(exc: msgspec.ValidationError, base: str = "") -> GatewayError:
    """A msgspec validation error → ``INVALID_REQUEST`` naming the dotted path under ``base``."""
    head, sep, at = str(exc).partition(" - at `$")
    path = base + (at[:-1] if sep else "")
    if head.startswith("Object missing required field `"):
        field = head.split("`")[1]
        path = f"{path}.{field}".lstrip(".")
        return GatewayError(ErrorKind.INVALID_REQUEST, f"missing required field `{path}`", param=path)
    path = path.lstrip(".")
    if path.endswith(".role") and head.startswith("Invalid enum value "):
        return unsupported_role(SOURCE, head[19:].strip("'"), path)
    message = f"{head} at `{path}`" if path else head
    return GatewayError(ErrorKind.INVALID_REQUEST, message, param=path or None)


def convert(obj: Any, typ: type[T], path: str) -> T:
    try:
        return msgspec.convert(obj, typ)
    except msgspec.ValidationError as exc:
        raise invalid(exc, path) from None


class OutputDetails(msgspec.Struct):
    thinking_tokens: int = 0


class UsageWire(msgspec.Struct, omit_defaults=True):
    """Anthropic usage; ``None`` = not sent (a ``message_delta`` may omit the input side)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    output_tokens_details: OutputDetails | None = None


def decode_usage(u: UsageWire) -> Usage:
    """Anthropic ``input_tokens`` excludes cache reads/writes; canonical includes them."""
    read = u.cache_read_input_tokens or 0
    written = u.cache_creation_input_tokens or 0
    details = u.output_tokens_details
    return Usage(
        input_tokens=(u.input_tokens or 0) + read + written,
        output_tokens=u.output_tokens or 0,
        cached_tokens=read,
        cache_creation_tokens=written,
        reasoning_tokens=details.thinking_tokens if details else 0,
    )


def encode_usage(u: Usage | None) -> UsageWire:
    """Canonical usage → Anthropic (cache reads/writes subtracted from ``input_tokens``)."""
    if u is None:
        return UsageWire(0, 0, 0, 0)
    details = OutputDetails(u.reasoning_tokens) if u.reasoning_tokens else None
    uncached = max(0, u.input_tokens - u.cached_tokens - u.cache_creation_tokens)
    return UsageWire(uncached, u.output_tokens, u.cache_creation_tokens, u.cached_tokens, details)


STOP_REASONS: dict[str, StopReason] = {
    "end_turn": StopReason.END_TURN,
    "max_tokens": StopReason.MAX_TOKENS,
    "stop_sequence": StopReason.STOP_SEQUENCE,
    "tool_use": StopReason.TOOL_USE,
    "pause_turn": StopReason.PAUSE_TURN,
    "refusal": StopReason.CONTENT_FILTER,
    "model_context_window_exceeded": StopReason.MAX_TOKENS,
}

WIRE_STOP_REASONS: dict[StopReason, str] = {
    StopReason.END_TURN: "end_turn",
    StopReason.MAX_TOKENS: "max_tokens",
    StopReason.STOP_SEQUENCE: "stop_sequence",
    StopReason.TOOL_USE: "tool_use",
    StopReason.CONTENT_FILTER: "refusal",
    StopReason.PAUSE_TURN: "pause_turn",
    StopReason.ERROR: "end_turn",
}


def decode_stop_reason(value: str | None) -> StopReason | None:
    """Unknown future reasons read as ``end_turn`` (the answer did finish)."""
    return None if value is None else STOP_REASONS.get(value, StopReason.END_TURN)


class MessageOut(msgspec.Struct, kw_only=True):
    """The message object of ``message_start`` and of a non-streaming answer."""

    id: str
    type: str = "message"
    role: str = "assistant"
    model: str
    content: list[Any]
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: UsageWire
