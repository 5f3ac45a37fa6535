"""The cache's management API: ``GET/DELETE /api/cache``, ``GET/PUT /api/cache/config``.

``GET /api/cache`` answers the exact cache's entries and bytes (LMDB, shared), hits and
misses of every worker (each worker adds its counts about once a second; the answering
worker's own are current), the semantic cache's state and the idempotency keys held.
``DELETE /api/cache`` clears everything: LMDB's answers, prompts and held keys, the index
file, and — through the store's version, which every worker reads per request — every
worker's memory and index. ``PUT /api/cache/config`` merges the body into the stored
document (``omniroute.cache.config``), validated, and answers the whole document.
"""

from __future__ import annotations

import time
from typing import Any

from omniroute.cache.config import document, effective, merge
from omniroute.gateway import Gateway
from omniroute.server.http import HttpRequest, send_json

SETTING = "cache"
CLEARED = "cache_cleared"


async def stats(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, gw.cache.stats())


async def clear(gw: Gateway, req: HttpRequest, send: Any) -> None:
    gw.cache.clear()
    gw.store.put_setting(CLEARED, {"at": time.time(), "generation": gw.cache.generation})  # every worker notices
    await send_json(send, 200, {"cleared": True, **gw.cache.stats()})


async def get_config(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, document(effective(gw.store.setting(SETTING))))


async def put_config(gw: Gateway, req: HttpRequest, send: Any) -> None:
    patch = await req.read_json(gw.settings.max_body_bytes)
    merged = merge(gw.store.setting(SETTING), patch)
    gw.store.put_setting(SETTING, merged)
    await send_json(send, 200, document(effective(merged)))
