"""OpenAI Chat non-streaming answers: ``chat.completion`` ↔ canonical ``Response`` (tables:
``omniroute.formats.openai_chat``)."""

from __future__ import annotations

import time
from typing import Any

import msgspec

from omniroute.canonical import Block, Response, StopReason, TextBlock, ThinkingBlock, ToolCallBlock
from omniroute.canonical.envelope import client_call_id
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.openai_chat.errors import decode_error_object
from omniroute.formats.openai_chat.wire import (
    NAME,
    STOP_TO_FINISH,
    Function,
    OutToolCall,
    WireUsage,
    decode_finish,
    decode_usage,
    encode_usage,
    encoder,
    new_id,
)


class _AnswerToolCall(msgspec.Struct):
    function: Function
    id: str = ""


class _Answer(msgspec.Struct):
    content: str | None = None
    reasoning_content: str | None = None
    reasoning: Any = None
    refusal: str | None = None
    tool_calls: list[_AnswerToolCall] | None = None


class _Choice(msgspec.Struct):
    index: int = 0
    message: _Answer | None = None
    finish_reason: str | None = None


class _ChatCompletion(msgspec.Struct):
    id: str = ""
    model: str = ""
    created: int = 0
    choices: list[_Choice] | None = None
    usage: WireUsage | None = None
    error: Any = None


_completion_decoder = msgspec.json.Decoder(_ChatCompletion)


def decode_response(body: bytes) -> Response:
    try:
        wire = _completion_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, f"upstream answer is not a chat completion: {exc}") from None
    if wire.error is not None:  # some providers answer 200 with an error body
        err = decode_error_object(wire.error)
        raise GatewayError(ErrorKind(err.kind), err.message, status=err.status)
    choice = next((c for c in wire.choices or () if c.index == 0), None)
    return Response(
        id=wire.id,
        model=wire.model,
        content=_decode_answer(choice.message) if choice and choice.message else [],
        stop_reason=decode_finish(choice.finish_reason) if choice else None,
        usage=decode_usage(wire.usage) if wire.usage is not None else None,
        created=wire.created,
    )


def _decode_answer(answer: _Answer) -> list[Block]:
    blocks: list[Block] = []
    reasoning = answer.reasoning_content or answer.reasoning
    if reasoning and isinstance(reasoning, str):
        blocks.append(ThinkingBlock(reasoning))
    for text in (answer.content, answer.refusal):
        if text:
            blocks.append(TextBlock(text))
    for call in answer.tool_calls or ():
        blocks.append(ToolCallBlock(call.id or new_id("call_"), call.function.name, call.function.arguments))
    return blocks


class _OutAnswer(msgspec.Struct, omit_defaults=True):
    role: str
    content: str | None
    tool_calls: list[OutToolCall] | None = None
    reasoning_content: str | None = None


class _OutChoice(msgspec.Struct):
    index: int
    message: _OutAnswer
    finish_reason: str
    logprobs: None = None


class _OutCompletion(msgspec.Struct, omit_defaults=True):
    id: str
    object: str
    created: int
    model: str
    choices: list[_OutChoice]
    usage: dict[str, Any] | None = None


def encode_response(resp: Response) -> bytes:
    blocks = resp.content
    texts = [b.text for b in blocks if type(b) is TextBlock]
    thinking = "".join(b.thinking for b in blocks if type(b) is ThinkingBlock)
    calls = [
        OutToolCall(client_call_id(NAME, b.id, b.signature_source, b.signature), Function(b.name, b.arguments or "{}"))
        for b in blocks
        if type(b) is ToolCallBlock
    ]
    finish = STOP_TO_FINISH[resp.stop_reason]
    if calls and resp.stop_reason in (None, StopReason.END_TURN):
        finish = "tool_calls"
    answer = _OutAnswer("assistant", "".join(texts) if texts else None, calls or None, thinking or None)
    return encoder.encode(
        _OutCompletion(
            resp.id or new_id("chatcmpl-"),
            "chat.completion",
            resp.created or int(time.time()),
            resp.model,
            [_OutChoice(0, answer, finish)],
            encode_usage(resp.usage) if resp.usage is not None else None,
        )
    )
