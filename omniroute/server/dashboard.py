"""``GET /dashboard[/…]``: the web dashboard's files (``omniroute.dashboard``), behind the login.

=================================  ==============================================================
path                               answer
=================================  ==============================================================
``/dashboard``, ``/dashboard/``    the app (``index.html``); without access: 302 to the login page
``/dashboard/login``               the login page (public); with access already (a session, or a
                                   loopback client while no password or login is required): 302
                                   to ``/dashboard``
``/dashboard/<file>``              that file of the asset table; 404 for any other name
=================================  ==============================================================

Access is the management API's own rule (``auth.check_management``): a valid ``auth_token``
cookie once a password exists, loopback only before. Only the login page and what it loads
(``PUBLIC``) are served without it; another file asked for without access is a 401, or a 403
when only loopback clients may manage the gateway. Answers carry the asset's ``ETag`` and
``Cache-Control`` (``dashboard.assets``), a 304 for a matching ``If-None-Match``, the gzipped
body when the client accepts it, and headers that keep the pages out of frames and other
origins' scripts (``SECURITY_HEADERS``).
"""

from __future__ import annotations

from typing import Any

from omniroute.dashboard import Asset, Assets
from omniroute.errors import ErrorKind, GatewayError
from omniroute.gateway import Gateway
from omniroute.server.auth import check_management
from omniroute.server.http import HttpRequest, send_bytes

ROOT = "/dashboard"
INDEX = "index.html"
LOGIN = "login.html"
#: what the login page needs: served without a session
PUBLIC = frozenset({LOGIN, "css/app.css", "js/login.js", "favicon.svg"})
#: short paths → files
PAGES = {"": INDEX, "login": LOGIN, "login/": LOGIN}

CSP = (b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", CSP),
]
TEXT = b"text/plain; charset=utf-8"


class Dashboard:
    """The handler, holding the asset table read at start-up."""

    def __init__(self, assets: Assets | None = None) -> None:
        self.assets = assets if assets is not None else Assets()

    async def serve(self, gw: Gateway, req: HttpRequest, send: Any) -> None:
        name = file_name(req.path)
        asset = self.assets.get(name) if name is not None else None
        if asset is None:
            await _plain(send, 404, f"no dashboard file {req.path}")
            return
        extra: list[tuple[bytes, bytes]] = []
        if name not in PUBLIC or name == LOGIN:
            try:
                cookie = check_management(gw, req)
            except GatewayError as err:
                if name != LOGIN:
                    await _refuse(send, err, name == INDEX)
                    return
            else:
                if name == LOGIN:  # already logged in, or nothing to log into
                    await _redirect(send, ROOT)
                    return
                if cookie:  # a session that slid re-sets its cookie
                    extra.append((b"set-cookie", cookie))
        await _send_asset(send, req, asset, extra)


def file_name(path: str) -> str | None:
    """The asset named by a request path under ``ROOT`` (``None``: not a dashboard path)."""
    if path == ROOT:
        return INDEX
    if not path.startswith(ROOT + "/"):
        return None
    rest = path[len(ROOT) + 1:]
    return PAGES.get(rest, rest)


async def _send_asset(send: Any, req: HttpRequest, asset: Asset, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"etag", asset.etag), (b"cache-control", asset.cache_control), (b"vary", b"Accept-Encoding"),
               *SECURITY_HEADERS, *extra]
    if req.headers.get(b"if-none-match") == asset.etag:
        await send_bytes(send, 304, b"", headers)
        return
    body = asset.body
    if asset.gzipped is not None and b"gzip" in req.headers.get(b"accept-encoding", b""):
        body = asset.gzipped
        headers.append((b"content-encoding", b"gzip"))
    headers += [(b"content-type", asset.content_type), (b"content-length", str(len(body)).encode())]
    await send_bytes(send, 200, body, headers)


async def _refuse(send: Any, err: GatewayError, page: bool) -> None:
    """No access: the app page goes to the login page; a file gets the status and why."""
    if page and err.kind is ErrorKind.AUTHENTICATION:
        await _redirect(send, f"{ROOT}/login")
        return
    await _plain(send, err.status, err.message)


async def _redirect(send: Any, location: str) -> None:
    await send_bytes(send, 302, b"", [(b"location", location.encode()), (b"cache-control", b"no-store"),
                                      *SECURITY_HEADERS])


async def _plain(send: Any, status: int, text: str) -> None:
    await send_bytes(send, status, text.encode(), [(b"content-type", TEXT), *SECURITY_HEADERS])
