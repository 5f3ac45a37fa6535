"""Ollama non-streaming answers: a ``done`` ``/api/chat`` record ↔ canonical ``Response``."""

from __future__ import annotations

import msgspec

from omniroute.canonical import Block, Response, TextBlock, ThinkingBlock, ToolCallBlock, text_of
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.ollama.wire import (
    ENCODER,
    RESPONSE_DECODER,
    ChatMessage,
    ChatResponse,
    call_block,
    decode_created,
    decode_done,
    decode_usage,
    encode_created,
    encode_done,
    synth_id,
    wire_call,
)


def decode_response(body: bytes) -> Response:
    """An upstream non-streaming ``/api/chat`` answer → ``Response``."""
    try:
        record = RESPONSE_DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, f"Ollama answer is not valid: {exc}") from None
    response_id = synth_id(f"{record.model}:{record.created_at}", "ollama-")
    blocks: list[Block] = []
    msg = record.message
    if isinstance(msg, ChatMessage):
        if isinstance(msg.thinking, str) and msg.thinking:
            blocks.append(ThinkingBlock(thinking=msg.thinking))
        if msg.content:
            blocks.append(TextBlock(msg.content))
        calls = msg.tool_calls if isinstance(msg.tool_calls, list) else []
        blocks += [call_block(c, f"{response_id}:{i}") for i, c in enumerate(calls)]
    has_calls = any(type(b) is ToolCallBlock for b in blocks)
    return Response(
        id=response_id,
        model=record.model,
        content=blocks,
        stop_reason=decode_done(record.done_reason, has_calls),
        usage=decode_usage(record),
        created=decode_created(record.created_at),
    )


def encode_response(resp: Response) -> bytes:
    """Canonical → a non-streaming ``/api/chat`` answer (what ``ollama.ChatResponse`` parses)."""
    msg = ChatMessage(content=text_of(resp.content))
    thinking = "".join(b.thinking for b in resp.content if type(b) is ThinkingBlock)
    if thinking:
        msg.thinking = thinking
    calls = [b for b in resp.content if type(b) is ToolCallBlock]
    if calls:
        msg.tool_calls = [wire_call(b, i) for i, b in enumerate(calls)]
    usage = resp.usage
    record = ChatResponse(resp.model, encode_created(resp.created), msg, True, encode_done(resp.stop_reason), 0, 0)
    record.prompt_eval_count = usage.input_tokens if usage else 0
    record.eval_count = usage.output_tokens if usage else 0
    record.prompt_eval_duration = record.eval_duration = 0
    return ENCODER.encode(record)
