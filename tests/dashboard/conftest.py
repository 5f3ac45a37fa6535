"""Fixtures of the dashboard tests: one gateway with a password and a mock OpenAI upstream,
and one headless Chromium for the whole package (tests/support/browser.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import browser
from tests.support.gateway import RunningGateway
from tests.support.openai_upstream import OpenAIUpstream

PASSWORD = "dash-secret-42"


@pytest.fixture(scope="package")
def dash_upstream() -> Iterator[OpenAIUpstream]:
    server = OpenAIUpstream().start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def dash(tmp_path_factory: pytest.TempPathFactory, dash_upstream: OpenAIUpstream) -> Iterator[RunningGateway]:
    """The gateway under test; HOME points at a temporary directory so that nothing the CLI
    tools page reads or writes is the machine's own."""
    home = tmp_path_factory.mktemp("dash-home")
    gw = RunningGateway(tmp_path_factory.mktemp("dash-data"), env={"INITIAL_PASSWORD": PASSWORD, "HOME": str(home)})
    yield gw
    gw.stop()


@pytest.fixture(scope="package")
def admin(dash: RunningGateway) -> str:
    """A session token for API calls the tests make themselves."""
    answer = dash.api("POST", "/api/auth/login", {"password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    reason = browser.why_not()
    if reason is not None:
        pytest.skip(f"dashboard browser tests: {reason}")
    with browser.chromium() as launched:
        yield launched
