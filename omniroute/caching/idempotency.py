"""Idempotency: a request repeated under the same key is answered once.

A model request with ``Idempotency-Key`` (or, without one, ``X-Request-Id``) claims that key
(scoped by the client's API key) in the cache's LMDB, across workers
(``omniroute.cache.flights``):

===========================================  ============================================
the key is                                   the request
===========================================  ============================================
free (or its window lapsed)                  leads: it runs; its answer is kept
                                             ``idempotency.windowMs`` after it finished
held by a request with another body          422 ``idempotency_key_conflict``, naming the
                                             key
held by a running identical request          waits for it (at most its own deadline),
                                             then gets its answer
held by a finished identical request         gets the kept answer
===========================================  ============================================

A replay carries ``X-OmniRoute-Idempotent: true`` and is told in the client's format, a
stream replayed as a stream. Only whole answers are kept: a failure, an interrupted stream or
a client that left frees the key, and the next request with it runs again. The body compared
is the client's raw body with the endpoint's format, model and stream flag.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from omniroute.cache.db import Held
from omniroute.cache.exact import decode_response, encode_response
from omniroute.cache.keys import body_key
from omniroute.cache.runtime import CacheRuntime
from omniroute.errors import ErrorKind, GatewayError
from omniroute.hooks import Hook

if TYPE_CHECKING:
    from omniroute.canonical import Response
    from omniroute.context import RequestContext

HEADERS = (b"idempotency-key", b"x-request-id")
REPLAY = (b"x-omniroute-idempotent", b"true")
LEASE_S = 600.0
TRIES = 3


class IdempotencyHook(Hook):
    name = "idempotency"
    post_always = False

    def __init__(self, cache: CacheRuntime) -> None:
        self.cache = cache

    async def pre(self, ctx: RequestContext) -> Response | None:
        options = ctx.options
        if options is None or ctx.operation != "chat":  # media answers are not canonical responses
            return None
        raw = options.get(HEADERS[0]) or options.get(HEADERS[1])
        if not raw or self.cache.config.idempotency.window_ms <= 0:
            return None
        key = body_key("idem", ctx.key.id if ctx.key is not None else "", raw)
        body = body_key(ctx.client_format or "", ctx.model, "stream" if ctx.stream else "json", ctx.body)
        lease = ctx.deadline or LEASE_S
        flights = self.cache.flights
        for _ in range(TRIES):
            held = flights.take(key, body, lease, time.time())
            if held is None:  # this request leads
                state = ctx.hook_state if ctx.hook_state is not None else {}
                state[self.name] = (key, body)
                ctx.hook_state = state
                if ctx.captured is None:
                    ctx.captured = []
                return None
            if held.body != body:
                name = raw.decode("latin-1")
                raise GatewayError(ErrorKind.INVALID_REQUEST, f"Idempotency key '{name}' was already used with a "
                                   "different request; send a new key for a new request", status=422,
                                   param="Idempotency-Key", code="idempotency_key_conflict")
            if not held.done:
                if ctx.progress is not None:
                    await ctx.progress.emit("queued", reason="same idempotency key in flight")
                held = await flights.wait(key, lambda: _done(flights.held(key)), lambda: flights.held(key) is None,
                                          lease)
            if held is not None and held.done:
                ctx.response_headers.append(REPLAY)
                if ctx.progress is not None:
                    ctx.progress.note("cache_hit", match="idempotent")
                return decode_response(held.answer)
        raise GatewayError(ErrorKind.OVERLOADED, "the request with this idempotency key kept failing; retry",
                           status=409, param="Idempotency-Key", code="idempotency_key_in_use")

    async def post(self, ctx: RequestContext) -> None:
        held = ctx.hook_state.get(self.name) if ctx.hook_state else None
        if held is None:
            return
        key, body = held
        answer = ctx.response
        whole = (ctx.status == 200 and ctx.error is None and not ctx.disconnected and not ctx.expired
                 and answer is not None)
        window = self.cache.config.idempotency.window_ms / 1000
        self.cache.flights.finish(key, body, encode_response(answer) if whole else None, time.time() + window)


def _done(held: Held | None) -> Held | None:
    return held if held is not None and held.done else None
