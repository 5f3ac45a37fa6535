"""OpenAI Chat Completions: the wire vocabulary shared by requests, answers and streams.

Finish reasons ↔ ``StopReason``, usage, tool-call wire types and validation. The mapping
tables, and what is lossy, are in the docstring of ``omniroute.formats.openai_chat``; content
parts are in ``content``, the error body in ``errors``.
"""

from __future__ import annotations

import secrets
from typing import Any

import msgspec

from omniroute.canonical import StopReason, Usage
from omniroute.errors import ErrorKind, GatewayError

NAME = "openai_chat"

encoder = msgspec.json.Encoder()

FINISH_TO_STOP: dict[str, StopReason] = {
    "stop": StopReason.END_TURN,
    "length": StopReason.MAX_TOKENS,
    "tool_calls": StopReason.TOOL_USE,
    "function_call": StopReason.TOOL_USE,
    "content_filter": StopReason.CONTENT_FILTER,
    "error": StopReason.ERROR,
}

STOP_TO_FINISH: dict[StopReason | None, str] = {
    None: "stop",
    StopReason.END_TURN: "stop",
    StopReason.MAX_TOKENS: "length",
    StopReason.STOP_SEQUENCE: "stop",
    StopReason.TOOL_USE: "tool_calls",
    StopReason.CONTENT_FILTER: "content_filter",
    StopReason.PAUSE_TURN: "stop",
    StopReason.ERROR: "stop",
}


def decode_finish(reason: str | None) -> StopReason | None:
    return None if reason is None else FINISH_TO_STOP.get(reason, StopReason.END_TURN)


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


class PromptDetails(msgspec.Struct):
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None


class CompletionDetails(msgspec.Struct):
    reasoning_tokens: int | None = None


class WireUsage(msgspec.Struct):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_tokens_details: PromptDetails | None = None
    completion_tokens_details: CompletionDetails | None = None
    prompt_cache_hit_tokens: int | None = None  # DeepSeek


def decode_usage(u: WireUsage) -> Usage:
    pd, cd = u.prompt_tokens_details, u.completion_tokens_details
    cached = (pd.cached_tokens if pd else None) or u.prompt_cache_hit_tokens or 0
    return Usage(
        input_tokens=u.prompt_tokens or 0,
        output_tokens=u.completion_tokens or 0,
        cached_tokens=cached,
        cache_creation_tokens=(pd.cache_write_tokens or 0) if pd else 0,
        reasoning_tokens=(cd.reasoning_tokens or 0) if cd else 0,
    )


def encode_usage(u: Usage | None) -> dict[str, Any]:
    u = u or Usage()
    prompt_details: dict[str, int] = {"cached_tokens": u.cached_tokens}
    if u.cache_creation_tokens:
        prompt_details["cache_write_tokens"] = u.cache_creation_tokens
    return {
        "prompt_tokens": u.input_tokens,
        "completion_tokens": u.output_tokens,
        "total_tokens": u.total_tokens,
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
    }


class Function(msgspec.Struct):
    name: str
    arguments: str = ""


class OutToolCall(msgspec.Struct):
    """An encoded tool call (``type`` always written)."""

    id: str
    function: Function
    type: str = "function"


def invalid(exc: msgspec.ValidationError, prefix: str = "") -> GatewayError:
    """A msgspec validation error → INVALID_REQUEST naming the path (``messages[0].role``).

    Paths use OpenAI's own style (and ``view``'s), so the pass-through and the
    translating paths name the same ``param`` for the same bad body.
    """
    text, _, at = str(exc).partition(" - at `$")
    path = (prefix + at[:-1]).lstrip(".")
    if text.startswith("Object missing required field"):
        path = f"{path}.{text.split('`')[1]}".lstrip(".")
        text = "missing required field"
    if not path:
        return GatewayError(ErrorKind.INVALID_REQUEST, text)
    return GatewayError(ErrorKind.INVALID_REQUEST, f"{text} at `{path}`", param=path)


def unsupported(message: str, param: str) -> GatewayError:
    return GatewayError(ErrorKind.UNSUPPORTED, message, param=param)


def decode_checked(decoder: msgspec.json.Decoder[Any], data: bytes, prefix: str = "") -> Any:
    """Decode a client body (or a part of it at ``prefix``); bad input is INVALID_REQUEST."""
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise invalid(exc, prefix) from None
    except msgspec.DecodeError as exc:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"request body is not valid JSON: {exc}") from None
