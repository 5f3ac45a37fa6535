"""Ollama ``/api/chat`` wire types (NDJSON: one JSON record per line) and the small helpers shared
by requests, answers and streams: ``done_reason`` ↔ ``StopReason``, usage, times, tool calls and
their synthesised ids (tables: ``omniroute.formats.ollama``)."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

import msgspec
from msgspec import UNSET, UnsetType

from omniroute.canonical import StopReason, ToolCallBlock, Usage

NAME = "ollama"

SYNTH_PREFIX = "ocall_"


class ToolCallFunction(msgspec.Struct):
    name: str
    arguments: msgspec.Raw = msgspec.Raw(b"{}")
    index: int | UnsetType = UNSET


class ToolCall(msgspec.Struct):
    function: ToolCallFunction
    id: str | UnsetType = UNSET


class ChatMessage(msgspec.Struct):
    role: str = "assistant"
    content: str = ""
    thinking: str | UnsetType = UNSET
    tool_calls: list[ToolCall] | UnsetType = UNSET


class ChatResponse(msgspec.Struct):
    """A whole answer, or one stream record (``error`` set on an error record)."""

    model: str = ""
    created_at: str = ""
    message: ChatMessage | UnsetType = UNSET
    done: bool = False
    done_reason: str | UnsetType = UNSET
    total_duration: int | UnsetType = UNSET
    load_duration: int | UnsetType = UNSET
    prompt_eval_count: int | UnsetType = UNSET
    prompt_eval_duration: int | UnsetType = UNSET
    eval_count: int | UnsetType = UNSET
    eval_duration: int | UnsetType = UNSET
    error: str | UnsetType = UNSET


ENCODER = msgspec.json.Encoder()
RESPONSE_DECODER = msgspec.json.Decoder(ChatResponse)

#: Ollama ``done_reason`` -> canonical ("stop" becomes tool_use when the answer calls tools)
DONE_REASONS: dict[str, StopReason] = {"stop": StopReason.END_TURN, "length": StopReason.MAX_TOKENS}


def decode_done(reason: str | UnsetType, has_calls: bool) -> StopReason:
    stop = DONE_REASONS.get(reason, StopReason.END_TURN) if isinstance(reason, str) else StopReason.END_TURN
    return StopReason.TOOL_USE if has_calls and stop is StopReason.END_TURN else stop


def encode_done(stop: StopReason | None) -> str:
    return "length" if stop is StopReason.MAX_TOKENS else "stop"


def decode_usage(record: ChatResponse) -> Usage | None:
    if record.prompt_eval_count is UNSET and record.eval_count is UNSET:
        return None
    prompt = record.prompt_eval_count if isinstance(record.prompt_eval_count, int) else 0
    output = record.eval_count if isinstance(record.eval_count, int) else 0
    return Usage(input_tokens=prompt, output_tokens=output)


def synth_id(seed: str, prefix: str = SYNTH_PREFIX) -> str:
    return prefix + hashlib.blake2b(seed.encode(), digest_size=8).hexdigest()


def decode_created(created_at: str) -> int:
    try:
        return int(datetime.fromisoformat(created_at).timestamp())
    except ValueError:
        return 0


def encode_created(created: int) -> str:
    """Unix seconds (0 = now) → Ollama's RFC 3339 ``created_at``."""
    return datetime.fromtimestamp(created or time.time(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def call_block(call: ToolCall, seed: str) -> ToolCallBlock:
    fn = call.function
    call_id = call.id if isinstance(call.id, str) and call.id else synth_id(f"{seed}:{fn.name}")
    return ToolCallBlock(id=call_id, name=fn.name, arguments=bytes(fn.arguments).decode())


def wire_call(block: ToolCallBlock, index: int) -> ToolCall:
    """A canonical tool call → Ollama's, with ``arguments`` as a JSON object."""
    text = block.arguments or "{}"
    try:
        ok = isinstance(msgspec.json.decode(text), dict)
    except msgspec.DecodeError:
        ok = False
    args = msgspec.Raw(text.encode() if ok else b"{}")
    call_id = block.id if block.id and not block.id.startswith(SYNTH_PREFIX) else UNSET
    return ToolCall(function=ToolCallFunction(name=block.name, arguments=args, index=index), id=call_id)
