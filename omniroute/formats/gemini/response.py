"""Gemini non-streaming answers: ``GenerateContentResponse`` ↔ canonical ``Response`` (first
candidate only; tables: ``omniroute.formats.gemini``)."""

from __future__ import annotations

import msgspec

from omniroute.canonical import Response, StopReason, ToolCallBlock
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.gemini.content import decode_parts, encode_parts
from omniroute.formats.gemini.wire import (
    ENCODER,
    RESPONSE_DECODER,
    STOP_REASONS,
    Candidate,
    Content,
    GenerateContentResponse,
    decode_finish,
    decode_usage,
    encode_usage,
    synth_id,
)


def decode_response(body: bytes) -> Response:
    """An upstream ``generateContent`` answer → ``Response`` (first candidate only)."""
    try:
        resp = RESPONSE_DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, f"Gemini answer is not valid: {exc}") from None
    response_id = resp.response_id or synth_id(body[:512].decode("utf-8", "replace"), "resp_")
    candidate = resp.candidates[0] if resp.candidates else None
    parts = candidate.content.parts if candidate and candidate.content else []
    blocks = decode_parts(parts, response_id)
    if candidate is not None:
        has_calls = any(type(b) is ToolCallBlock for b in blocks)
        stop = decode_finish(candidate.finish_reason or "STOP", has_calls)
    else:
        blocked = resp.prompt_feedback is not None and resp.prompt_feedback.block_reason
        stop = StopReason.CONTENT_FILTER if blocked else StopReason.ERROR
    usage = decode_usage(resp.usage_metadata) if resp.usage_metadata else None
    return Response(id=response_id, model=resp.model_version or "", content=blocks, stop_reason=stop, usage=usage)


def encode_response(resp: Response) -> bytes:
    """Canonical → a ``GenerateContentResponse`` body as the ``google-genai`` SDK parses it."""
    parts = encode_parts(resp.content, {}, "content", client=True)
    finish = STOP_REASONS.get(resp.stop_reason, "STOP") if resp.stop_reason else "STOP"
    candidate = Candidate(content=Content(parts=parts, role="model"), finish_reason=finish, index=0)
    usage = encode_usage(resp.usage) if resp.usage is not None else None
    body = GenerateContentResponse(
        candidates=[candidate], usage_metadata=usage, model_version=resp.model, response_id=resp.id
    )
    return ENCODER.encode(body)
