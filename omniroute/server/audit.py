"""The audit log: one entry for every management write, made centrally by the app.

Every call to a management or public ``/api/*`` route with a method other than GET (so
every endpoint added later is audited without its author's involvement) leaves one entry
in the usage environment (``telemetry.usage_db``, database ``audit``), synced to disk:

==========  ====================================================================
field       value
==========  ====================================================================
timestamp   when the call arrived (UTC)
action      method and route pattern: ``PUT /api/providers/{id}``
target      the path parameters (``conn-1a2b``), else the ``id`` of what the call
            created (from its answer: ``{"id"}`` or ``{"node": {"id"}}``), else null
actor       ``session:<12 hex>`` (a hash of the login session's token), ``loopback``
            (no password is set), or ``anonymous`` (not logged in)
ip          the client's address
outcome     ``ok`` (2xx/3xx), ``denied`` (401/403) or ``failed``; ``status`` the code
==========  ====================================================================

Bodies are never stored: a write's body may hold provider keys, and an answer the key it
created; only the created object's id is read from the answer.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from omniroute.gateway import Gateway
from omniroute.server.auth import actor_of
from omniroute.server.http import HttpRequest
from omniroute.server.router import Endpoint
from omniroute.telemetry.records import AuditEntry

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def audited(endpoint: Endpoint | None, method: str) -> bool:
    return (endpoint is not None and endpoint.access in ("management", "public") and method not in _READS
            and endpoint.pattern.startswith("/api/"))


def record(gw: Gateway, req: HttpRequest, endpoint: Endpoint, status: int, answer: bytes) -> None:
    """Write the entry of one finished management call."""
    target = "/".join(req.path_params.values()) or created_id(answer)
    outcome = "ok" if status < 400 else "denied" if status in (401, 403) else "failed"
    arrived = time.time() - (time.perf_counter() - req.ctx.started)
    entry = AuditEntry(arrived, f"{req.method} {endpoint.pattern}", target, actor_of(gw, req), req.client_host,
                       outcome, status)
    gw.usage_db.audit(entry, gw.pid)


def created_id(answer: bytes) -> str | None:
    try:
        data: Any = msgspec.json.decode(answer) if answer else None
    except msgspec.DecodeError:
        return None
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("id"), str):
        return data["id"]
    nested = [v["id"] for v in data.values() if isinstance(v, dict) and isinstance(v.get("id"), str)]
    return nested[0] if len(nested) == 1 else None
