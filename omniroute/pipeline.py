"""The request pipeline: attempts over a route's accounts, then relay of the answer.

Pass-through (client and upstream speak the same format): the client's bytes go upstream
with only the model name rewritten, and the upstream's bytes come back untouched —
non-streaming as one body, streaming relayed event by event as reads arrive (only whole
SSE events are forwarded, so an error event appended after a broken stream is never glued
to half an event).

Failure handling, per attempt (an attempt is one account of the route):

=========================================  ==============================================
what happened                              what the client gets
=========================================  ==============================================
connect refused / DNS / reset              next account, else 502 (UPSTREAM_UNREACHABLE)
no headers within ``first_byte_timeout``   next account, else 504 (UPSTREAM_TIMEOUT)
upstream 4xx/5xx                           429/5xx: next account; else that status with
                                           the upstream's message, in the client's dialect
stream silent for ``stream_idle_timeout``  error event, then the stream ends
stream dropped (payload error, no [DONE])  error event, then the stream ends
client disconnects mid-stream              the upstream response is closed at once
=========================================  ==============================================
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec

from omniroute.context import Attempt, RequestContext
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.registry import FORMATS
from omniroute.gateway import Gateway
from omniroute.routing.registry import Route
from omniroute.routing.targets import Target
from omniroute.server.http import JSON_HEADERS, NDJSON_HEADERS, SSE_HEADERS
from omniroute.upstream import UPSTREAM_ERRORS, H1Response, map_exception

_START_JSON = {"type": "http.response.start", "status": 200, "headers": JSON_HEADERS}
_START_SSE = {"type": "http.response.start", "status": 200, "headers": SSE_HEADERS}
_START_NDJSON = {"type": "http.response.start", "status": 200, "headers": NDJSON_HEADERS}


def rewrite_model(body: bytes, client_model: str, upstream_model: str) -> bytes:
    """The client body with ``model`` renamed for the upstream, touching nothing else.

    When the quoted model string occurs exactly once it can only be the top-level ``model``
    value (we decoded it from there), so a byte replace is exact. Otherwise (escaped form,
    or the same string elsewhere in the body) decode, rename and re-encode.
    """
    if client_model == upstream_model:
        return body
    old = msgspec.json.encode(client_model)
    if body.count(old) == 1:
        return body.replace(old, msgspec.json.encode(upstream_model))
    data = msgspec.json.decode(body)
    data["model"] = upstream_model
    return msgspec.json.encode(data)


def clamp_max_tokens(body: bytes, fmt: Any, limit: int) -> bytes:
    """The client body with its max output tokens cut to ``limit`` (the model's output limit),
    wherever its format keeps them (``MAX_TOKENS_PATHS``); called only when they exceed it."""
    data = msgspec.json.decode(body)
    for path in fmt.MAX_TOKENS_PATHS:
        holder = data
        for key in path[:-1]:
            holder = holder.get(key) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and isinstance(holder.get(path[-1]), int) and holder[path[-1]] > limit:
            holder[path[-1]] = limit
    return msgspec.json.encode(data)


async def open_upstream(
    gw: Gateway, target: Target, url: str, body: bytes, headers: dict[str, str] | None = None
) -> H1Response:
    """POST ``body`` (``headers``: the client's forwarded ones, over the target's); errors
    (including HTTP ≥ 400) raise ``GatewayError``."""
    try:
        resp = await gw.upstream.request("POST", url, {**target.headers, **headers} if headers else target.headers,
                                         body)
    except UPSTREAM_ERRORS as exc:
        raise map_exception(exc, target.provider) from None
    if resp.status >= 400:
        raw = await read_all(resp, target)
        raise FORMATS[target.spec.format].decode_error(resp.status, raw, target.provider)
    return resp


async def read_all(resp: H1Response, target: Target) -> bytes:
    """The whole upstream body; a broken or stalled body raises ``GatewayError``."""
    try:
        return await resp.read()
    except UPSTREAM_ERRORS as exc:
        raise map_exception(exc, target.provider) from None


async def attempt(
    gw: Gateway, route: Route, body: bytes, stream: bool, headers: dict[str, str] | None,
    ctx: RequestContext,
) -> tuple[Target, H1Response]:
    """Try the route's accounts in order; the first that answers wins. Each try is added
    to ``ctx.attempts``."""
    ctx.route = route
    last: GatewayError | None = None
    for target in route.targets:
        began = time.perf_counter()
        try:
            resp = await open_upstream(gw, target, target.chat_url(route.model, stream), body, headers)
        except GatewayError as err:
            ctx.attempts.append(Attempt(target.provider, target.connection_id, route.model,
                                        err.status if err.provider else 0, err.kind.value,
                                        (time.perf_counter() - began) * 1000))
            last = err
            if not err.fallback:
                raise
        else:
            ctx.attempts.append(Attempt(target.provider, target.connection_id, route.model, resp.status, None,
                                        (time.perf_counter() - began) * 1000))
            return target, resp
    assert last is not None
    raise last


async def relay_json(send: Any, resp: H1Response, target: Target) -> None:
    """Non-streaming pass-through."""
    body = await read_all(resp, target)
    await send(_START_JSON)
    await send({"type": "http.response.body", "body": body})


#: format -> markers that only the last event of a complete stream carries (None: none exists)
STREAM_END: dict[str, tuple[bytes, ...] | None] = {
    "openai_chat": (b"[DONE]",),
    "anthropic": (b"message_stop",),
    "openai_responses": (b"response.completed", b"response.incomplete", b"response.failed"),
    "ollama": (b'"done":true', b'"done": true'),
    "gemini": None,  # no end marker: only a broken connection is detected
}


def _last_boundary(data: bytes, framing: str) -> int:
    """End of the last whole frame in ``data`` (0 when there is none)."""
    if framing == "ndjson":
        return data.rfind(b"\n") + 1
    return max(data.rfind(b"\n\n") + 2, data.rfind(b"\r\n\r\n") + 4, 0) if b"\n" in data else 0


async def relay_stream(
    send: Any, receive: Any, resp: H1Response, target: Target, fmt: Any, ctx: RequestContext
) -> None:
    """Streaming pass-through: forward whole frames (SSE events, NDJSON lines) as they arrive."""
    watcher = asyncio.get_running_loop().create_task(close_on_disconnect(receive, resp))
    framing, ends = fmt.FRAMING, STREAM_END[fmt.NAME]
    await send(_START_SSE if framing == "sse" else _START_NDJSON)
    tail = b""
    last = b""
    try:
        async for chunk in resp:
            data = tail + chunk if tail else chunk
            cut = _last_boundary(data, framing)
            if cut <= 0:
                tail = data
                continue
            tail, last = data[cut:], data[:cut]
            await send({"type": "http.response.body", "body": last, "more_body": True})
        body = last.rstrip(b"\r\n")
        end = body[_last_boundary(body, framing) :] + tail  # the final frame, however long
        if ends is not None and not any(marker in end for marker in ends):
            raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, "upstream stream ended before it was complete")
        await send({"type": "http.response.body", "body": tail})
    except (*UPSTREAM_ERRORS, GatewayError) as exc:
        if watcher.done():
            return  # the client left; nothing to tell it
        err = exc if isinstance(exc, GatewayError) else map_exception(exc, target.provider)
        ctx.error = err
        await send({"type": "http.response.body", "body": fmt.encode_stream_error(err)})
    finally:
        watcher.cancel()
        resp.close()


async def close_on_disconnect(receive: Any, resp: H1Response) -> None:
    """Wait for the client to leave; then close the upstream response (the upstream sees it)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            resp.close()
            return
