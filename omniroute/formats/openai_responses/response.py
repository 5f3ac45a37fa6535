"""OpenAI Responses non-streaming answers: the response object ↔ canonical ``Response`` (output
items in ``output``; tables: ``omniroute.formats.openai_responses``)."""

from __future__ import annotations

import msgspec

from omniroute.canonical import Block, Response, StopReason, ToolCallBlock
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.openai_responses.output import (
    decode_stop,
    decode_usage,
    encode_items,
    item_blocks,
    response_object,
)
from omniroute.formats.openai_responses.wire import ResponseBody

_body_decoder = msgspec.json.Decoder(ResponseBody)
_encoder = msgspec.json.Encoder()


def decode_response(body: bytes) -> Response:
    """An upstream's Responses object → canonical ``Response``."""
    try:
        wire = _body_decoder.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, f"malformed Responses answer: {exc}") from None
    content: list[Block] = []
    for raw in wire.output or ():
        content.extend(item_blocks(raw))
    tool_call = any(type(b) is ToolCallBlock for b in content)
    return Response(
        id=wire.id,
        model=wire.model,
        content=content,
        stop_reason=decode_stop(wire.status, wire.incomplete_details, tool_call),
        usage=decode_usage(wire.usage),
        created=int(wire.created_at or 0),
    )


def encode_response(resp: Response) -> bytes:
    """Canonical ``Response`` → a Responses object (``client.responses.create`` parses it)."""
    status = "incomplete" if resp.stop_reason in (StopReason.MAX_TOKENS, StopReason.CONTENT_FILTER) else "completed"
    items = encode_items(resp.content, resp.id, status)
    return _encoder.encode(response_object(resp.id, resp.model, resp.created, resp.stop_reason, items, resp.usage))
