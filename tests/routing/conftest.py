"""Routing tests run against real gateways and the flaky mock (``tests.support.flaky_upstream``).

``flaky`` is shared by the session; each test module starts its own gateway (``gateway_for``)
with short timeouts, one worker unless the module needs two.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.accounts import TIMEOUT_FLAGS
from tests.support.flaky_upstream import FlakyUpstream
from tests.support.gateway import RunningGateway


@pytest.fixture(scope="session")
def flaky() -> Iterator[FlakyUpstream]:
    server = FlakyUpstream().start()
    yield server
    server.stop()


def gateway_for(factory: pytest.TempPathFactory, *flags: str, workers: int = 1) -> RunningGateway:
    return RunningGateway(factory.mktemp("gw-routing"), *TIMEOUT_FLAGS, "--workers", str(workers), *flags)


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    gateway = gateway_for(tmp_path_factory)
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def gw2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    """Two workers sharing one data directory."""
    gateway = gateway_for(tmp_path_factory, workers=2)
    yield gateway
    gateway.stop()
