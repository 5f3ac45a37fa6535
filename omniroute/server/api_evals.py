"""``/api/evals``: eval suites (``omniroute.evals``) stored in LMDB (``evals``).

================================  ==============================================================
endpoint                          does
================================  ==============================================================
``POST /api/evals``               ``{"name", "model", "cases": [{"input", "expect"}]}`` → 201,
                                  the suite (400 naming ``cases[i].expect.regex`` and the like)
``GET /api/evals``                ``{"suites": [...]}``, each with ``lastRun`` (its last
                                  scorecard without the per-case detail) or ``null``
``GET /api/evals/{id}``           the suite with its last scorecard in full
``POST /api/evals/{id}/run``      runs it now → ``{"passed", "failed", "total", "cases": [...]}``
                                  (stored as the suite's last run)
``DELETE /api/evals/{id}``        removes it
================================  ==============================================================
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.evals import MAX_CASES, bad, check_case, run_suite
from omniroute.gateway import Gateway
from omniroute.server.http import HttpRequest, send_json
from omniroute.store import EvalSuite


def present(suite: EvalSuite, detail: bool = True) -> dict[str, Any]:
    last = suite.last_run
    if last is not None and not detail:
        last = {k: v for k, v in last.items() if k != "cases"}
    return {"id": suite.id, "name": suite.name, "model": suite.model, "createdAt": suite.created_at,
            "cases": [msgspec.structs.asdict(c) for c in suite.cases] if detail else len(suite.cases),
            "lastRun": last}


def _find(gw: Gateway, ref: str) -> EvalSuite:
    suite = gw.store.get("evals", ref)
    if suite is None:
        suite = next((s for s in gw.store.scan("evals") if s.name == ref), None)
    if suite is None:
        raise GatewayError(ErrorKind.NOT_FOUND, f"no eval suite with id or name '{ref}'", param="id")
    return suite  # type: ignore[return-value]


async def create_suite(gw: Gateway, req: HttpRequest, send: Any) -> None:
    body = await req.read_json(gw.settings.max_body_bytes)
    if not isinstance(body, dict):
        raise bad("body", "must be a JSON object")
    unknown = sorted(set(body) - {"name", "model", "cases"})
    if unknown:
        raise bad(unknown[0], "is not a field of a suite; known: cases, model, name")
    for field in ("name", "model"):
        if not isinstance(body.get(field), str) or not body[field].strip():
            raise bad(field, "is required (a non-empty string)")
    cases = body.get("cases")
    if not isinstance(cases, list) or not 0 < len(cases) <= MAX_CASES:
        raise bad("cases", f"must be a list of 1..{MAX_CASES} cases")
    suite = EvalSuite("eval-" + secrets.token_hex(6), body["name"].strip(), body["model"].strip(),
                      [check_case(c, i) for i, c in enumerate(cases)], time.time())
    gw.store.put("evals", suite.id, suite, bump=False)
    await send_json(send, 201, present(suite))


async def list_suites(gw: Gateway, req: HttpRequest, send: Any) -> None:
    suites = sorted(gw.store.scan("evals"), key=lambda s: s.created_at)
    await send_json(send, 200, {"suites": [present(s, detail=False) for s in suites]})


async def get_suite(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, present(_find(gw, req.path_params["id"])))


async def delete_suite(gw: Gateway, req: HttpRequest, send: Any) -> None:
    suite = _find(gw, req.path_params["id"])
    gw.store.delete("evals", suite.id, bump=False)
    await send_json(send, 200, {"deleted": suite.id})


async def run_suite_now(gw: Gateway, req: HttpRequest, send: Any) -> None:
    suite = _find(gw, req.path_params["id"])
    card = await run_suite(gw, suite)
    gw.store.put("evals", suite.id, msgspec.structs.replace(suite, last_run=card), bump=False)
    await send_json(send, 200, card)
