"""The cache hook: exact and semantic lookups before the attempts, the answer kept after.

``pre`` decides, cheapest first, and says it in ``X-OmniRoute-Cache`` and ``ctx.cache``:

=======================================================  =========  ===========================
request                                                  header     what happens
=======================================================  =========  ===========================
``X-OmniRoute-No-Cache: true``                           BYPASS     no lookup, nothing kept
not deterministic (``temperature`` not 0) while          BYPASS     decided from what the
``onlyDeterministic``; several choices, logprobs, audio             handler already read: no
                                                                    canonical decode
exact key found (this worker's memory, then LMDB)        HIT        answered from the cache
semantic: same exact part, last user text similar        HIT        ``X-OmniRoute-Cache-Match:
≥ ``threshold``                                                     semantic; similarity=…``
an identical request is in flight (any worker)           HIT        waits for its answer
                                                                    (``…-Match: coalesced``);
                                                                    if none is kept, goes on
otherwise                                                MISS       the answer is kept by
                                                                    ``post``
=======================================================  =========  ===========================

``post`` keeps the answer only when it is whole: status 200, no error, the client did not
leave, the stream ended properly, and the stop reason is not a content filter or an error.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import lmdb
import xxhash

from omniroute.cache.config import CacheConfig
from omniroute.cache.db import Prompt
from omniroute.cache.keys import UNCACHED_STOPS, cacheable, exact_key, semantic_key
from omniroute.cache.runtime import CacheRuntime
from omniroute.hooks import Hook

if TYPE_CHECKING:
    from omniroute.canonical import Request, Response
    from omniroute.context import RequestContext

log = logging.getLogger("omniroute.cache")

CACHE = b"x-omniroute-cache"
MATCH = b"x-omniroute-cache-match"
NO_CACHE = b"x-omniroute-no-cache"
BYPASS_HEADER = (CACHE, b"BYPASS")
TRUE = (b"true", b"1", b"yes")
LEASE_S = 600.0  # a leader's claim when the request has no deadline
SEEN = 4096  # bodies whose keys a worker remembers


class Pending:
    """What ``pre`` leaves for ``post`` on a miss."""

    __slots__ = ("key", "leader", "semantic", "ttl")

    def __init__(self, key: bytes, ttl: float) -> None:
        self.key = key
        self.ttl = ttl
        self.leader = False
        self.semantic: tuple[int, Any] | None = None  # (exact-part hash, embedding)


class CacheHook(Hook):
    name = "cache"
    post_always = False

    def __init__(self, cache: CacheRuntime) -> None:
        self.cache = cache
        #: (format, route, model, xxh3 of the raw body) → exact key: a body seen before is not
        #: decoded again (the same bytes to the same route make the same canonical request)
        self.seen: dict[tuple[str | None, str, str, bytes], bytes] = {}

    async def pre(self, ctx: RequestContext) -> Response | None:
        if ctx.operation != "chat":  # embeddings, images, audio: answers the canonical form does not hold
            return None
        route = ctx.route
        config = self.cache.of(route.combo if route is not None else None)
        if not (config.exact.enabled or config.semantic.enabled) or not self._eligible(ctx, config):
            ctx.cache = "bypass"
            ctx.response_headers.append(BYPASS_HEADER)
            return None
        served = f"combo:{route.combo}" if route.combo is not None else route.first.key
        seen = (ctx.client_format, served, ctx.model, xxhash.xxh3_128_digest(ctx.body))
        key = self.seen.get(seen)
        if key is None:  # a body not seen before: decode it and key the canonical request
            req = ctx.canonical()
            if not cacheable(req):
                ctx.cache = "bypass"
                ctx.response_headers.append(BYPASS_HEADER)
                return None
            key = exact_key(req, served)
            if len(self.seen) >= SEEN:
                self.seen.clear()
            self.seen[seen] = key
        exact = self.cache.exact
        if config.exact.enabled:
            answer = exact.get(key, time.time())
            if answer is not None:
                return self._hit(ctx, answer, b"exact")
        pending = Pending(key, config.exact.ttl_s)
        if config.semantic.enabled:
            found = await self._semantic(ctx, ctx.canonical(), served, config, pending)
            if found is not None:
                return found
        return await self._fly(ctx, pending)

    @staticmethod
    def _eligible(ctx: RequestContext, config: CacheConfig) -> bool:
        options = ctx.options
        if options is not None and options.get(NO_CACHE, b"").lower() in TRUE:
            return False
        return not config.exact.only_deterministic or ctx.temperature == 0

    def _hit(self, ctx: RequestContext, answer: Response, match: bytes, similarity: float | None = None) -> Response:
        ctx.cache = "semantic" if similarity is not None else "hit"
        ctx.response_headers.append((CACHE, b"HIT"))
        if similarity is not None:
            match = b"semantic; similarity=%.3f" % similarity
            self.cache.sem_hits += 1
        else:
            self.cache.exact.hits += 1
        ctx.response_headers.append((MATCH, match))
        if ctx.progress is not None:
            ctx.progress.note("cache_hit", match=match.decode().split(";")[0], similarity=similarity)
        return answer

    async def _semantic(self, ctx: RequestContext, req: Request, served: str, config: CacheConfig,
                        pending: Pending) -> Response | None:
        parts = semantic_key(req, served)
        if parts is None:
            return None
        try:
            ready = await self.cache.semantic()
            if ready is None:
                return None
            embedder, index = ready
            vector = await embedder.embed(parts[1])
        except Exception:
            log.warning("semantic lookup failed", exc_info=True)
            return None
        pending.semantic = (parts[0], vector)
        self.cache.sem_lookups += 1
        now = time.time()
        for _ in range(3):  # a prompt gone from LMDB is forgotten, and the next one is tried
            found = index.nearest(vector, parts[0])
            if found is None or found[1] < config.semantic.threshold:
                return None
            answer_key = index.answer_of(found[0], now)
            answer = self.cache.exact.get(answer_key, now) if answer_key is not None else None
            if answer is not None:
                return self._hit(ctx, answer, b"", found[1])
            index.forget(found[0])
        return None

    async def _fly(self, ctx: RequestContext, pending: Pending) -> Response | None:
        """Lead for this key, or wait for the identical request that does."""
        cache, key = self.cache, pending.key
        flights, exact = cache.flights, cache.exact
        lease = ctx.deadline or LEASE_S
        if flights.claim(key, lease, time.time()):
            pending.leader = True
        else:
            if ctx.progress is not None:
                await ctx.progress.emit("queued", reason="identical request in flight")
            answer = await flights.wait(key, lambda: exact.get(key, time.time()),
                                        lambda: not flights.flying(key, time.time()), lease)
            if answer is not None:
                return self._hit(ctx, answer, b"coalesced")
        exact.misses += 1
        ctx.cache = "miss"
        ctx.response_headers.append((CACHE, b"MISS"))
        if ctx.captured is None:
            ctx.captured = []
        state = ctx.hook_state
        if state is None:
            state = ctx.hook_state = {}
        state[self.name] = pending
        return None

    async def post(self, ctx: RequestContext) -> None:
        pending = ctx.hook_state.get(self.name) if ctx.hook_state else None
        if pending is None:
            return
        cache = self.cache
        answer = ctx.response if whole(ctx) else None
        now = time.time()
        try:
            with cache.db.write() as txn:
                if answer is not None:
                    cache.exact.put(pending.key, answer, now + pending.ttl, txn)
                    if pending.semantic is not None and cache.index is not None:
                        part, vector = pending.semantic
                        prompt = Prompt(part, pending.key, now + pending.ttl, vector.tobytes(), cache.index.embedder)
                        cache.index.store(txn, prompt, cache.config.semantic.max_entries)
                if pending.leader:
                    cache.flights.release(txn, pending.key)
        except lmdb.MapFullError:  # not kept; the waiters must still hear the leader is done
            log.warning("the cache's LMDB map is full: an answer was not kept (lower exact.maxBytes)")
            answer = None
            if pending.leader:
                with cache.db.write() as txn:
                    cache.flights.release(txn, pending.key)
        finally:
            cache.flights.wake(pending.key)
        if answer is not None and pending.semantic is not None and cache.index is not None:
            cache.index.catch_up()


def whole(ctx: RequestContext) -> bool:
    """The upstream's answer arrived whole and is worth repeating (module docstring)."""
    answer = ctx.response
    return (ctx.status == 200 and ctx.error is None and not ctx.disconnected and not ctx.expired
            and ctx.answered_by is None and answer is not None and answer.stop_reason not in UNCACHED_STOPS)
