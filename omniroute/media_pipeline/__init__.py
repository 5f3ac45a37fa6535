"""The media endpoints' pipeline: the chat pipeline's routing, hooks and attempts, with a
per-endpoint job instead of the chat relay.

::

    handler: body checked (embeddings/images view, or the spooled form), ctx filled
      └▶ serve_media: route resolved (aliases, combos, policies) ─▶ every leg checked: its row
           offers the endpoint, its model is not known as another kind (400)
           ─▶ pre-hooks (rate limits, budgets, operators') ─▶ pipeline.attempt over the
           route's accounts, each try the job's ``exchange`` (fallback as for chat)
           ─▶ the winning answer sent; ``ctx.response.usage`` and ``ctx.units`` set for
           the post-hooks (usage records) that run after it

A job (``MediaJob``) says what one try does: ``prepare(row, leg)`` builds the upstream
request once per provider and model; ``exchange(target, leg, prepared)`` makes the calls and
answers the client's body, translated when the row's dialect is not OpenAI's (raising
``GatewayError`` so that a failure falls back). ``post`` is the one upstream call they
share: its answer must be of the expected kind (JSON, text, an image), else the try fails
as ``upstream_protocol`` (502, falls back) as a chat answer's would.

A pre-hook's answer cannot answer a media request (a canonical chat ``Response``): it is
ignored here, and the request goes upstream. ``ctx.request`` is an empty canonical request
so that hooks that read it find one.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from omniroute.canonical import Request
from omniroute.context import RequestContext
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.registry import FORMATS
from omniroute.gateway import Gateway
from omniroute.guard import guarded
from omniroute.media.audio import decode_error as decode_media_error
from omniroute.pipeline import attempt, deadline_of, open_upstream, resolve
from omniroute.relay import is_json, read_all, start
from omniroute.routing.registry import Leg, Route
from omniroute.routing.targets import Target
from omniroute.upstream import UPSTREAM_ERRORS, H1Response, StreamBody, map_exception

#: kind → what the endpoint is called in messages
ENDPOINTS = {"embedding": "embeddings", "image": "image generation", "audio": "transcription"}
JSON, TEXT, IMAGE = "json", "text", "image"
FULL_CHECK = 64 * 1024
TAIL = 512


@dataclass
class MediaJob:
    kind: str  # providers.row EMBEDDING / IMAGE / AUDIO
    prepare: Callable[[Target, Leg], Any]
    exchange: Callable[[Target, Leg, Any], Awaitable[bytes]]
    content_type: bytes = b"application/json"  # of the answer; an exchange may change it
    rest: H1Response | None = None  # a large answer still arriving (``post_head``): relayed as it comes
    first: bytes = b""  # what ``post_head`` read of it
    on_tail: Callable[[bytes], None] | None = None  # given the answer's last bytes once relayed


async def serve_media(gw: Gateway, ctx: RequestContext, send: Any, receive: Any, job: MediaJob,
                      route_model: str | None = None) -> None:
    """Answer the media request in ``ctx`` with ``job`` (see the module doc)."""
    route = resolve(gw, ctx, route_model or ctx.model)
    check_route(gw, route, job.kind)
    ctx.deadline = deadline_of(gw, ctx)
    hooks = gw.hooks
    if hooks.pre:
        ctx.request = ctx.request or Request(model=ctx.model)
        if await hooks.run_pre(ctx) is not None:
            ctx.answered_by, ctx.response = None, None  # a chat answer cannot answer this request
    await guarded(receive, ctx, _exchange(gw, ctx, send, route, job))


async def _exchange(gw: Gateway, ctx: RequestContext, send: Any, route: Route, job: MediaJob) -> None:
    won = await attempt(gw, ctx, route, lambda _fmt, _spec, _leg: None, _no_url, exchange=_prepared(job),
                        key_of=_key)
    if job.rest is None:
        await send(start(ctx, [(b"content-type", job.content_type)]))
        await send({"type": "http.response.body", "body": won.first})
        return
    headers = [(b"content-type", job.content_type)]
    length = job.rest.headers.get("content-length")
    if length is not None and length.isdigit():  # the client reads a sized body faster than chunks
        headers.append((b"content-length", length.encode()))
    await send(start(ctx, headers))
    await _relay_rest(send, won.first, job.rest, won.target, ctx, job.on_tail)


async def _relay_rest(send: Any, first: bytes, resp: H1Response, target: Target, ctx: RequestContext,
                      on_tail: Callable[[bytes], None] | None) -> None:
    """The rest of a large answer, sent as it arrives; ``on_tail`` gets its last bytes. A body
    that breaks now ends the client's answer short (it is past committing)."""
    tail = first[-TAIL:]
    try:
        await send({"type": "http.response.body", "body": first, "more_body": True})
        while reads := await resp.next_reads():  # as read: a large piece is never copied here
            for piece in reads:
                tail = piece[-TAIL:] if len(piece) >= TAIL else (tail + piece)[-TAIL:]
                await send({"type": "http.response.body", "body": piece, "more_body": True})
    except UPSTREAM_ERRORS as exc:
        ctx.error = map_exception(exc, target.provider)
        raise ctx.error from None
    finally:
        resp.close()
    ctx.upstream_ended = time.perf_counter()
    if on_tail is not None:
        on_tail(tail)
    await send({"type": "http.response.body", "body": b""})


