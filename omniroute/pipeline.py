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

import time
from collections.abc import Awaitable, Callable, Coroutine
from types import ModuleType
from typing import Any, NamedTuple

import msgspec

from omniroute.answers import send_answer
from omniroute.context import Attempt, RequestContext
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import anthropic, openai_chat
from omniroute.formats.registry import FORMATS
from omniroute.formats.usage import ask_for_usage
from omniroute.gateway import Gateway
from omniroute.guard import guarded
from omniroute.progress import Progress
from omniroute.providers.fit import check_images
from omniroute.providers.specs import ProviderSpec
from omniroute.relay import (
    clamp_max_tokens,
    deadline_error,
    prime,
    read_all,
    relay_json,
    relay_stream,
    rewrite_model,
)
from omniroute.routing.health import Blocked, falls_back, retry_after
from omniroute.routing.policies import restrict, rewrite
from omniroute.routing.registry import Leg, Route
from omniroute.routing.targets import Target
from omniroute.translate import relay_translated_json, relay_translated_stream, translated_body
from omniroute.upstream import UPSTREAM_ERRORS, H1Response, StreamBody, map_exception

Prepared = tuple[bytes, dict[str, str] | None]
__all__ = ["attempt", "open_upstream", "resolve", "send_answer", "serve"]


async def serve(gw: Gateway, ctx: RequestContext, send: Any, receive: Any,
                make_encoder: Callable[[], Any] | None = None, model_in_body: bool = True,
                route_model: str | None = None) -> None:
    """Answer the model request in ``ctx`` (filled by its handler). ``make_encoder``: a
    stream encoder other than the client format's default (Gemini's JSON-array stream),
    which also forces re-encoding on a same-format route; ``model_in_body``: the client
    body names the model (not Gemini, whose model is in the URL); ``route_model``: resolve
    this id instead of ``ctx.model`` (a provider-pinned route)."""
    route = resolve(gw, ctx, route_model or ctx.model)
    ctx.deadline = deadline_of(gw, ctx)  # a bad X-OmniRoute-Timeout is refused before limits count it
    hooks = gw.hooks
    if hooks.needs_capture or gw.recorder is not None:  # usage is read from the answer's bytes
        ctx.captured = []
    progress = Progress.of(ctx, send) if ctx.options is not None else None
    if not hooks.pre and progress is None:
        await guarded(receive, ctx, _exchange(gw, ctx, send, route, make_encoder, model_in_body))
        return
    if progress is not None:
        ctx.progress, send = progress, progress.sender
    work = _hooked(gw, ctx, send, route, make_encoder, model_in_body)
    if progress is None or not progress.comments:
        await guarded(receive, ctx, work)
        return
    await _progressing(receive, ctx, send, work)


async def _hooked(gw: Gateway, ctx: RequestContext, send: Any, route: Route,
                  make_encoder: Callable[[], Any] | None, model_in_body: bool) -> None:
    """Pre-hooks (one may answer), then the attempts; inside ``guarded``, so a client that
    leaves while a hook waits (coalescing, idempotency) cancels the wait too."""
    if gw.hooks.pre:
        answer = await gw.hooks.run_pre(ctx)
        if answer is not None:
            await send_answer(send, ctx, answer, make_encoder)
            return
    if ctx.progress is not None:
        await ctx.progress.emit("queued")
    await _exchange(gw, ctx, send, route, make_encoder, model_in_body)


async def _progressing(receive: Any, ctx: RequestContext, send: Any, work: Coroutine[Any, Any, None]) -> None:
    """``work`` for a stream whose head may go out early (progress comments): a failure after
    the head is the client format's stream error event, not an error status."""
    try:
        await guarded(receive, ctx, work)
    except GatewayError as err:
        if not ctx.progress.head_sent:
            raise
        ctx.error = err
        await send({"type": "http.response.body", "body": ctx.client.encode_stream_error(err)})
        return
    if ctx.expired and not ctx.disconnected and ctx.error is None:  # before the relay began
        ctx.error = deadline_error(ctx.deadline)
        await send({"type": "http.response.body", "body": ctx.client.encode_stream_error(ctx.error)})


