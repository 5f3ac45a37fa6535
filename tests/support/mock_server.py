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
a user text with ``mock-call <tool>  (scripted, before all of the above but errors) a call
<json args>``                       of that tool with those arguments while the
                                    conversation holds no tool result, then the
                                    ``mock-reply`` text (or ``SCRIPT_DONE``)
a user text with ``mock-reply        (scripted) that text as the answer, whatever the
<text>`` (to the end of its line)   tools offered
anything else                       ``"Hello from the mock upstream."`` in six pieces
==================================  ===================================================

The scripted rows let a real client (Claude Code, Codex), which offers its tools on every
request, get a plain answer or run one tool of its own through a loop.

Usage is always 12 prompt and 6 answer tokens. Each mock records every request body
(``requests``) and its headers (``headers``; ``header_lists``: repeats kept, names
lower-cased); a request the real service would refuse is answered with that service's 400,
so a malformed translation fails loudly: unknown top-level fields (each mock holds its API's
documented list as a constant), roles the API does not take, image data that is not
standard base64 (``base64_error``).
"""

from __future__ import annotations

import asyncio
import json
import re
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
CALL_TAG = "mock-call"
REPLY_TAG = "mock-reply"
SCRIPT_DONE = "Done with the tool."
_STANDARD_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


@dataclass
class Plan:
    """The answer a request asks for (see the module table)."""

    tool: str | None = None  # name of the tool to call
    thinking: bool = False
    truncated: bool = False
    args: dict[str, Any] | None = None  # the call's arguments (None: ``{"city": "Paris"}``)
    reply: str | None = None  # a scripted answer text

    @property
    def words(self) -> list[str]:
        if self.reply is not None:
            return re.findall(r"\s*\S+", self.reply) or [self.reply]
        return WORDS[:2] if self.truncated else WORDS

    @property
    def arguments(self) -> dict[str, Any]:
        return {"city": "Paris"} if self.args is None else self.args

    @property
    def arg_pieces(self) -> list[str]:
        """The arguments' JSON in two pieces, as a stream sends them."""
        if self.args is None:
            return ARGS
        raw = json.dumps(self.args)
        return [raw[: len(raw) // 2], raw[len(raw) // 2 :]]


def plan(tool_names: list[str], answered: bool, thinking: bool, max_tokens: Any) -> Plan:
    truncated = isinstance(max_tokens, int) and max_tokens <= TRUNCATE_AT
    tool = tool_names[0] if tool_names and not answered else None
    return Plan(tool=tool, thinking=thinking, truncated=truncated and tool is None)


def script(texts: list[str], tool_names: list[str], results: int, thinking: bool = False) -> Plan | None:
    """The scripted answer the user texts ask for (``mock-call`` / ``mock-reply``), or None.

    ``results`` counts the tool results in the conversation: the call is made until one is back.
    """
    joined = "\n".join(texts)
    reply_at, call_at = joined.rfind(REPLY_TAG), joined.rfind(CALL_TAG)
    if reply_at < 0 and call_at < 0:
        return None
    reply = joined[reply_at + len(REPLY_TAG) :].split("\n")[0].strip() if reply_at >= 0 else SCRIPT_DONE
    if call_at >= 0 and not results:
        name, _, rest = joined[call_at + len(CALL_TAG) :].strip().partition(" ")
        if name not in tool_names:
            return Plan(thinking=thinking, reply=f"tool {name} was not offered")
        args, _ = json.JSONDecoder().raw_decode(rest.strip())
        return Plan(tool=name, thinking=thinking, args=args)
    return Plan(thinking=thinking, reply=reply)


def base64_error(data: str) -> int | None:
    """Where ``data`` stops being standard base64 (RFC 4648 §4, as Go's ``StdEncoding`` reads
    it): the index of the first bad byte, or None when it is well formed."""
    end = _STANDARD_B64.match(data).end()  # type: ignore[union-attr]
    if end < len(data):
        return end
    return None if len(data) % 4 == 0 else len(data) - len(data) % 4


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
        #: every request's headers as sent, repeats included, names lower-cased
        self.header_lists: list[list[tuple[str, str]]] = []
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
        self.header_lists.append([(k.lower(), v) for k, v in request.headers.items()])
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

    @staticmethod
    async def client_left(request: web.Request, seconds: float) -> bool:
        """Hold the request up to ``seconds``; True as soon as its client closed the
        connection (aiohttp does not cancel a handler whose client left)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if request.transport is None or request.transport.is_closing():
                return True
            await asyncio.sleep(0.02)
        return False

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return predicate()
