"""The ASGI application: ``create_app()`` is Granian's factory target.

Per request: one dict lookup for the route, one LMDB read (the state version), the
authentication check, then the handler. A ``GatewayError`` from a handler is answered in the
route's dialect; anything else is logged with its traceback and answered as a plain 500 —
a client never sees a traceback. Start-up (ASGI lifespan) opens this worker's LMDB
environment and upstream session; shutdown closes them after in-flight requests finished.
"""

from __future__ import annotations

import logging
from typing import Any

from omniroute.config import Settings
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.registry import FORMATS
from omniroute.gateway import Gateway
from omniroute.server.auth import check_client, check_management
from omniroute.server.http import JSON_HEADERS, HttpRequest
from omniroute.server.routes import build_router

log = logging.getLogger("omniroute")


class App:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.router = build_router()
        self.gw: Gateway | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self.handle(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self.lifespan(receive, send)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        endpoint, params, exists = self.router.match(scope["method"], scope["path"])
        dialect = endpoint.dialect if endpoint else "openai_chat"
        try:
            if endpoint is None:
                raise _no_route(scope, exists)
            gw = self.gw or await self._open()
            gw.registry.refresh()
            req = HttpRequest(scope, receive)
            req.path_params = params
            if endpoint.access == "client":
                if self.settings.require_api_key:
                    check_client(gw, req)
            elif endpoint.access == "management":
                check_management(gw, req)
            await endpoint.handler(gw, req, send)
        except GatewayError as err:
            await _send_error(send, dialect, err)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            await _send_error(send, dialect, GatewayError(ErrorKind.INTERNAL, "internal gateway error"))

    async def _open(self) -> Gateway:
        self.gw = Gateway.open(self.settings)
        return self.gw

    async def lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._open()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.gw is not None:
                    await self.gw.close()
                    self.gw = None
                await send({"type": "lifespan.shutdown.complete"})
                return


def _no_route(scope: dict[str, Any], exists: bool) -> GatewayError:
    if exists:
        return GatewayError(ErrorKind.INVALID_REQUEST, f"method {scope['method']} not allowed on {scope['path']}",
                            status=405)
    return GatewayError(ErrorKind.NOT_FOUND, f"no such endpoint: {scope['method']} {scope['path']}")


async def _send_error(send: Any, dialect: str, err: GatewayError) -> None:
    if err.kind is ErrorKind.INTERNAL or err.status >= 500:
        log.warning("%s: %s", err.kind.value, err.message)
    fmt = FORMATS[dialect]
    status = fmt.OVERLOADED_STATUS if err.kind is ErrorKind.OVERLOADED else err.status
    try:
        await send({"type": "http.response.start", "status": status, "headers": JSON_HEADERS})
        await send({"type": "http.response.body", "body": fmt.encode_error(err)})
    except Exception:  # the response had already started; nothing more can be said
        log.debug("could not send error response", exc_info=True)


def create_app() -> App:
    """Granian factory: settings come from the CLI through the environment."""
    settings = Settings.from_runtime_env()
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    return App(settings)
