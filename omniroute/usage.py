"""Usage recording: one record per client request, built and written off the request path.

::

    request path (app, after the last byte)   UsageRecorder.add: one tuple appended to a deque
    every FLUSH_S (or BATCH_MAX queued)       flush, on the worker's loop in slices of SLICE:
                                                build each record (usage read from the
                                                upstream's bytes, cost, times), fold it into
                                                a Batch and the worker's rings
    the writer thread                         one write transaction (records, bodies,
                                                rollups, totals, metrics, sessions); the
                                                rings (every RINGS_EVERY_S) and live state
                                                published, pruning when due, a sync every
                                                few seconds

The request path's share is the tuple append plus, for a model request, one dict insert
and delete (``inflight``: what ``/metrics`` and ``/api/sessions`` count as in flight). Usage
comes from the upstream's own counts, found in the answer bytes the relay kept
(``formats.usage``); nothing is assembled. A request whose key the request path did not
look up (keys optional, no per-key feature) gets it looked up here (``identify``). A
crashed worker loses at most the records of one flush interval; ``close`` (lifespan
shutdown, SIGTERM) writes everything queued and syncs the environment.

Only requests that reached an upstream (or were answered by a pre-hook) feed the latency
rings; every request to a client endpoint gets a record.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import msgspec

from omniroute.providers.pricing import Price, Pricing, cost
from omniroute.telemetry.aggregate import Batch, session_key
from omniroute.telemetry.prune import prune_records, prune_rest
from omniroute.telemetry.records import AttemptRecord, UsageRecord, record_key
from omniroute.telemetry.redact import body_log, secrets_of
from omniroute.telemetry.retention import SETTING, Retention, load
from omniroute.telemetry.rings import Rings
from omniroute.telemetry.usage_db import Live, UsageDB

if TYPE_CHECKING:
    from omniroute.canonical import Usage
    from omniroute.context import RequestContext
    from omniroute.routing.registry import Registry
    from omniroute.store import ApiKey, Store

log = logging.getLogger("omniroute.usage")

FLUSH_S = 0.1
BATCH_MAX = 1024
SLICE = 64
PRUNE_EVERY_S = 1.0
PRUNE_REST_EVERY_S = 60.0
LIVE_EVERY_S = 1.0
RINGS_EVERY_S = 0.5  # a ring is up to 64 KiB: published twice a second, not at every flush
CLIENT_GONE = 499  # the status of a request whose client left before the answer began
_encode = msgspec.msgpack.Encoder().encode

Pending = tuple[Any, dict[str, Any], float, float, list[bytes] | None]


class UsageRecorder:
    """One worker's queue, rings and writer (module docstring)."""

    def __init__(self, db: UsageDB, registry: Registry, store: Store) -> None:
        self.db, self.registry, self.store = db, registry, store
        self.pending: deque[Pending] = deque()
        self.inflight: dict[RequestContext, dict[str, Any]] = {}
        self.rings = Rings()
        self.retention = load(store.setting(SETTING))
        self.pid = os.getpid()
        self.seq = 0
        self.wake = asyncio.Event()
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="omniroute-usage")
        self.task: asyncio.Task[None] | None = None
        self.stopping = False
        self.due = {"prune": 0.0, "rest": 0.0, "live": 0.0, "rings": 0.0}
        self.last_live: tuple[int, dict[bytes, int]] = (0, {})
        self.prices: tuple[Pricing | None, dict[tuple[str, str], Price | None]] = (None, {})
        #: the key a request carried, when the request path did not look it up (set by the app)
        self.identify: Callable[[dict[str, Any]], ApiKey | None] | None = None

    @property
    def bodies(self) -> bool:
        """Whether some request's bodies may be logged (the app keeps what it sends then)."""
        return self.retention.bodies_possible

    def add(self, ctx: RequestContext, scope: dict[str, Any], sent: list[bytes] | None = None) -> None:
        """Queue a finished request (the request path's one call)."""
        self.pending.append((ctx, scope, time.perf_counter(), time.time(), sent))
        if len(self.pending) == BATCH_MAX:
            self.wake.set()

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while not self.stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), FLUSH_S)
            self.wake.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("usage flush failed")

    async def flush(self) -> None:
        batch = Batch()
        while self.pending:
            for _ in range(min(SLICE, len(self.pending))):
                self._fold(batch, *self.pending.popleft())
            await asyncio.sleep(0)  # let requests run between slices
        rings = self.rings.publish() if self._due("rings", RINGS_EVERY_S) else {}
        live = self._live(time.time())
        if batch or rings or live is not None or self._due("prune", PRUNE_EVERY_S, peek=True):
            await asyncio.get_running_loop().run_in_executor(self.executor, self._write, batch, rings, live)

    async def close(self) -> None:
        """Write everything queued, sync, stop the writer (shutdown). A flush under way is let
        finish (cancelling it would drop the records it had folded)."""
        self.stopping = True
        self.wake.set()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)
        self.due["rings"] = 0.0  # publish what changed since the last time
        await self.flush()
        self.executor.shutdown(wait=True)
        self.db.sync(force=True)

    # -- building records (the worker's loop) ---------------------------------------------
    def _fold(self, batch: Batch, ctx: RequestContext, scope: dict[str, Any], end: float, wall: float,
              sent: list[bytes] | None) -> None:
        try:
            key_id = ctx.key.id if ctx.key is not None else None
            if key_id is None and self.identify is not None:
                found = self.identify(scope)
                key_id = found.id if found is not None else None
            record = build_record(ctx, scope, end, wall, self._price_of, key_id)
        except Exception:
            log.exception("could not build a usage record for %s", scope.get("path"))
            return
        self.seq += 1
        key = record_key(record.ts, self.pid, self.seq)
        body = None
        if sent is not None and self.retention.logs_bodies(record.key_id):
            headers = scope["headers"]
            secrets = secrets_of(headers, scope.get("query_string", b""))
            body = _encode(body_log(headers, ctx.body, b"".join(sent), self.retention.max_body_bytes, secrets))
            record.has_body = True
        batch.add(key, record, body)
        if record.upstream_ms is not None or ctx.answered_by is not None:
            self.rings.add(record.ts, record.latency_ms, record.overhead_ms, record.ttft_ms, record.provider,
                           record.served_model, record.combo)

    def _price_of(self, provider: str, model: str) -> Price | None:
        """The registry's price, remembered until the pricing table changes."""
        pricing = self.registry.pricing
        if pricing is not self.prices[0]:
            self.prices = (pricing, {})
        held = self.prices[1]
        key = (provider, model)
        if key not in held:
            held[key] = pricing.price_of(provider, model)
        return held[key]

    def _live(self, now: float) -> Live | None:
        """This worker's in-flight requests and open streams, when they changed or are due."""
        streams: dict[bytes, int] = {}
        for ctx, scope in self.inflight.items():
            if ctx.stream and ctx.status:
                key = session_key(ctx.key.id if ctx.key else None, _client_ip(scope), _user_agent(scope))
                streams[key] = streams.get(key, 0) + 1
        state = (len(self.inflight), streams)
        if state == self.last_live and not (state[0] and self._due("live", LIVE_EVERY_S)):
            return None
        self.last_live = state
        return Live(now, *state)

    def _due(self, name: str, every: float, peek: bool = False) -> bool:
        now = time.monotonic()
        if now - self.due[name] < every:
            return False
        if not peek:
            self.due[name] = now
        return True

    # -- the writer thread ----------------------------------------------------------------
    def _write(self, batch: Batch, rings: dict[tuple[str, str], bytes], live: Live | None) -> None:
        db = self.db
        if batch:
            db.write(batch)
        if rings or live is not None:
            db.publish(self.pid, rings, live)
        if self._due("prune", PRUNE_EVERY_S):
            self.retention = load(self.store.setting(SETTING))  # an idle worker still sees a new bound
            now = time.time()
            prune_records(db, self.retention, now)
            if self._due("rest", PRUNE_REST_EVERY_S):
                prune_rest(db, self.retention, now)
        db.sync()

    def set_retention(self, retention: Retention) -> None:
        self.retention = retention
        self.due["prune"] = 0.0  # prune at the next flush


