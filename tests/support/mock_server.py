"""What the per-provider mock upstreams share: a real aiohttp server in its own thread, and
the answer a request asks for.

Every mock (``anthropic_upstream``, ``gemini_upstream``, ``ollama_upstream``,
``responses_upstream``) decides its answer the same way, from the model name and the request:

==================================  ===================================================
model / request                     answer
==================================  ===================================================
``error-<code>``                    HTTP <code> with the provider's error body
``drop``                            (stream) two text pieces, then the connection dies
``overload``                        (stream) two text pieces, then the provider's own
                                    mid-stream error event ("mock overloaded")
tools offered, no tool result yet   a call of the first tool with ``{"city": "Paris"}``
thinking asked                      thinking text first (with the provider's signature,
                                    when it has one)
max tokens ≤ ``TRUNCATE_AT``        the first two text pieces, stopped for length
anything else                       ``"Hello from the mock upstream."`` in six pieces
==================================  ===================================================

Usage is always 12 prompt and 6 answer tokens. Each mock records every request body
(``requests``) and its headers (``headers``); a request the real service would refuse is
answered with that service's 400, so a malformed translation fails loudly.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

WORDS = ["Hello", " from", " the", " mock", " upstream", "."]
TEXT = "".join(WORDS)
THOUGHTS = ["Thinking", " it over."]
THOUGHT = "".join(THOUGHTS)
ARGS = ['{"city": ', '"Paris"}']
PROMPT_TOKENS = 12
ANSWER_TOKENS = 6
TRUNCATE_AT = 16
API_KEY = "sk-upstream"


@dataclass
class Plan:
    """The answer a request asks for (see the module table)."""

    tool: str | None = None  # name of the tool to call
    thinking: bool = False
    truncated: bool = False

    @property
    def words(self) -> list[str]:
        return WORDS[:2] if self.truncated else WORDS


def plan(tool_names: list[str], answered: bool, thinking: bool, max_tokens: Any) -> Plan:
    truncated = isinstance(max_tokens, int) and max_tokens <= TRUNCATE_AT
    tool = tool_names[0] if tool_names and not answered else None
    return Plan(tool=tool, thinking=thinking, truncated=truncated and tool is None)


def error_code(model: str) -> int | None:
    if model.startswith("error-"):
        return int(model.split("-")[1])
    return None


OVERLOADED = "mock overloaded"


def breaks(model: str, index: int) -> bool:
    """Whether a ``drop``/``overload`` stream breaks after the text piece at ``index``."""
    return model in ("drop", "overload") and index == 1


def dumps(obj: Any, **kw: Any) -> bytes:
    return json.dumps(obj, **kw).encode()


class Refused(Exception):
    """The request is one the real service would refuse with a 400 (``message`` says why)."""


class MockServer:
    """A real aiohttp server on a loopback port, run in a daemon thread; subclasses add routes."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.port = 0

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def start(self) -> MockServer:
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(10)
        return self

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        self.routes(app)
        self.runner = web.AppRunner(app, handle_signals=False)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    def stop(self) -> None:
        def halt() -> None:
            for task in asyncio.all_tasks(self.loop):
                task.cancel()
            self.loop.call_soon(self.loop.stop)

        self.loop.call_soon_threadsafe(halt)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def record(self, request: web.Request) -> dict[str, Any]:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        self.paths.append(request.path_qs)
        return body

    @staticmethod
    async def sse(request: web.Request, content_type: str = "text/event-stream") -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": content_type})
        await resp.prepare(request)
        return resp

    @staticmethod
    def drop(request: web.Request) -> None:
        """Kill the connection mid-body (the client sees a broken chunked body)."""
        assert request.transport is not None
        request.transport.close()

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return predicate()
