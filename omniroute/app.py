"""The ASGI application: ``create_app()`` is Granian's factory target.

Per request: one dict lookup for the route, one LMDB read (the state version), the IP
filter when it is on (``settings.access``; off, one attribute test), the authentication
check, then the handler. A ``GatewayError`` from a handler is answered in the
route's dialect; anything else is logged with its traceback and answered as a plain 500 —
a client never sees a traceback. Start-up (ASGI lifespan) opens this worker's LMDB
environment and upstream session, then settles the heap (``settle_heap``); shutdown closes
them after in-flight requests finished.

After the answer: a client request is queued for its usage record (``omniroute.usage``:
one tuple; the ``send`` is wrapped only when the access log or body logging needs to see
what went out), and a management write gets its audit entry (``server.audit``).
"""

from __future__ import annotations

import gc
import logging
import time
from functools import partial
from typing import Any, NamedTuple

from omniroute.access_log import AccessLog
from omniroute.answers import collect_answer
from omniroute.config import Settings
from omniroute.context import RequestContext
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.registry import FORMATS
from omniroute.gateway import Gateway
from omniroute.relay import start
from omniroute.server.audit import audited
from omniroute.server.audit import record as record_audit
from omniroute.server.auth import check_client, check_management, check_metrics, known_client, scope_key
from omniroute.server.http import JSON_HEADERS, HttpRequest
from omniroute.server.router import Endpoint
from omniroute.server.routes import build_router
from omniroute.usage import UsageRecorder

log = logging.getLogger("omniroute")
AUDIT_ANSWER_BYTES = 65_536
GC_THRESHOLDS = (10_000, 10, 10)  # CPython's default: (700, 10, 10)


