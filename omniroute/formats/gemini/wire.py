"""Gemini wire types and the small tables and helpers shared by the modules of
``omniroute.formats.gemini``.

The Structs mirror ``generateContent`` JSON (lowerCamelCase on the wire, snake_case here via
``rename="camel"``). They are used to encode every body we send and to decode what an upstream
answers; client *requests* are decoded from plain dicts (``camel``, ``get``, ``need``) because
Google also accepts snake_case keys there. ``args`` and ``response`` stay ``msgspec.Raw`` so a
function call's JSON is carried as bytes, never parsed and re-serialised.

Synthesised tool-call ids start with ``SYNTH_PREFIX``: Gemini (before 3.x) sends function calls
without ids, and an id we made up must not be sent back to Gemini as if it were its own.
"""

from __future__ import annotations

import binascii
import hashlib
from base64 import b64decode
from typing import Any

import msgspec

from omniroute.canonical import StopReason, Usage
from omniroute.canonical.envelope import client_signature, upstream_signature
from omniroute.errors import ErrorKind, GatewayError

NAME = "gemini"
SOURCE = "gemini"
SYNTH_PREFIX = "gcall_"


class Blob(msgspec.Struct, rename="camel", omit_defaults=True):
    mime_type: str = ""
    data: str = ""


class FileData(msgspec.Struct, rename="camel", omit_defaults=True):
    file_uri: str = ""
    mime_type: str | None = None


class FunctionCall(msgspec.Struct, omit_defaults=True):
    name: str = ""
    args: msgspec.Raw = msgspec.Raw()  # empty = absent
    id: str | None = None


class FunctionResponsePart(msgspec.Struct, rename="camel", omit_defaults=True):
    inline_data: Blob | None = None


class FunctionResponse(msgspec.Struct, omit_defaults=True):
    name: str = ""
    response: msgspec.Raw = msgspec.Raw()
    id: str | None = None
    parts: list[FunctionResponsePart] | None = None


class Part(msgspec.Struct, rename="camel", omit_defaults=True):
    text: str | None = None
    thought: bool | None = None
    thought_signature: str | None = None
    inline_data: Blob | None = None
    file_data: FileData | None = None
    function_call: FunctionCall | None = None
    function_response: FunctionResponse | None = None
    executable_code: msgspec.Raw = msgspec.Raw()
    code_execution_result: msgspec.Raw = msgspec.Raw()


class Content(msgspec.Struct, omit_defaults=True):
    parts: list[Part] = msgspec.field(default_factory=list)
    role: str | None = None


class Candidate(msgspec.Struct, rename="camel", omit_defaults=True):
    content: Content | None = None
    finish_reason: str | None = None
    index: int | None = None


class UsageMetadata(msgspec.Struct, rename="camel", omit_defaults=True):
    prompt_token_count: int = 0
    candidates_token_count: int = 0
    cached_content_token_count: int = 0
    thoughts_token_count: int = 0
    tool_use_prompt_token_count: int = 0
    total_token_count: int = 0


class PromptFeedback(msgspec.Struct, rename="camel", omit_defaults=True):
    block_reason: str | None = None


class ErrorDetail(msgspec.Struct, omit_defaults=True):
    code: int = 0
    message: str = ""
    status: str = ""


class GenerateContentResponse(msgspec.Struct, rename="camel", omit_defaults=True):
    """One answer, or one streamed chunk (``error`` is set on a mid-stream error chunk)."""

    candidates: list[Candidate] | None = None
    prompt_feedback: PromptFeedback | None = None
    usage_metadata: UsageMetadata | None = None
    model_version: str | None = None
    response_id: str | None = None
    error: ErrorDetail | None = None


class FunctionDeclaration(msgspec.Struct, omit_defaults=True):
    name: str
    description: str | None = None
    parameters: dict | None = None


class ErrorBody(msgspec.Struct):
    error: ErrorDetail


ENCODER = msgspec.json.Encoder()
RESPONSE_DECODER = msgspec.json.Decoder(GenerateContentResponse)

#: Gemini ``finishReason`` -> canonical (STOP becomes TOOL_USE when the turn calls functions)
FINISH_REASONS: dict[str, StopReason] = {
    "STOP": StopReason.END_TURN,
    "MAX_TOKENS": StopReason.MAX_TOKENS,
    "SAFETY": StopReason.CONTENT_FILTER,
    "RECITATION": StopReason.CONTENT_FILTER,
    "LANGUAGE": StopReason.CONTENT_FILTER,
    "BLOCKLIST": StopReason.CONTENT_FILTER,
    "PROHIBITED_CONTENT": StopReason.CONTENT_FILTER,
    "SPII": StopReason.CONTENT_FILTER,
    "IMAGE_SAFETY": StopReason.CONTENT_FILTER,
    "IMAGE_PROHIBITED_CONTENT": StopReason.CONTENT_FILTER,
    "IMAGE_RECITATION": StopReason.CONTENT_FILTER,
}

