"""Pass-through: the client's bytes go upstream, the upstream's bytes come back.

Used when client and upstream speak the same format (and the answer needs no re-framing):
the body goes upstream with only the model renamed (``rewrite_model``) and, where the
target model needs it, its max tokens clamped (``clamp_max_tokens``); the answer comes back
untouched — non-streaming as one body, streaming relayed frame by frame as reads arrive
(only whole SSE events / NDJSON lines are forwarded, so an error event appended after a
broken stream is never glued to half an event).

=========================================  ==============================================
what happened mid-stream                   what the client gets
=========================================  ==============================================
stream silent for ``stream_idle_timeout``  the format's error event, then the end
stream dropped, or ended without the       the format's error event, then the end
format's end marker (``STREAM_END``)
=========================================  ==============================================

Also here: the content-type header lists every answer starts with, and ``start`` (one
``http.response.start`` with the request's extra ``X-OmniRoute-*`` headers).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec

from omniroute.context import RequestContext
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.usage import strip_usage_chunks
from omniroute.routing.targets import Target
from omniroute.upstream import UPSTREAM_ERRORS, H1Response, map_exception

Headers = list[tuple[bytes, bytes]]

JSON_HEADERS: Headers = [(b"content-type", b"application/json")]
SSE_HEADERS: Headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
NDJSON_HEADERS: Headers = [(b"content-type", b"application/x-ndjson")]
#: a stream's framing → its answer's headers
STREAM_HEADERS: dict[str, Headers] = {"sse": SSE_HEADERS, "ndjson": NDJSON_HEADERS}


def start(ctx: RequestContext, headers: Headers, status: int = 200) -> dict[str, Any]:
    """The ``http.response.start`` message, with the request's extra headers when it has any
    and its progress so far (``omniroute.progress``, headers mode); ``ctx.status`` says from
    now on that the answer has started."""
    if ctx.response_headers:
        headers = headers + ctx.response_headers
    if ctx.progress is not None:
        headers = headers + ctx.progress.head()
    ctx.status = status
    return {"type": "http.response.start", "status": status, "headers": headers}


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


async def read_all(resp: H1Response, target: Target, ctx: RequestContext | None = None) -> bytes:
    """The whole upstream body (kept in ``ctx.captured`` when a hook wants it); a broken or
    stalled body raises ``GatewayError``."""
    try:
        body = await resp.read()
    except UPSTREAM_ERRORS as exc:
        raise map_exception(exc, target.provider) from None
    if ctx is not None:
        ctx.upstream_ended = time.perf_counter()
        if ctx.captured is not None:
            ctx.captured.append(body)
    return body


async def prime(resp: H1Response, target: Target, ctx: RequestContext, fmt: Any) -> bytes:
    """Read what must arrive before the answer is committed to the client — the whole body,
    or a stream up to its first whole frame — so that a 200 that is empty, not JSON, a stream
    that breaks before its first event, or one that is not of its format's framing at all (a
    proxy's HTML page) still falls back to the next target. Answers the bytes read."""
    if not ctx.stream:
        body = await read_all(resp, target, ctx)
        try:
            _probe.decode(body)
        except msgspec.DecodeError:
            what = "an empty body" if not body.strip() else "a body that is not JSON"
            raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, f"upstream answered {resp.status} with {what}",
                               provider=target.provider) from None
        return body
    framing, data = fmt.FRAMING, b""
    try:
        async for chunk in resp:
            if ctx.captured is not None:
                ctx.captured.append(chunk)
            data += chunk
            if _last_boundary(data, framing) > 0:
                return _framed(data, framing, target)
    except UPSTREAM_ERRORS as exc:
        raise map_exception(exc, target.provider) from None
    if not data.strip():
        raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, "upstream ended its stream before the first event",
                           provider=target.provider)
    return _framed(data, framing, target)  # one unterminated frame: the relay decides


_SSE_LINES = (b"data:", b"event:", b"id:", b"retry:", b":")