def build_record(ctx: RequestContext, scope: dict[str, Any], end: float, wall: float,
                 price_of: Callable[[str, str], Price | None], key_id: str | None) -> UsageRecord:
    """The record of one finished request (docs/observability.md, "Usage records"). Built
    positionally, in ``UsageRecord``'s field order (a third of the keyword form's cost)."""
    latency = (end - ctx.started) * 1000
    last = ctx.attempts[-1] if ctx.attempts else None
    usage = answer_usage(ctx)
    u = usage or _NO_USAGE
    upstream = ctx.upstream_ms if ctx.upstream_began else None
    err = ctx.error
    served = (last.provider, last.connection_id, f"{last.provider}/{last.model}") if last else (None, None, None)
    return UsageRecord(
        wall - (end - ctx.started), key_id, served[0], served[1], ctx.model, served[2],
        ctx.status or (CLIENT_GONE if ctx.disconnected else 0),
        err.kind.value if err is not None else ("client_disconnected" if ctx.disconnected else None),
        ctx.route.combo if ctx.route is not None else None, ctx.client_format, ctx.upstream_format, scope["path"],
        ctx.stream, u.input_tokens, u.output_tokens, u.cached_tokens, u.cache_creation_tokens, u.reasoning_tokens,
        cost(price_of(last.provider, last.model), usage) if last is not None and usage is not None else 0.0,
        latency, (ctx.first_byte - ctx.started) * 1000 if ctx.stream and ctx.first_byte else None, upstream,
        latency - (upstream or 0.0), getattr(ctx, "cache", None), _client_ip(scope), _user_agent(scope),
        [AttemptRecord(a.provider, a.connection_id, a.model, a.status, a.error_kind, a.latency_ms)
         for a in ctx.attempts],
        err.message[:500] if err is not None else None, ctx.units,
    )


def answer_usage(ctx: RequestContext) -> Usage | None:
    """The upstream's counts for this answer (``None``: no upstream answered, or it sent none).
    An answer from a pre-hook (a cache hit) used no upstream tokens."""
    if ctx.answered_by is not None or ctx.served is None:
        return None
    if ctx.response is not None and ctx.response.usage is not None:
        return ctx.response.usage
    return ctx.usage


class _Zero:
    input_tokens = output_tokens = cached_tokens = cache_creation_tokens = reasoning_tokens = 0


_NO_USAGE = _Zero()


def _client_ip(scope: dict[str, Any]) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


def _user_agent(scope: dict[str, Any]) -> str | None:
    for name, value in scope["headers"]:
        if name == b"user-agent":
            return value.decode("latin-1")[:300]
    return None
