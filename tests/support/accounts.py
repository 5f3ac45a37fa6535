"""Provider nodes and accounts on a running gateway, pointing at the flaky mock, and the
requests routing tests send through it.

Each test makes its own node (a provider of its own, ``unique`` prefix) with accounts whose
API keys pick the flaky mock's behaviour (``tests.support.flaky_upstream``), so tests that
share a gateway share no account, breaker or counter.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import httpx
import openai

from tests.support.flaky_upstream import FlakyUpstream
from tests.support.gateway import RunningGateway

_serial = itertools.count(1)
TIMEOUT_FLAGS = ("--first-byte-timeout", "1.5", "--stream-idle-timeout", "1.5", "--connect-timeout", "1")
OMNI = ("x-omniroute-model", "x-omniroute-provider", "x-omniroute-connection", "x-omniroute-attempts")


def unique(stem: str) -> str:
    """A name no other test of the session uses (``stem`` + a serial number)."""
    return f"{stem}{next(_serial)}"


def add_node(gw: RunningGateway, flaky: FlakyUpstream, prefix: str) -> str:
    node = gw.api("POST", "/api/provider-nodes", {"prefix": prefix, "baseUrl": flaky.base_url, "name": prefix})
    assert node.status_code == 201, node.text
    return node.json()["node"]["id"]


def add_account(gw: RunningGateway, provider: str, key: str, priority: int = 0, **fields: Any) -> str:
    conn = gw.api("POST", "/api/providers", {"provider": provider, "apiKey": key, "name": key,
                                             "priority": priority, **fields})
    assert conn.status_code == 201, conn.text
    return conn.json()["id"]


def provider_with(gw: RunningGateway, flaky: FlakyUpstream, *keys: str,
                  stem: str = "p") -> tuple[str, str, list[str]]:
    """A new node (prefix, node id) with one account per key, priority in the order given."""
    prefix = unique(stem)
    node = add_node(gw, flaky, prefix)
    return prefix, node, [add_account(gw, node, key, i) for i, key in enumerate(keys)]


def chat(gw: RunningGateway, model: str, *, stream: bool = False, headers: dict[str, str] | None = None,
         timeout: float = 10, **body: Any) -> httpx.Response:
    payload = {"model": model, "messages": [{"role": "user", "content": "hi"}], **body}
    if stream:
        payload["stream"] = True
    return gw.http.post("/v1/chat/completions", json=payload, headers=headers or {}, timeout=timeout)


def omni(resp: httpx.Response | Any) -> dict[str, str]:
    """The ``X-OmniRoute-*`` headers of an answer (httpx or an SDK raw response)."""
    return {name.removeprefix("x-omniroute-"): resp.headers.get(name) for name in OMNI}


def sdk(gw: RunningGateway, api_key: str = "sk-test", timeout: float = 10) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key=api_key, max_retries=0, timeout=timeout)


def content(resp: httpx.Response) -> str:
    return resp.json()["choices"][0]["message"]["content"]


def sse_text(resp: httpx.Response) -> str:
    """The text of an OpenAI SSE answer's content deltas."""
    out = []
    for line in resp.text.splitlines():
        if line.startswith("data: {"):
            for choice in json.loads(line[6:]).get("choices") or []:
                out.append(choice.get("delta", {}).get("content") or "")
    return "".join(out)


def fresh_window(margin: float = 8.0) -> None:
    """Wait, when needed, so that the next ``margin`` seconds stay inside one 60 s rate window."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.05)


def set_resilience(gw: RunningGateway, **settings: Any) -> dict[str, Any]:
    resp = gw.api("PUT", "/api/resilience", {"settings": settings})
    assert resp.status_code == 200, resp.text
    return resp.json()


def accounts(gw: RunningGateway) -> dict[str, dict[str, Any]]:
    """``GET /api/rate-limits`` by connection id."""
    resp = gw.api("GET", "/api/rate-limits")
    assert resp.status_code == 200, resp.text
    return {a["connectionId"]: a for a in resp.json()["accounts"]}
