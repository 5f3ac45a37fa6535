"""The ``run`` fixture: every client test runs on both the stdlib loop and uvloop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import uvloop


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Callable[[Awaitable[Any]], Any]:
    """Run a coroutine to completion on the chosen loop, failing after 10 s."""

    def _run(coro: Awaitable[Any]) -> Any:
        async def bounded() -> Any:
            async with asyncio.timeout(10):
                return await coro

        return uvloop.run(bounded()) if request.param == "uvloop" else asyncio.run(bounded())

    return _run