def settle_heap() -> None:
    """Once a worker has started: move what start-up built (modules, the catalogue, the
    registry) out of the collector's sight (``gc.freeze``), and collect the young generation
    every 10,000 net container allocations instead of 700. Measured under load (c=64): the
    defaults spent ~16-23 µs of CPU per request in the cyclic collector, most of it in full
    collections walking the start-up heap; frozen, about half; with the higher threshold, no
    collection in a 25-second run. Requests free their objects by reference counting; what
    the collector still finds is cycles (tasks, exceptions), collected at the threshold.
    The price: a cycle among start-up objects that a later reload drops (the first registry
    snapshot, say) is never collected — at most once, bounded by the start-up heap."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class Matched(NamedTuple):
    """What the route table said about a request."""

    endpoint: Endpoint | None
    params: dict[str, str]
    exists: bool  # the path exists for another method
    dialect: str


class Tap:
    """A ``send`` that notes what went out: the status, the body's size and, when ``keep`` is
    a byte count, the body itself up to about that many bytes."""

    __slots__ = ("keep", "parts", "send", "size", "status")

    def __init__(self, send: Any, keep: int | None) -> None:
        self.send, self.keep = send, keep
        self.status = self.size = 0
        self.parts: list[bytes] | None = [] if keep is not None else None

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        else:
            body = message.get("body", b"")
            if self.parts is not None and self.size <= self.keep:  # type: ignore[operator]
                self.parts.append(body)
            self.size += len(body)
        await self.send(message)


def _keep(rec: UsageRecorder | None, audit: bool) -> int | None:
    """How much of the answer to keep: the body-log cap, or enough to read a created id."""
    if rec is not None and rec.bodies:
        return rec.retention.max_body_bytes
    return AUDIT_ANSWER_BYTES if audit else None


class App:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.router = build_router()
        self.gw: Gateway | None = None
        #: None below info level: then a request does no work for the access log
        self.access = AccessLog(settings.log_format) if settings.log_level in ("info", "debug") else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self.handle(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self.lifespan(receive, send)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        endpoint, params, exists = self.router.match(scope["method"], scope["path"])
        dialect = endpoint.dialect if endpoint else "openai_chat"
        client = endpoint is not None and endpoint.access == "client"
        ctx = RequestContext(time.perf_counter(), dialect if client else None)
        route = Matched(endpoint, params, exists, dialect)
        rec = self.gw.recorder if client and self.gw is not None else None
        audit = audited(endpoint, scope["method"])
        if self.access is None and not audit and (rec is None or not rec.bodies):
            if rec is None:
                await self._serve(scope, receive, send, route, ctx)
            else:  # the usage recorder needs nothing from what is sent
                rec.inflight[ctx] = scope
                try:
                    await self._serve(scope, receive, send, route, ctx)
                finally:  # a request cancelled midway is recorded too
                    del rec.inflight[ctx]
                    rec.add(ctx, scope)
            self._after(ctx)
            return
        await self._tapped(scope, receive, Tap(send, _keep(rec, audit)), route, ctx, audit)

    async def _tapped(self, scope: dict[str, Any], receive: Any, tap: Tap, route: Matched, ctx: RequestContext,
                      audit: bool) -> None:
        """A request something must see the answer of: the access log (status, bytes), body
        logging (the body) or the audit log (status, the id of what was created)."""
        rec = self.gw.recorder if ctx.client_format is not None and self.gw is not None else None
        if rec is not None:
            rec.inflight[ctx] = scope
        try:
            await self._serve(scope, receive, tap, route, ctx)
        finally:
            if rec is not None:
                del rec.inflight[ctx]
                rec.add(ctx, scope, tap.parts)
            if self.access is not None:
                rid = self.access.request_id(dict(scope["headers"]).get(b"x-request-id"))
                self.access.record(scope["method"], scope["path"], tap.status, tap.size, ctx, rid)
        if audit and self.gw is not None:
            req = HttpRequest(scope, receive, ctx)
            req.path_params = route.params
            try:
                record_audit(self.gw, req, route.endpoint, tap.status, b"".join(tap.parts or ()))
            except Exception:
                log.exception("could not write the audit entry of %s %s", scope["method"], scope["path"])
        self._after(ctx)

    def _after(self, ctx: RequestContext) -> None:
        """The answer is sent: post-hooks of a model request run now, off the request."""
        gw = self.gw
        if gw is not None and ctx.client_format is not None and gw.hooks.wants_post(ctx):
            gw.hooks.schedule_post(ctx, collect_answer)

    async def _serve(self, scope: dict[str, Any], receive: Any, send: Any, route: Matched,
                     ctx: RequestContext) -> None:
        endpoint = route.endpoint
        try:
            if endpoint is None:
                raise _no_route(scope, route.exists)
            gw = self.gw or await self._open()
            gw.refresh()
            if gw.access.ip_filter is not None:  # None while the filter is off
                gw.access.check(scope)
            req = HttpRequest(scope, receive, ctx)
            req.path_params = route.params
            if endpoint.access == "client":
                if self.settings.require_api_key:
                    ctx.key = check_client(gw, req)
                elif gw.registry.key_features:
                    ctx.key = known_client(gw, req)
            elif endpoint.access == "management":
                cookie = check_management(gw, req)
                if cookie is not None:  # the session slid: the answer re-sets the cookie
                    send = _with_header(send, b"set-cookie", cookie)
            elif endpoint.access == "metrics":
                check_metrics(gw, req)
            await endpoint.handler(gw, req, send)
        except GatewayError as err:
            ctx.error = err
            await _send_error(send, route.dialect, err, ctx)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            ctx.error = GatewayError(ErrorKind.INTERNAL, "internal gateway error")
            await _send_error(send, route.dialect, ctx.error, ctx)

    async def _open(self) -> Gateway:
        gw = self.gw = Gateway.open(self.settings)
        gw.start()
        if gw.recorder is not None:
            gw.recorder.identify = partial(scope_key, gw)
        return gw

    async def lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._open()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                settle_heap()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.gw is not None:
                    await self.gw.close()
                    self.gw = None
                if self.access is not None:
                    self.access.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _with_header(send: Any, name: bytes, value: bytes) -> Any:
    """``send`` adding one header to the response's start message."""
    async def sending(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (name, value)]}
        await send(message)
    return sending


def _no_route(scope: dict[str, Any], exists: bool) -> GatewayError:
    if exists:
        return GatewayError(ErrorKind.INVALID_REQUEST, f"method {scope['method']} not allowed on {scope['path']}",
                            status=405)
    return GatewayError(ErrorKind.NOT_FOUND, f"no such endpoint: {scope['method']} {scope['path']}",
                        code="unknown_endpoint")


async def _send_error(send: Any, dialect: str, err: GatewayError, ctx: RequestContext) -> None:
    """The error in the route's dialect, with the request's extra headers (``Retry-After``,
    ``X-OmniRoute-*``)."""
    if err.kind is ErrorKind.INTERNAL or err.status >= 500:
        log.warning("%s: %s", err.kind.value, err.message)
    fmt = FORMATS[dialect]
    status = fmt.OVERLOADED_STATUS if err.kind is ErrorKind.OVERLOADED and err.provider else err.status
    try:
        await send(start(ctx, JSON_HEADERS, status))
        await send({"type": "http.response.body", "body": fmt.encode_error(err)})
    except Exception:  # the response had already started; nothing more can be said
        log.debug("could not send error response", exc_info=True)


def create_app() -> App:
    """Granian factory: settings come from the CLI through the environment."""
    settings = Settings.from_runtime_env()
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    return App(settings)
