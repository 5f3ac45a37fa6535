"""Fixtures of the gateway-level server tests: the five strict mock upstreams and one real
gateway connected to all of them (``tests.support.fleet``), each started once per session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.fleet import start_gateway, start_mocks, stop_mocks
from tests.support.gateway import RunningGateway


@pytest.fixture(scope="session")
def mocks() -> Iterator[dict[str, Any]]:
    servers = start_mocks()
    yield servers
    stop_mocks(servers)


@pytest.fixture(scope="session")
def matrix_gateway(tmp_path_factory: pytest.TempPathFactory, mocks: dict[str, Any]) -> Iterator[RunningGateway]:
    gw = start_gateway(tmp_path_factory.mktemp("matrix-gw"), mocks)
    yield gw
    gw.stop()