def resolve(gw: Gateway, ctx: RequestContext, model: str) -> Route:
    """The route for ``model``: the key's policies (rewrite, then allow/deny) applied — once
    per (model, key) and snapshot, then from a dict."""
    registry = gw.registry
    if not registry.policies:
        route = registry.resolve(model)
    else:
        key_id = ctx.key.id if ctx.key else None
        route = registry.restricted.get((model, key_id))
        if route is None:
            policies = registry.policies_for(key_id)
            wanted = rewrite(model, policies) if policies else model
            route = registry.resolve(wanted)
            if policies:
                route = restrict(route, policies, wanted)
            registry.remember_restricted((model, key_id), route)
    ctx.route = route
    return route


def deadline_of(gw: Gateway, ctx: RequestContext) -> float:
    """The profile's ``requestTimeoutS``, lowered (never raised) by ``X-OmniRoute-Timeout``."""
    seconds = gw.registry.resilience.default.request_timeout_s
    asked = ctx.option(b"x-omniroute-timeout")
    if asked is not None:
        try:
            value = float(asked)
        except ValueError:
            value = 0.0
        if not value > 0:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"X-OmniRoute-Timeout must be a number of seconds > 0, "
                               f"not {asked!r}", param="X-OmniRoute-Timeout")
        seconds = min(seconds, value)
    return seconds


async def _exchange(gw: Gateway, ctx: RequestContext, send: Any, route: Route,
                    make_encoder: Callable[[], Any] | None, model_in_body: bool) -> None:
    client = ctx.client
    reframe = make_encoder is not None
    relay_body = not gw.hooks.rewrites_request  # a hook changed the request: re-encode it

    def prepare(upstream: ModuleType, spec: ProviderSpec, leg: Leg) -> Prepared:
        if upstream is client and not reframe and relay_body:
            return passthrough_body(ctx, spec, leg, model_in_body)
        req = ctx.canonical()
        if len(route.legs) > 1:  # fitting changes the request: each model gets its own copy
            req = msgspec.structs.replace(req)
        body = translated_body(req, client, upstream, spec, leg.model, leg.info)
        return body, ctx.forward if upstream is client else None

    won = await attempt(gw, ctx, route, prepare, lambda t, leg: t.chat_url(leg.model, ctx.stream))
    if won.upstream is client and not reframe:
        if ctx.stream:
            await relay_stream(send, won.first, won.resp, won.target, client, ctx)
        else:
            await relay_json(send, won.first, ctx)
    elif ctx.stream:
        encoder = make_encoder() if make_encoder else client.StreamEncoder(ctx.model, ctx.canonical().include_usage)
        await relay_translated_stream(send, won.first, won.resp, won.target, won.upstream, encoder, ctx)
    else:
        await relay_translated_json(send, won.first, won.upstream, ctx)


def passthrough_body(ctx: RequestContext, spec: ProviderSpec, leg: Leg, model_in_body: bool) -> Prepared:
    """The client's bytes for a same-format upstream: model renamed, max tokens clamped to
    the model's limit, images refused for a model without vision, (Anthropic) system
    turns folded for a row that does not take them, and (an OpenAI Chat stream) usage asked
    for when the client did not ask: usage records, token limits and budgets need the
    upstream's counts, and the relay takes that chunk out of the client's stream again."""
    info = leg.info
    if spec.text_only or (info is not None and not info.vision):  # contents are decoded only here
        check_images(ctx.canonical(), spec, leg.model, info)
    body = rewrite_model(ctx.body, ctx.model, leg.model) if model_in_body else ctx.body
    limit = info.max_output if info is not None else None
    if limit is not None and ctx.max_tokens is not None and ctx.max_tokens > limit:
        body = clamp_max_tokens(body, ctx.client, limit)
    if ctx.stream and ctx.client is openai_chat:
        asked = ask_for_usage(body)
        if asked is not None:
            body, ctx.usage_injected = asked, True
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


