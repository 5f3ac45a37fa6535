"""Cross-format requests: client format A, upstream format B, through the canonical form.

    client body ─A.decode_request─▶ Request ─B.encode_request─▶ upstream
    upstream ─B.decode_response / B.StreamDecoder─▶ canonical ─A.encode_response / A's encoder─▶ client

Streams are re-encoded event by event as reads arrive: the upstream's framer (SSE or NDJSON,
``formats.framing``) yields whole frames, B's decoder turns each into canonical events and
A's encoder writes them; nothing waits for the end of the answer. A broken, stalled or
truncated upstream stream ends the client's stream with A's own error event. When A and B
are the same format the request comes here only when the answer must be re-framed (a Gemini
JSON-array stream); otherwise ``pipeline`` relays the bytes.

Before encoding, a cross-format request is checked and fitted:

1. ``refuse_foreign``: the client's own extras that B cannot honour and whose silent loss
   would change the answer are a 400 naming the field (each format's ``REFUSED_ACROSS``);
   every other extra of A stays out of B's body, since encoders read only their own.
2. ``providers.fit.fit_request``: images, max tokens, reasoning, cache hints and a forced
   tool choice fitted to the row and model (its module table).
"""

from __future__ import annotations

import asyncio
import time
from types import ModuleType
from typing import Any

import msgspec

from omniroute.canonical import Event, MessageStop, Request, StreamError
from omniroute.context import RequestContext
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.error_words import unsupported_field
from omniroute.formats.framing import NDJSONDecoder, SSEDecoder
from omniroute.providers.fit import fit_request
from omniroute.providers.models import ModelInfo
from omniroute.providers.specs import ProviderSpec
from omniroute.relay import JSON_HEADERS, STREAM_HEADERS, deadline_error, start
from omniroute.routing.targets import Target
from omniroute.upstream import UPSTREAM_ERRORS, H1Response, map_exception

_KINDS = frozenset(k.value for k in ErrorKind)


def translated_body(req: Request, client: ModuleType, upstream: ModuleType, spec: ProviderSpec, model: str,
                    info: ModelInfo | None) -> bytes:
    """The upstream body for ``req`` (decoded from ``client``'s format) in ``upstream``'s
    format, refused or fitted for the row and model first (module docstring, steps 1–2)."""
    if upstream is not client:
        refuse_foreign(req, client, spec)
    fit_request(req, spec, model, info)
    return upstream.encode_request(req, model)


async def relay_translated_json(send: Any, body: bytes, upstream: ModuleType, ctx: RequestContext) -> None:
    """A non-streaming answer (the primed body) decoded from ``upstream``'s format and encoded
    in the client's."""
    answer = upstream.decode_response(body)
    answer.model = ctx.model
    await send(start(ctx, JSON_HEADERS))
    await send({"type": "http.response.body", "body": ctx.client.encode_response(answer)})


async def relay_translated_stream(send: Any, first: bytes, resp: H1Response, target: Target, upstream: ModuleType,
                                  encoder: Any, ctx: RequestContext) -> None:
    """A stream re-encoded event by event from ``upstream``'s format into the client's
    (``encoder``), starting with the primed ``first`` bytes. A client that leaves or a
    deadline that passes cancels this task; the upstream is closed here."""
    framer = SSEDecoder() if upstream.FRAMING == "sse" else NDJSONDecoder()
    decoder = upstream.StreamDecoder()
    captured = ctx.captured
    await send(start(ctx, STREAM_HEADERS[ctx.client.FRAMING]))
    try:
        out, finished = _encode(encoder, (ev for f in framer.feed(first) for ev in decoder.feed(f)), False)
        if out:
            ctx.first_byte = ctx.upstream_ended = time.perf_counter()
            await send({"type": "http.response.body", "body": out, "more_body": True})
        async for chunk in resp:
            if captured is not None:
                captured.append(chunk)
            out, finished = _encode(encoder, (ev for f in framer.feed(chunk) for ev in decoder.feed(f)), finished)
            if out:
                # the upstream time so far, as relay.relay_stream keeps it
                ctx.upstream_ended = now = time.perf_counter()
                if not ctx.first_byte:
                    ctx.first_byte = now
                await send({"type": "http.response.body", "body": out, "more_body": True})
        ctx.upstream_ended = time.perf_counter()
        tail_events = [ev for f in framer.close() for ev in decoder.feed(f)] + list(decoder.close())
        out, finished = _encode(encoder, tail_events, finished)
        if not finished:
            raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, "upstream stream ended before it was complete")
        await send({"type": "http.response.body", "body": out})
    except (*UPSTREAM_ERRORS, GatewayError, msgspec.DecodeError) as exc:
        err = exc if isinstance(exc, GatewayError) else _stream_fault(exc, target.provider)
        ctx.error = err
        await send({"type": "http.response.body", "body": _encode_fault(encoder, err)})
    except asyncio.CancelledError:
        if ctx.expired:  # the deadline: the client hears why its stream ends
            ctx.error = deadline_error(ctx.deadline)
            await send({"type": "http.response.body", "body": _encode_fault(encoder, ctx.error)})
        raise
    finally:
        resp.close()


def _encode(encoder: Any, events: Any, finished: bool) -> tuple[bytes, bool]:
    parts = []
    for event in events:
        if type(event) is MessageStop:
            finished = True
        elif type(event) is StreamError:
            kind = ErrorKind(event.kind) if event.kind in _KINDS else ErrorKind.UPSTREAM_ERROR
            raise GatewayError(kind, event.message, status=event.status)
        parts.append(encoder.encode(event))
    return b"".join(parts), finished


def _stream_fault(exc: BaseException, provider: str) -> GatewayError:
    if isinstance(exc, msgspec.DecodeError):
        return GatewayError(ErrorKind.UPSTREAM_PROTOCOL, f"upstream sent a malformed stream event: {exc}")
    return map_exception(exc, provider)


def _encode_fault(encoder: Any, err: GatewayError) -> bytes:
    event: Event = StreamError(err.kind.value, err.message, err.status)
    return encoder.encode(event)


def refuse_foreign(req: Request, client: ModuleType, spec: ProviderSpec) -> None:
    """400 for an extra of the client's format that the route's format cannot honour."""
    own = req.extra.get(client.NAME)
    if not own:
        return
    for key, refused in client.REFUSED_ACROSS.items():
        if key in own and (field := refused(own[key])) is not None:
            why = f"provider '{spec.id}' speaks {spec.format}, which has no equivalent"
            raise unsupported_field(client.NAME, field, why)
