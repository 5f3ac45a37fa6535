"""Cross-format requests: client format A, upstream format B, through the canonical form.

    client body ─A.decode_request─▶ Request ─B.encode_request─▶ upstream
    upstream ─B.decode_response / B.StreamDecoder─▶ canonical ─A.encode_response / A's encoder─▶ client

Streams are re-encoded event by event as reads arrive: the upstream's framer (SSE or NDJSON,
``formats._framing``) yields whole frames, B's decoder turns each into canonical events and
A's encoder writes them; nothing waits for the end of the answer. A broken, stalled or
truncated upstream stream ends the client's stream with A's own error event. When A and B
are the same format the request never comes here (``pipeline`` relays the bytes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import ModuleType
from typing import Any

import msgspec

from omniroute.canonical import Event, ImageBlock, MessageStop, Request, StreamError
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats._framing import NDJSONDecoder, SSEDecoder
from omniroute.formats.registry import FORMATS
from omniroute.gateway import Gateway
from omniroute.pipeline import attempt, close_on_disconnect, read_all
from omniroute.routing.registry import Route
from omniroute.server.http import JSON_HEADERS, NDJSON_HEADERS, SSE_HEADERS
from omniroute.transport import map_exception
from omniroute.upstream_h1 import UPSTREAM_ERRORS, H1Response

STREAM_HEADERS = {"sse": SSE_HEADERS, "ndjson": NDJSON_HEADERS}


async def translated(
    gw: Gateway,
    send: Any,
    receive: Any,
    client: ModuleType,
    req: Request,
    route: Route,
    make_encoder: Callable[[], Any] | None = None,
) -> None:
    """Serve a canonical request ``req`` decoded from ``client`` over ``route``."""
    upstream = FORMATS[route.spec.format]
    check_capabilities(route, req)
    target, resp = await attempt(gw, route, upstream.encode_request(req, route.model), req.stream)
    if not req.stream:
        answer = upstream.decode_response(await read_all(resp, target))
        answer.model = req.model
        await send({"type": "http.response.start", "status": 200, "headers": JSON_HEADERS})
        await send({"type": "http.response.body", "body": client.encode_response(answer)})
        return
    encoder = make_encoder() if make_encoder else client.StreamEncoder(req.model, req.include_usage)
    await _relay_translated(send, receive, resp, upstream, client, encoder, target.provider)


async def _relay_translated(
    send: Any,
    receive: Any,
    resp: H1Response,
    upstream: ModuleType,
    client: ModuleType,
    encoder: Any,
    provider: str,
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
            raise GatewayError(ErrorKind.UPSTREAM_ERROR, event.message, status=event.status)
        parts.append(encoder.encode(event))
    return b"".join(parts), finished


def _stream_fault(exc: BaseException, provider: str) -> GatewayError:
    if isinstance(exc, msgspec.DecodeError):
        return GatewayError(ErrorKind.UPSTREAM_PROTOCOL, f"upstream sent a malformed stream event: {exc}")
    return map_exception(exc, provider)


def _encode_fault(encoder: Any, err: GatewayError) -> bytes:
    event: Event = StreamError(err.kind.value, err.message, err.status)
    return encoder.encode(event)


def check_capabilities(route: Route, req: Request) -> None:
    """Refuse (400) what the route's provider cannot take, rather than dropping it silently."""
    if route.spec.text_only and any(type(b) is ImageBlock for m in req.messages for b in m.content):
        raise GatewayError(
            ErrorKind.UNSUPPORTED, f"provider '{route.spec.id}' does not accept images", param="messages"
        )