class Won(NamedTuple):
    """The attempt that answered: its leg and account, the open response, the upstream's
    format and what was read of the answer before committing to it (``relay.prime``)."""

    leg: Leg
    target: Target
    resp: H1Response | None  # None: a custom exchange read the whole answer
    upstream: ModuleType
    first: bytes


Exchange = Callable[[Target, Leg, Any], Awaitable[bytes]]


async def attempt(gw: Gateway, ctx: RequestContext, route: Route,
                  prepare: Callable[[ModuleType, ProviderSpec, Leg], Any],
                  url_of: Callable[[Target, Leg], str], exchange: Exchange | None = None,
                  key_of: Callable[[Target, Leg], Any] | None = None) -> Won:
    """Try the route's candidates in the router's order, skipping unavailable accounts; the
    first that answers wins (routing/health.py decides what falls back). The body for each
    is ``prepare(upstream format, row, leg)``, built once per ``key_of(target, leg)``
    (default: per format and model). Each try is added to ``ctx.attempts``; the winner is
    ``ctx.served``, named in the answer's headers. ``exchange(target, leg, prepared)``
    replaces the one POST and its priming (media: several calls, answers that are not
    JSON); it answers the whole body, and ``Won.resp`` is then ``None``."""
    router = gw.router
    prepared: dict[tuple[str, str], Prepared] = {}
    skipped: list[tuple[Target, Blocked]] = []
    last: GatewayError | None = None
    now = time.time()
    pin = ctx.option(b"x-omniroute-connection")
    ctx.upstream_began = time.perf_counter()
    for leg, target in router.candidates(route, ctx, pin):
        if ctx.attempts:  # attempts take time: later accounts are judged as of now
            now = time.time()
        held = router.blocked(target, now)
        if held is not None:
            skipped.append((target, held))
            continue
        upstream = FORMATS[target.spec.format]
        key = key_of(target, leg) if key_of is not None else (upstream.NAME, leg.model)
        body_headers = prepared.get(key)
        if body_headers is None:
            body_headers = prepared[key] = prepare(upstream, target.spec, leg)
        try:
            resp, first, latency = await _try(gw, ctx, target, leg, upstream, url_of, body_headers, exchange)
        except GatewayError as err:
            last = err
            if not falls_back(err):
                break
            continue
        ctx.attempts.append(Attempt(target.provider, target.connection_id, leg.model, resp.status if resp else 200,
                                    None, latency))
        ctx.served, ctx.upstream_format = target, upstream.NAME
        router.served(route, leg, target, latency, resp.headers if resp else {})
        _name_server(ctx, target, leg)
        return Won(leg, target, resp, upstream, first)
    if last is not None:
        _name_server(ctx, None, None)
        if last.retry_after is not None:
            ctx.add_header(b"retry-after", max(1, int(last.retry_after + 0.999)))
        raise last
    if pin is not None and not skipped:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"connection '{pin}' (X-OmniRoute-Connection) does not serve "
                           f"model '{ctx.model}'", param="X-OmniRoute-Connection")
    err = router.unavailable(skipped, now)
    if err.retry_after is not None:
        ctx.add_header(b"retry-after", int(err.retry_after))
    raise err