def _prepared(job: MediaJob) -> Callable[[Target, Leg, Any], Awaitable[bytes]]:
    """The job's exchange with its prepared request, built once per provider and model."""
    built: dict[tuple[str, str], Any] = {}

    async def run(target: Target, leg: Leg, _unused: Any) -> bytes:
        key = _key(target, leg)
        if key not in built:
            built[key] = job.prepare(target, leg)
        return await job.exchange(target, leg, built[key])

    return run


def _key(target: Target, leg: Leg) -> tuple[str, str]:
    return target.spec.id, leg.model


def _no_url(target: Target, leg: Leg) -> str:
    raise AssertionError("media jobs make their own calls")


def check_route(gw: Gateway, route: Route, kind: str) -> None:
    """400 when a leg's row does not offer the endpoint or its model is known as another kind."""
    what = ENDPOINTS[kind]
    for leg in route.flat():
        spec = leg.targets[0].spec
        if spec.media(kind) is None:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"provider '{spec.id}' offers no {what} endpoint "
                               f"(model '{leg.key}'); it offers: {', '.join(spec.capabilities)}", param="model",
                               code="unsupported_endpoint")
        found = gw.registry.kind_of(spec.id, leg.model)
        if found is not None and found != kind:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"model '{leg.key}' is a{'n' if found[0] in 'aei' else ''} "
                               f"{found} model, not a{'n' if kind[0] in 'aei' else ''} {kind} model: use it on its own "
                               f"endpoint", param="model", code="wrong_model_type")


async def post(gw: Gateway, ctx: RequestContext, target: Target, url: str, body: bytes | StreamBody,
               headers: dict[str, str] | None = None, expect: str = JSON, method: str = "POST") -> tuple[bytes, str]:
    """One upstream call, its whole answer read and checked to be ``expect`` (JSON, text or
    an image): (body, content type). Failures raise ``GatewayError``."""
    decode = functools.partial(decode_media_error, fallback=FORMATS[target.spec.format].decode_error)
    resp = await open_upstream(gw, target, url, body, headers, method=method,
                               decode_error=decode)
    raw = await read_all(resp, target, ctx)
    ctype = resp.headers.get("content-type", "")
    problem = _unexpected(raw, ctype, expect)
    if problem is not None:
        raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, f"upstream answered {resp.status} with {problem}",
                           provider=target.provider)
    return raw, ctype


async def post_head(gw: Gateway, ctx: RequestContext, target: Target, job: MediaJob, url: str,
                    body: bytes) -> bytes | None:
    """A JSON call whose answer may be large: read up to ``FULL_CHECK`` bytes; a whole answer
    that small is checked and returned (as ``post`` does), a larger one must begin as JSON
    does and is relayed from here as it arrives (``job.rest``: the client's first byte does
    not wait for the upstream's last). Answers the whole body, or ``None`` and the first
    bytes go in ``job.rest``'s relay."""
    decode = functools.partial(decode_media_error, fallback=FORMATS[target.spec.format].decode_error)
    resp = await open_upstream(gw, target, url, body, decode_error=decode)
    head, size = [], 0
    try:
        async for piece in resp:
            head.append(piece)
            size += len(piece)
            if size > FULL_CHECK:
                break
    except UPSTREAM_ERRORS as exc:
        raise map_exception(exc, target.provider) from None
    data = b"".join(head)
    if size <= FULL_CHECK:
        ctx.upstream_ended = time.perf_counter()
        problem = _unexpected(data, "", JSON)
    else:
        problem = None if data.lstrip()[:1] in (b"{", b"[") else "a body that is not JSON"
    if problem is not None:
        resp.close()
        raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, f"upstream answered {resp.status} with {problem}",
                           provider=target.provider)
    if size <= FULL_CHECK:
        return data
    job.rest, job.first = resp, data
    return None


def _unexpected(raw: bytes, ctype: str, expect: str) -> str | None:
    if not raw.strip():
        return "an empty body"
    if expect == JSON and not _looks_json(raw):
        return "a body that is not JSON"
    if expect == TEXT and ctype.startswith("text/html"):
        return "an HTML page"
    if expect == IMAGE and not ctype.startswith("image/"):
        return f"'{ctype or 'no content type'}', not an image"
    return None


def _looks_json(raw: bytes) -> bool:
    """A JSON answer: checked whole up to ``FULL_CHECK`` bytes; a larger one (a thousand
    vectors) by its ends — an object, or an array — since a body cut short was already
    refused by its framing, and the whole check costs ~0.5 ms a megabyte."""
    if len(raw) <= FULL_CHECK:
        return is_json(raw)
    body = raw.strip()
    return (body[:1], body[-1:]) in ((b"{", b"}"), (b"[", b"]"))


def translated(decode: Callable[[], Any], provider: str) -> Any:
    """``decode()``'s result; an answer not of the upstream's documented shape is an upstream
    fault (502, falls back), not a gateway crash."""
    try:
        return decode()
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise GatewayError(ErrorKind.UPSTREAM_PROTOCOL, f"upstream answer is not of its documented shape ({exc!r})",
                           provider=provider) from None