def _framed(data: bytes, framing: str, target: Target) -> bytes:
    """``data`` when it begins as a stream of ``framing`` does (an SSE field line, a JSON
    line); a 200 whose body is something else (a proxy's HTML page) is an upstream fault."""
    head = data.lstrip()
    if framing == "ndjson":
        try:
            _probe.decode(head.split(b"\n", 1)[0])
            return data
        except msgspec.DecodeError:
            pass
    elif head.startswith(_SSE_LINES):
        return data
    raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, f"upstream answered 200 with a body that is not a {framing} "
                       "stream", provider=target.provider)


class _Probe(msgspec.Struct):
    pass


_probe = msgspec.json.Decoder(_Probe | list | str | int | float | bool | None)


def is_json(body: bytes) -> bool:
    """Whether ``body`` is one JSON value (objects are skipped over, not built: cheap on a
    large answer)."""
    try:
        _probe.decode(body)
    except msgspec.DecodeError:
        return False
    return True


async def relay_json(send: Any, body: bytes, ctx: RequestContext) -> None:
    """Non-streaming pass-through of the primed body."""
    await send(start(ctx, JSON_HEADERS))
    await send({"type": "http.response.body", "body": body})


def deadline_error(seconds: float) -> GatewayError:
    return GatewayError(ErrorKind.UPSTREAM_TIMEOUT, f"the request's deadline of {seconds:g} s passed",
                        code="deadline_exceeded")


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


def _split(tail: bytes, chunk: bytes, framing: str) -> tuple[bytes, bytes]:
    """(what stays back: an unfinished frame, what can go: whole frames) after ``chunk``."""
    data = tail + chunk if tail else chunk
    cut = _last_boundary(data, framing)
    return (data, b"") if cut <= 0 else (data[cut:], data[:cut])


async def relay_stream(send: Any, first: bytes, resp: H1Response, target: Target, fmt: Any,
                       ctx: RequestContext) -> None:
    """Streaming pass-through: forward whole frames (SSE events, NDJSON lines) as they arrive,
    starting with the primed ``first`` bytes. A client that leaves or a deadline that passes
    cancels this task (``pipeline``); the upstream is closed here."""
    framing, ends, captured, strip = fmt.FRAMING, STREAM_END[fmt.NAME], ctx.captured, ctx.usage_injected
    await send(start(ctx, STREAM_HEADERS[framing]))
    tail, last = _split(b"", first, framing)
    try:
        if strip:
            last = strip_usage_chunks(last)
        if last:
            ctx.first_byte = ctx.upstream_ended = time.perf_counter()
            await send({"type": "http.response.body", "body": last, "more_body": True})
        async for chunk in resp:
            if captured is not None:
                captured.append(chunk)
            tail, out = _split(tail, chunk, framing)
            if strip and b"[]" in out:  # the usage chunk's empty choices (cheap test first)
                out = strip_usage_chunks(out)
            if out:
                last = out
                # the upstream time so far: a client that closes on reading the end event (SDKs
                # do) may cancel this task before the upstream's framing ends
                ctx.upstream_ended = now = time.perf_counter()
                if not ctx.first_byte:
                    ctx.first_byte = now
                await send({"type": "http.response.body", "body": out, "more_body": True})
        ctx.upstream_ended = time.perf_counter()
        body = last.rstrip(b"\r\n")
        end = body[_last_boundary(body, framing) :] + tail  # the final frame, however long
        if ends is not None and not any(marker in end for marker in ends):
            raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, "upstream stream ended before it was complete")
        await send({"type": "http.response.body", "body": strip_usage_chunks(tail) if strip else tail})
    except (*UPSTREAM_ERRORS, GatewayError) as exc:
        err = exc if isinstance(exc, GatewayError) else map_exception(exc, target.provider)
        ctx.error = err
        await send({"type": "http.response.body", "body": fmt.encode_stream_error(err)})
    except asyncio.CancelledError:
        if ctx.expired:  # the deadline: the client hears why its stream ends
            ctx.error = deadline_error(ctx.deadline)
            await send({"type": "http.response.body", "body": fmt.encode_stream_error(ctx.error)})
        raise
    finally:
        resp.close()