async def _try(gw: Gateway, ctx: RequestContext, target: Target, leg: Leg, upstream: ModuleType,
               url_of: Callable[[Target, Leg], str], body_headers: Any,
               exchange: Exchange | None) -> tuple[H1Response | None, bytes, float]:
    """Ask one account and read its answer up to the first frame (``exchange``: the whole
    exchange instead, no response then): (response, what was read, milliseconds). A failure
    is recorded (``ctx.attempts``, the account's health) and raised. Progress stages
    (``routed``, ``fallback``, ``first_token``) are told as they happen."""
    progress = ctx.progress
    if progress is not None:
        await progress.emit("routed", provider=target.provider, connection=target.connection_id, model=leg.model,
                            attempt=len(ctx.attempts) + 1)
    began = time.perf_counter()
    resp: H1Response | None = None
    try:
        if exchange is None:
            resp = await open_upstream(gw, target, url_of(target, leg), *body_headers)
            first = await prime(resp, target, ctx, upstream)
        else:
            first = await exchange(target, leg, body_headers)
    except GatewayError as err:
        ctx.attempts.append(Attempt(target.provider, target.connection_id, leg.model,
                                    err.status if err.provider else 0, err.kind.value,
                                    (time.perf_counter() - began) * 1000))
        gw.router.failed(target, err, time.time())
        if ctx.captured:  # what a failed attempt's primer read is not the answer
            ctx.captured.clear()
        if progress is not None and falls_back(err):
            await progress.emit("fallback", provider=target.provider, model=leg.model, error=err.kind.value,
                                status=err.status)
        raise
    if progress is not None:
        await progress.emit("first_token", ms=progress.since())
    return resp, first, (time.perf_counter() - began) * 1000


def _name_server(ctx: RequestContext, target: Target | None, leg: Leg | None) -> None:
    """``X-OmniRoute-Model/-Provider/-Connection/-Attempts``: who answered (or was tried last)."""
    if target is None:
        if not ctx.attempts:
            return
        tried = ctx.attempts[-1]
        provider, model, connection = tried.provider, tried.model, tried.connection_id
    else:
        provider, model, connection = target.provider, leg.model, target.connection_id
    ctx.add_header(b"x-omniroute-model", f"{provider}/{model}")
    ctx.add_header(b"x-omniroute-provider", provider)
    ctx.add_header(b"x-omniroute-connection", connection)
    ctx.add_header(b"x-omniroute-attempts", len(ctx.attempts))


async def open_upstream(gw: Gateway, target: Target, url: str, body: bytes | StreamBody,
                        headers: dict[str, str] | None = None, method: str = "POST",
                        decode_error: Callable[..., GatewayError] | None = None) -> H1Response:
    """POST ``body`` (``headers``: the client's forwarded ones, over the target's) with the
    timeouts of the target's resilience profile; errors (including HTTP ≥ 400, decoded by
    ``decode_error``, default the row format's) raise ``GatewayError``."""
    base = target.headers
    if target.oauth:  # a subscription account: its current token (and, Code Assist, its project)
        creds = await gw.tokens.credentials(target)
        base, body = creds.headers, creds.body(body)
    headers = merge_headers(base, headers) if headers else base
    timeouts = gw.registry.resilience.timeouts_of(target.provider)
    pool = gw.proxied.get(target.connection_id, gw.upstream) if gw.proxied else gw.upstream
    try:
        resp = await pool.request(method, url, headers, body, timeouts)
    except UPSTREAM_ERRORS as exc:
        raise map_exception(exc, target.provider) from None
    if resp.status >= 400:
        if resp.status == 401 and target.oauth:  # revoked early: refresh before its next use
            gw.tokens.invalidate(target.connection_id)
        raw = await read_all(resp, target)
        err = (decode_error or FORMATS[target.spec.format].decode_error)(resp.status, raw, target.provider)
        err.retry_after = retry_after(resp.headers.get("retry-after"), time.time())
        raise err
    return resp


def merge_headers(base: dict[str, str], forwarded: dict[str, str]) -> dict[str, str]:
    """The target's headers with the client's forwarded ones over them; ``anthropic-beta``
    lists are joined, so a row's own beta (an OAuth row's ``oauth-…``) survives the client's."""
    merged = {**base, **forwarded}
    row_beta, client_beta = base.get("anthropic-beta"), forwarded.get("anthropic-beta")
    if row_beta and client_beta:
        betas = [b.strip() for b in client_beta.split(",") if b.strip()]
        merged["anthropic-beta"] = ",".join([*betas, *(b for b in row_beta.split(",") if b not in betas)])
    return merged
