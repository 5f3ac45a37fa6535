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
