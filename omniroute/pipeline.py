"""The request pipeline of the model endpoints: hooks, attempts, relay.

::

    handler: body read, decoded (a view, or the canonical request), ctx filled
      └▶ serve: route resolved ─▶ pre-hooks ─┬─ one answered ─▶ its answer, encoded for the client
                                             └▶ attempts over the route's targets
                                                  ├─ same format:  relay.relay_json / relay_stream (bytes)
                                                  └─ other format: translate.relay_translated_*
      (after the last byte, from the app: post-hooks, ``hooks.HookChain.schedule_post``)

Per target the upstream body is built once per (format, model): the client's bytes with the
model renamed (pass-through, ``relay``), or the canonical request encoded in the target's
format (``translate``). The canonical request is decoded only when something needs it: a
cross-format target, a hook with ``needs_request``, or a check on a same-format body that
reads its content (images to a text-only model).

Failure handling, per attempt (an attempt is one account of the route):

=========================================  ==============================================
what happened                              what the client gets
=========================================  ==============================================
connect refused / DNS / reset              next account, else 502 (UPSTREAM_UNREACHABLE)
no headers within ``first_byte_timeout``   next account, else 504 (UPSTREAM_TIMEOUT)
upstream 4xx/5xx                           429/5xx: next account; else that status with
                                           the upstream's message, in the client's dialect
stream broken after it started             the format's error event (``relay``,
                                           ``translate``)
client disconnects, at any point           this request's task is cancelled: the upstream
                                           call or response is closed at once (the
                                           upstream sees its connection close)
=========================================  ==============================================
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from types import ModuleType
from typing import Any

import msgspec

from omniroute.canonical import Response
from omniroute.canonical.assemble import Assembler, replay
from omniroute.context import Attempt, RequestContext
from omniroute.errors import GatewayError
from omniroute.formats import anthropic
from omniroute.formats._framing import NDJSONDecoder, SSEDecoder
from omniroute.formats.registry import FORMATS
from omniroute.gateway import Gateway
from omniroute.providers.fit import check_images
from omniroute.providers.specs import ProviderSpec
from omniroute.relay import (
    JSON_HEADERS,
    STREAM_HEADERS,
    clamp_max_tokens,
    read_all,
    relay_json,
    relay_stream,
    rewrite_model,
    start,
)
from omniroute.routing.registry import Route
from omniroute.routing.targets import Target
from omniroute.translate import relay_translated_json, relay_translated_stream, translated_body
from omniroute.transport import map_exception
from omniroute.upstream_h1 import UPSTREAM_ERRORS, H1Response

Prepared = tuple[bytes, dict[str, str] | None]


async def serve(gw: Gateway, ctx: RequestContext, send: Any, receive: Any,
                make_encoder: Callable[[], Any] | None = None, model_in_body: bool = True) -> None:
    """Answer the model request in ``ctx`` (filled by its handler). ``make_encoder``: a
    stream encoder other than the client format's default (Gemini's JSON-array stream),
    which also forces re-encoding on a same-format route; ``model_in_body``: the client
    body names the model (not Gemini, whose model is in the URL)."""
    route = gw.registry.resolve(ctx.model)
    ctx.route = route
    hooks = gw.hooks
    if hooks.needs_answer:
        ctx.captured = []
    if hooks.pre:
        answer = await hooks.run_pre(ctx)
        if answer is not None:
            await send_answer(send, ctx, answer, make_encoder)
            return
    await until_disconnect(receive, ctx, _exchange(gw, ctx, send, route, make_encoder, model_in_body))


async def _exchange(gw: Gateway, ctx: RequestContext, send: Any, route: Route,
                    make_encoder: Callable[[], Any] | None, model_in_body: bool) -> None:
    client = ctx.client
    reframe = make_encoder is not None

    def prepare(upstream: ModuleType, spec: ProviderSpec) -> Prepared:
        if upstream is client and not reframe:
            return passthrough_body(ctx, spec, route, model_in_body)
        body = translated_body(ctx.canonical(), client, upstream, spec, route.model, route.info)
        return body, ctx.forward if upstream is client else None

    target, resp, upstream = await attempt(gw, ctx, route, prepare, lambda t: t.chat_url(route.model, ctx.stream))
    if upstream is client and not reframe:
        if ctx.stream:
            await relay_stream(send, resp, target, client, ctx)
        else:
            await relay_json(send, resp, target, ctx)
    elif ctx.stream:
        encoder = make_encoder() if make_encoder else client.StreamEncoder(ctx.model, ctx.canonical().include_usage)
        await relay_translated_stream(send, resp, target, upstream, encoder, ctx)
    else:
        await relay_translated_json(send, resp, target, upstream, ctx)


def passthrough_body(ctx: RequestContext, spec: ProviderSpec, route: Route, model_in_body: bool) -> Prepared:
    """The client's bytes for a same-format upstream: model renamed, max tokens clamped to
    the model's limit, images refused for a model without vision, and (Anthropic) system
    turns folded for a row that does not take them."""
    info = route.info
    if spec.text_only or (info is not None and not info.vision):  # contents are decoded only here
        check_images(ctx.canonical(), spec, route.model, info)
    body = rewrite_model(ctx.body, ctx.model, route.model) if model_in_body else ctx.body
    limit = info.max_output if info is not None else None
    if limit is not None and ctx.max_tokens is not None and ctx.max_tokens > limit:
        body = clamp_max_tokens(body, ctx.client, limit)
    if ctx.client is anthropic:
        return _mid_conversation_system(spec, ctx, body)
    return body, ctx.forward


def _mid_conversation_system(spec: ProviderSpec, ctx: RequestContext, body: bytes) -> Prepared:
    """System messages inside ``messages`` stay for a row that takes them (the client's beta
    header goes with them); for any other Anthropic-format row they are folded into the
    user turn and the beta is left out of the forwarded ``anthropic-beta``."""
    headers = ctx.forward
    if spec.mid_conversation_system or not any(m.role == "system" for m in ctx.canonical().messages):
        return body, headers
    if headers and "anthropic-beta" in headers:
        betas = [b for b in headers["anthropic-beta"].split(",") if b.strip() != anthropic.MID_CONVERSATION_BETA]
        headers = {k: v for k, v in headers.items() if k != "anthropic-beta"}
        if betas:
            headers["anthropic-beta"] = ",".join(betas)
    return anthropic.fold_system_messages(body), headers


async def attempt(gw: Gateway, ctx: RequestContext, route: Route,
                  prepare: Callable[[ModuleType, ProviderSpec], Prepared],
                  url_of: Callable[[Target], str]) -> tuple[Target, H1Response, ModuleType]:
    """Try the route's accounts in order; the first that answers wins. The body for each is
    ``prepare(upstream format, row)``, built once per format. Each try is added to
    ``ctx.attempts``; the winner is ``ctx.served``."""
    prepared: dict[str, Prepared] = {}
    last: GatewayError | None = None
    ctx.upstream_began = time.perf_counter()
    for target in route.targets:
        upstream = FORMATS[target.spec.format]
        body_headers = prepared.get(upstream.NAME)
        if body_headers is None:
            body_headers = prepared[upstream.NAME] = prepare(upstream, target.spec)
        began = time.perf_counter()
        try:
            resp = await open_upstream(gw, target, url_of(target), *body_headers)
        except GatewayError as err:
            ctx.attempts.append(Attempt(target.provider, target.connection_id, route.model,
                                        err.status if err.provider else 0, err.kind.value,
                                        (time.perf_counter() - began) * 1000))
            last = err
            if not err.fallback:
                raise
            continue
        ctx.attempts.append(Attempt(target.provider, target.connection_id, route.model, resp.status, None,
                                    (time.perf_counter() - began) * 1000))
        ctx.served, ctx.upstream_format = target, upstream.NAME
        return target, resp, upstream
    assert last is not None
    raise last


async def open_upstream(gw: Gateway, target: Target, url: str, body: bytes,
                        headers: dict[str, str] | None = None) -> H1Response:
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


async def until_disconnect(receive: Any, ctx: RequestContext, work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` in this task while watching the client: when it disconnects, the task is
    cancelled (closing the upstream call or response) and ``ctx.disconnected`` is set."""
    task = asyncio.current_task()
    assert task is not None
    watcher = asyncio.get_running_loop().create_task(_cancel_on_disconnect(receive, task, ctx))
    try:
        await work
    except asyncio.CancelledError:
        if not ctx.disconnected:
            raise
        task.uncancel()
    finally:
        watcher.cancel()


