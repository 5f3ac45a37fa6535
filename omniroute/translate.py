"""Cross-format requests: client format A, upstream format B, through the canonical form.

    client body ─A.decode_request─▶ Request ─B.encode_request─▶ upstream
    upstream ─B.decode_response / B.StreamDecoder─▶ canonical ─A.encode_response / A's encoder─▶ client

Streams are re-encoded event by event as reads arrive: the upstream's framer (SSE or NDJSON,
``formats._framing``) yields whole frames, B's decoder turns each into canonical events and
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
from collections.abc import Callable
from types import ModuleType
from typing import Any

import msgspec

from omniroute.canonical import Event, MessageStop, Request, StreamError
from omniroute.context import RequestContext
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats._framing import NDJSONDecoder, SSEDecoder
from omniroute.formats.error_words import unsupported_field
from omniroute.formats.registry import FORMATS
from omniroute.gateway import Gateway
from omniroute.pipeline import attempt, close_on_disconnect, read_all
from omniroute.providers.fit import fit_request
from omniroute.routing.registry import Route
from omniroute.server.http import JSON_HEADERS, NDJSON_HEADERS, SSE_HEADERS
from omniroute.upstream import UPSTREAM_ERRORS, H1Response, map_exception

STREAM_HEADERS = {"sse": SSE_HEADERS, "ndjson": NDJSON_HEADERS}
_KINDS = frozenset(k.value for k in ErrorKind)


async def translated(
    gw: Gateway,
    send: Any,
    receive: Any,
    client: ModuleType,
    req: Request,
    route: Route,
    make_encoder: Callable[[], Any] | None,
    headers: dict[str, str] | None,
    ctx: RequestContext,
) -> None:
    """Serve a canonical request ``req`` decoded from ``client`` over ``route``; ``headers``
    are the client's forwarded ones, sent only to an upstream of the client's format."""
    upstream = FORMATS[route.spec.format]
    if upstream is not client:
        refuse_foreign(req, client, route)
        headers = None
    fit_request(req, route.spec, route.model, route.info)
    body = upstream.encode_request(req, route.model)
    target, resp = await attempt(gw, route, body, req.stream, headers, ctx)
    if not req.stream:
        answer = upstream.decode_response(await read_all(resp, target))
        answer.model = req.model
        await send({"type": "http.response.start", "status": 200, "headers": JSON_HEADERS})
        await send({"type": "http.response.body", "body": client.encode_response(answer)})
        return
    encoder = make_encoder() if make_encoder else client.StreamEncoder(req.model, req.include_usage)
    await _relay_translated(send, receive, resp, upstream, client, encoder, target.provider, ctx)


async def _relay_translated(
    send: Any,
    receive: Any,
    resp: H1Response,
    upstream: ModuleType,
    client: ModuleType,
    encoder: Any,
    provider: str,
    ctx: RequestContext,
) -> None:
    framer = SSEDecoder() if upstream.FRAMING == "sse" else NDJSONDecoder()
    decoder = upstream.StreamDecoder()
    watcher = asyncio.get_running_loop().create_task(close_on_disconnect(receive, resp))
    await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS[client.FRAMING]})
    finished = False
    try:
        async for chunk in resp:
            out, finished = _encode(encoder, (ev for f in framer.feed(chunk) for ev in decoder.feed(f)), finished)
            if out:
                await send({"type": "http.response.body", "body": out, "more_body": True})
        tail_events = [ev for f in framer.close() for ev in decoder.feed(f)] + list(decoder.close())
        out, finished = _encode(encoder, tail_events, finished)
        if not finished:
            raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, "upstream stream ended before it was complete")
        await send({"type": "http.response.body", "body": out})
    except (*UPSTREAM_ERRORS, GatewayError, msgspec.DecodeError) as exc:
        if watcher.done():
            return
        err = exc if isinstance(exc, GatewayError) else _stream_fault(exc, provider)
        ctx.error = err
        await send({"type": "http.response.body", "body": _encode_fault(encoder, err)})
    finally:
        watcher.cancel()
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


def refuse_foreign(req: Request, client: ModuleType, route: Route) -> None:
    """400 for an extra of the client's format that the route's format cannot honour."""
    own = req.extra.get(client.NAME)
    if not own:
        return
    for key, refused in client.REFUSED_ACROSS.items():
        if key in own and (field := refused(own[key])) is not None:
            why = f"provider '{route.spec.id}' speaks {route.spec.format}, which has no equivalent"
            raise unsupported_field(client.NAME, field, why)
