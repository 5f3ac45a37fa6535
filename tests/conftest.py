"""Shared fixtures: a mock OpenAI upstream (real aiohttp server) and a running gateway."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.gateway import RunningGateway
from tests.support.openai_upstream import OpenAIUpstream


@pytest.fixture(scope="session")
def upstream() -> Iterator[OpenAIUpstream]:
    server = OpenAIUpstream().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory, upstream: OpenAIUpstream) -> Iterator[RunningGateway]:
    """One gateway for the session: small body limit and short timeouts so fault tests are quick."""
    gw = RunningGateway(
        tmp_path_factory.mktemp("gw-data"),
        "--max-body-bytes", "1048576",
        "--first-byte-timeout", "1.5",
        "--stream-idle-timeout", "1.5",
        "--connect-timeout", "2",
    )
    gw.add_openai_upstream(upstream.base_url)
    yield gw
    gw.stop()


@pytest.fixture(autouse=True)
def fresh_account_health(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with healthy accounts on the gateways it shares with other tests.

    Fault tests make mock upstreams answer 401, 429 or 5xx on purpose; the gateway rightly
    remembers that (auth failure, cooldown, breaker: docs/routing.md), which would leak into
    the next test using the same gateway. After each test, such gateways are reset through
    ``POST /api/resilience/reset``; tests of that memory live in tests/routing/."""
    yield
    for value in request.node.funcargs.values():
        for gw in value if isinstance(value, tuple) else (value,):
            if isinstance(gw, RunningGateway) and gw.proc.poll() is None:
                gw.api("POST", "/api/resilience/reset")