async def _cancel_on_disconnect(receive: Any, task: asyncio.Task[Any], ctx: RequestContext) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    ctx.disconnected = True
    task.cancel()


async def send_answer(send: Any, ctx: RequestContext, answer: Response,
                      make_encoder: Callable[[], Any] | None = None) -> None:
    """A pre-hook's answer in the client's format: one JSON body, or — for a streaming
    request — told again as the client's own stream (usage included)."""
    answer = msgspec.structs.replace(answer, model=ctx.model)
    client = ctx.client
    if not ctx.stream:
        await send(start(ctx, JSON_HEADERS))
        await send({"type": "http.response.body", "body": client.encode_response(answer)})
        return
    encoder = make_encoder() if make_encoder else client.StreamEncoder(ctx.model, ctx.canonical().include_usage)
    body = b"".join(encoder.encode(event) for event in replay(answer))
    ctx.first_byte = time.perf_counter()
    await send(start(ctx, STREAM_HEADERS[client.FRAMING]))
    await send({"type": "http.response.body", "body": body})


def collect_answer(ctx: RequestContext) -> None:
    """Assemble ``ctx.response`` from the captured upstream bytes (post-hooks, off the
    request path): decoded by the served format's own decoders, usage included."""
    if ctx.response is not None or not ctx.captured or ctx.upstream_format is None:
        return
    upstream = FORMATS[ctx.upstream_format]
    if not ctx.stream:
        ctx.response = upstream.decode_response(b"".join(ctx.captured))
        return
    framer = SSEDecoder() if upstream.FRAMING == "sse" else NDJSONDecoder()
    decoder = upstream.StreamDecoder()
    assembler = Assembler()
    for chunk in ctx.captured:
        for frame in framer.feed(chunk):
            for event in decoder.feed(frame):
                assembler.feed(event)
    for frame in framer.close():
        for event in decoder.feed(frame):
            assembler.feed(event)
    for event in decoder.close():
        assembler.feed(event)
    ctx.response = assembler.response
