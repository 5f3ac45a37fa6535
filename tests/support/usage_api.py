"""Reading a running gateway's usage records (``/api/usage/logs``), which land within a
flush interval of each request."""

from __future__ import annotations

import time
from typing import Any

from tests.support.gateway import RunningGateway


def records(gw: RunningGateway, **params: Any) -> list[dict[str, Any]]:
    """Every record matching ``params``, newest first, following ``nextCursor``."""
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": 1000, **params, **({"cursor": cursor} if cursor else {})}
        page = gw.api("GET", "/api/usage/logs", params=query)
        assert page.status_code == 200, page.text
        body = page.json()
        out += body["data"]
        cursor = body["nextCursor"]
        if not cursor:
            return out


def wait_records(gw: RunningGateway, count: int, timeout: float = 10.0, **params: Any) -> list[dict[str, Any]]:
    """The records matching ``params`` once there are at least ``count`` (else fail, saying
    how many arrived)."""
    deadline = time.time() + timeout
    found: list[dict[str, Any]] = []
    while time.time() < deadline:
        found = records(gw, **params)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{len(found)} usage records arrived, not {count}")
