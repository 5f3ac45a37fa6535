"""Ollama ``/api/chat`` (https://github.com/ollama/ollama/blob/main/docs/api.md), as client and
upstream format. Requests live in ``ollama_request``, streams in ``ollama_stream`` (with the
response Structs); this module holds responses, errors, ``/api/tags`` and ``/api/show``.

Request fields (Ollama ↔ canonical):

====================================  ========================================================
Ollama                                canonical
====================================  ========================================================
model                                 model
messages[] role system                system (hoisted: a system message mid-conversation
                                      moves to the front; encode: one system message per block)
role user: content, images[] (base64) user: TextBlock, ImageBlock(data, sniffed media_type)
role assistant: thinking, content,    assistant: ThinkingBlock, TextBlock, ToolCallBlock
tool_calls[{id?, function{name,       (arguments object → raw JSON text; no id → synthesised
arguments}}]                          ``ocall_…``, never sent back to Ollama)
role tool: content, tool_name,        ToolResultBlock in a user message (id: tool_call_id,
tool_call_id?                         else the earliest unanswered call of that name, else of
                                      any name); encode: one ``tool`` message per result
tools[{type: function, function}]     tools
stream (default **true**)             stream (always written on encode)
format "json" / JSON Schema object    response_format json_object / json_schema
options temperature, top_p, top_k,    temperature, top_p, top_k, max_tokens (only > 0), stop
num_predict, stop
think true / false / "low"|"medium"|  reasoning enabled / disabled / effort (encode: other
"high"                                efforts and token budgets become ``true``)
keep_alive, other options, logprobs   extra["ollama"] (restored on encode)
====================================  ========================================================

Lossy, and why: Ollama has no tool_choice (``none`` drops the tools, ``tool`` keeps only the
named tool, ``required`` is lost), no image URLs (an ``ImageBlock`` with only a URL raises
UNSUPPORTED), no documents other than text (others raise UNSUPPORTED), no signatures or
redacted thinking (dropped; Ollama clients return no call ids either, so a Gemini call
signature — which other clients carry in the call id — is lost too), no response id
(synthesised from model + created_at), no is_error flag on tool results, no stop-sequence
distinction.

done_reason ↔ StopReason: "stop" → end_turn (tool_use when the answer calls tools), "length"
→ max_tokens, anything else ("load", "unload") → end_turn; encode: max_tokens → "length",
everything else → "stop". Usage: prompt_eval_count ↔ input_tokens, eval_count ↔
output_tokens (Ollama reports no cache or reasoning counts).

Errors: ``{"error": "message"}`` (a stream record of that shape makes the ``ollama`` SDK raise
``ResponseError``).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import msgspec

from omniroute.canonical import (
    Block,
    Response,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    text_of,
)
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.error_words import context_message, recognise
from omniroute.formats.ollama_request import decode_request, encode_request
from omniroute.formats.ollama_stream import (
    ENCODER,
    RESPONSE_DECODER,
    ChatMessage,
    ChatResponse,
    StreamDecoder,
    StreamEncoder,
    call_block,
    decode_created,
    decode_done,
    decode_usage,
    encode_created,
    encode_done,
    synth_id,
    wire_call,
)
from omniroute.formats.openai_chat_wire import CONTEXT_WORDS

NAME = "ollama"
FRAMING = "ndjson"
#: the HTTP status of an overload in this dialect
OVERLOADED_STATUS = 503

#: where a request body holds its max output tokens (``pipeline.clamp_max_tokens``)
MAX_TOKENS_PATHS: tuple[tuple[str, ...], ...] = (("options", "num_predict"),)
#: request headers forwarded to Ollama upstreams: none
FORWARD_HEADERS: tuple[bytes, ...] = ()

#: This format's extras that refuse a route to another upstream format: none. ``keep_alive``,
#: other ``options`` (``seed``, ``num_ctx`` …) and ``logprobs`` are dropped on such a route.
REFUSED_ACROSS: dict[str, Any] = {}

__all__ = [
    "FORWARD_HEADERS",
    "FRAMING",
    "MAX_TOKENS_PATHS",
    "NAME",
    "OVERLOADED_STATUS",
    "REFUSED_ACROSS",
    "StreamDecoder",
    "StreamEncoder",
    "decode_error",
    "decode_request",
    "decode_response",
    "encode_error",
    "encode_request",
    "encode_response",
    "encode_show",
    "encode_stream_error",
    "encode_tags",
]


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