#: canonical -> Gemini ``finishReason``
STOP_REASONS: dict[StopReason, str] = {
    StopReason.END_TURN: "STOP",
    StopReason.STOP_SEQUENCE: "STOP",
    StopReason.TOOL_USE: "STOP",
    StopReason.PAUSE_TURN: "STOP",
    StopReason.MAX_TOKENS: "MAX_TOKENS",
    StopReason.CONTENT_FILTER: "SAFETY",
    StopReason.ERROR: "OTHER",
}


def decode_finish(reason: str, has_calls: bool) -> StopReason:
    """A ``finishReason`` → ``StopReason``; unknown reasons (OTHER, MALFORMED_FUNCTION_CALL...) → ERROR."""
    stop = FINISH_REASONS.get(reason, StopReason.ERROR)
    return StopReason.TOOL_USE if has_calls and stop is StopReason.END_TURN else stop


def decode_usage(meta: UsageMetadata) -> Usage:
    return Usage(
        input_tokens=meta.prompt_token_count + meta.tool_use_prompt_token_count,
        output_tokens=meta.candidates_token_count + meta.thoughts_token_count,
        cached_tokens=meta.cached_content_token_count,
        reasoning_tokens=meta.thoughts_token_count,
    )


def encode_usage(usage: Usage) -> UsageMetadata:
    return UsageMetadata(
        prompt_token_count=usage.input_tokens,
        candidates_token_count=usage.output_tokens - usage.reasoning_tokens,
        cached_content_token_count=usage.cached_tokens,
        thoughts_token_count=usage.reasoning_tokens,
        total_token_count=usage.input_tokens + usage.output_tokens,
    )


def synth_id(seed: str, prefix: str = SYNTH_PREFIX) -> str:
    """A stable id for a Gemini function call (or response) that came without one."""
    return prefix + hashlib.blake2b(seed.encode(), digest_size=8).hexdigest()


def wire_id(call_id: str | None) -> str | None:
    """The id to send to Gemini: ours (synthesised) are dropped, real ones kept."""
    return None if not call_id or call_id.startswith(SYNTH_PREFIX) else call_id


def wire_signature(sig: str | None) -> str | None:
    """A signature as Gemini carries it (``bytes`` in base64), or None: a signature from another
    provider that is not base64 could never verify and breaks the ``google-genai`` SDK's parser."""
    if not sig:
        return None
    try:
        b64decode(sig.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return None
    return sig


def client_thought_signature(source: str | None, signature: str | None, item_id: str | None = None) -> str | None:
    """A ``thoughtSignature`` for a Gemini *client*: Gemini's own signature, or another format's
    reasoning state (signature, Responses item id) packed as a base64 envelope."""
    return wire_signature(client_signature(SOURCE, source, signature, item_id, b64=True))


def upstream_thought_signature(source: str | None, signature: str | None) -> str | None:
    """A ``thoughtSignature`` for a Gemini *upstream*: only Gemini's own (another's is refused)."""
    return wire_signature(upstream_signature(SOURCE, source, signature))


_SNAKE = {
    "system_instruction": "systemInstruction",
    "generation_config": "generationConfig",
    "tool_config": "toolConfig",
    "safety_settings": "safetySettings",
    "cached_content": "cachedContent",
    "function_declarations": "functionDeclarations",
    "function_calling_config": "functionCallingConfig",
    "allowed_function_names": "allowedFunctionNames",
    "parameters_json_schema": "parametersJsonSchema",
    "max_output_tokens": "maxOutputTokens",
    "top_p": "topP",
    "top_k": "topK",
    "stop_sequences": "stopSequences",
    "response_mime_type": "responseMimeType",
    "response_schema": "responseSchema",
    "response_json_schema": "responseJsonSchema",
    "thinking_config": "thinkingConfig",
    "thinking_budget": "thinkingBudget",
    "include_thoughts": "includeThoughts",
    "thinking_level": "thinkingLevel",
    "inline_data": "inlineData",
    "file_data": "fileData",
    "function_call": "functionCall",
    "function_response": "functionResponse",
    "thought_signature": "thoughtSignature",
    "mime_type": "mimeType",
    "file_uri": "fileUri",
}
_SNAKE_KEYS = frozenset(_SNAKE)

_TYPE_NAMES = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    list: "an array",
    dict: "an object",
}


def invalid(message: str, param: str | None) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, message, param=param)


def camel(d: dict[str, Any]) -> dict[str, Any]:
    """Rename the known snake_case keys of one structural level to camelCase, in place."""
    if not _SNAKE_KEYS.isdisjoint(d):
        for key in [k for k in d if k in _SNAKE_KEYS]:
            d.setdefault(_SNAKE[key], d.pop(key))
    return d


def get(d: dict[str, Any], key: str, kind: type, path: str, default: Any = None) -> Any:
    """``d[key]`` checked against ``kind`` (``float`` accepts ints; bools are not numbers)."""
    value = d.get(key)
    if value is None:
        return default
    ok = isinstance(value, (int, float) if kind is float else kind)
    if not ok or (kind in (int, float) and isinstance(value, bool)):
        raise invalid(f"{path} must be {_TYPE_NAMES[kind]}", path)
    return value


def need(d: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    """``d[key]``, which must be an object (``null`` included in "must")."""
    value = d.get(key)
    if not isinstance(value, dict):
        raise invalid(f"{path} must be an object", path)
    return value
