"""``/api/settings/*``: require-login, ip-filter, system-prompt, thinking-budget, proxy.

Each document is validated by ``settings.documents`` (a 400 naming the field), stored in
LMDB with a version bump, and so compiled by every worker on its next request
(``Gateway._rebuild``). GET answers the document as it applies (defaults filled in; proxy
credentials masked); PUT changes the fields it names and answers the result.

``POST /api/settings/proxy/test {"url", "target"?}`` opens a connection to ``target``
(default ``https://api.openai.com/v1/models``) through the proxy with the request path's own
tunnel (``upstream.tunnel``) and sends one ``GET``: any HTTP answer is ``ok`` (the proxy
carried it); ``{"ok", "latencyMs", "status", "error"}``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from omniroute.errors import ErrorKind, GatewayError
from omniroute.gateway import Gateway
from omniroute.inputs import check_url, require
from omniroute.server import auth
from omniroute.server.http import HttpRequest, send_json
from omniroute.settings import documents
from omniroute.settings.access import IpFilter
from omniroute.upstream import UPSTREAM_ERRORS, open_pool

PROXY_TEST_TARGET = "https://api.openai.com/v1/models"
PROXY_TEST_SECONDS = 10.0


async def _put(gw: Gateway, req: HttpRequest, name: str, check: Callable[[Any, dict[str, Any]], dict[str, Any]]
               ) -> dict[str, Any]:
    doc = check(await req.read_json(gw.settings.max_body_bytes), gw.store.setting(name))
    gw.store.put_setting(name, doc)
    return doc


# -- require-login ------------------------------------------------------------------------------
async def get_require_login(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, {"requireLogin": auth.login_required(gw), "hasPassword": auth.password_set(gw)})


async def put_require_login(gw: Gateway, req: HttpRequest, send: Any) -> None:
    doc = documents.check_require_login(await req.read_json(gw.settings.max_body_bytes))
    gw.store.put_setting("auth", {**gw.store.setting("auth"), **doc})
    await send_json(send, 200, {"requireLogin": doc["requireLogin"], "hasPassword": auth.password_set(gw)})


# -- ip filter ----------------------------------------------------------------------------------
async def get_ip_filter(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, {**documents.IP_FILTER_DEFAULTS, **gw.store.setting("ip_filter")})


async def put_ip_filter(gw: Gateway, req: HttpRequest, send: Any) -> None:
    doc = documents.check_ip_filter(await req.read_json(gw.settings.max_body_bytes), gw.store.setting("ip_filter"))
    me = gw.access.client_ip(req.scope)
    if doc["mode"] != "off" and not IpFilter(doc).allows(me):
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"this filter would lock out your own address {me}: add it "
                           "to 'allow' (or keep 'allowLoopback' and connect from the machine)", param="mode")
    gw.store.put_setting("ip_filter", doc)
    await send_json(send, 200, doc)


# -- system prompt and thinking budget ------------------------------------------------------------
async def get_system_prompt(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, {**documents.SYSTEM_PROMPT_DEFAULTS, **gw.store.setting("system_prompt")})


async def put_system_prompt(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, await _put(gw, req, "system_prompt", documents.check_system_prompt))


async def get_thinking_budget(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, {**documents.THINKING_DEFAULTS, **gw.store.setting("thinking_budget")})


async def put_thinking_budget(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, await _put(gw, req, "thinking_budget", documents.check_thinking))


# -- proxy --------------------------------------------------------------------------------------
async def get_proxy(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, documents.present_proxy(gw.store.setting("proxy")))


async def put_proxy(gw: Gateway, req: HttpRequest, send: Any) -> None:
    registry = gw.registry
    providers = set(registry.specs) | set(registry.prefixes)
    prefixed = {p: registry.prefixes[p] for p in providers if p in registry.prefixes}

    def check(payload: Any, stored: dict[str, Any]) -> dict[str, Any]:
        doc = documents.check_proxy(payload, stored, providers, set(registry.connections))
        doc["providers"] = {prefixed.get(k, k): v for k, v in doc["providers"].items()}  # "oai" → "openai"
        return doc

    doc = await _put(gw, req, "proxy", check)
    await send_json(send, 200, documents.present_proxy(doc))


async def test_proxy(gw: Gateway, req: HttpRequest, send: Any) -> None:
    payload = await req.read_json(gw.settings.max_body_bytes)
    require(isinstance(payload, dict), "body", "must be a JSON object")
    url = documents.check_proxy_url(payload.get("url"), "url")
    target = check_url(payload.get("target") or PROXY_TEST_TARGET, "target")
    await send_json(send, 200, await probe(gw, url, target))


async def probe(gw: Gateway, proxy_url: str, target: str) -> dict[str, Any]:
    """One ``GET target`` through the proxy, on a pool of its own that is closed after."""
    pool = open_pool(gw.settings, proxy_url)
    began = time.perf_counter()
    status, error = None, None
    try:
        async with asyncio.timeout(PROXY_TEST_SECONDS):
            resp = await pool.request("GET", target, {"Accept": "*/*"}, b"")
            status = resp.status
            await resp.read()
    except UPSTREAM_ERRORS as exc:
        error = str(exc) or f"no answer within {PROXY_TEST_SECONDS:g} s"
    finally:
        await pool.close()
    latency = round((time.perf_counter() - began) * 1000, 1)
    return {"ok": error is None, "latencyMs": latency, "status": status, "error": error}
