"""``omniroute.hooks``: the chain's order and isolation as units, then hooks loaded into a real
gateway (2 workers) with ``--hooks``: a pre-hook answers (JSON and streams, in the client's
format, no upstream asked), a post-hook sees the usage of streamed answers (pass-through and
translated), of failures and of a client that left, and a post-hook that raises breaks
neither the answer nor the hooks after it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest

from omniroute.canonical import Response
from omniroute.context import RequestContext
from omniroute.hooks import Hook, HookChain
from tests.support.gateway import RunningGateway
from tests.support.hooks import ANSWER, ANSWER_ME
from tests.support.openai_upstream import OpenAIUpstream

HOOKS = "tests.support.hooks:recorder,tests.support.hooks:failing,tests.support.hooks:answering"


class Step(Hook):
    def __init__(self, name: str, log: list[str], answer: Response | None = None, fail: bool = False) -> None:
        self.name, self.log, self.answer, self.fail = name, log, answer, fail

    async def pre(self, ctx: RequestContext) -> Response | None:
        self.log.append(f"pre {self.name}")
        return self.answer

    async def post(self, ctx: RequestContext) -> None:
        self.log.append(f"post {self.name}")
        if self.fail:
            raise RuntimeError("boom")


def test_pre_in_order_post_reversed_and_a_failure_is_contained() -> None:
    log: list[str] = []
    chain = HookChain([Step("a", log), Step("b", log, fail=True), Step("c", log)])
    ctx = RequestContext(0.0, "openai_chat")

    async def run() -> None:
        assert await chain.run_pre(ctx) is None
        chain.schedule_post(ctx, lambda _ctx: None)
        await chain.drain()

    asyncio.run(run())
    assert log == ["pre a", "pre b", "pre c", "post c", "post b", "post a"]


class Counter(Hook):
    """Quick synchronous work after the answer (an ``after`` hook)."""

    def __init__(self, name: str, log: list[str], fail: bool = False, off: bool = False) -> None:
        self.name, self.log, self.fail = name, log, fail
        if off:
            self.after = None  # type: ignore[assignment]

    def after(self, ctx: RequestContext) -> None:
        self.log.append(f"after {self.name} in task {asyncio.current_task() is not None}")
        if self.fail:
            raise RuntimeError("boom")


def test_after_hooks_run_in_place_before_the_post_task_and_a_failure_is_contained() -> None:
    log: list[str] = []
    chain = HookChain([Step("a", log), Counter("b", log, fail=True), Counter("c", log), Counter("off", log, off=True)])
    assert [h.name for h in chain.after] == ["c", "b"] and chain.posts
    ctx = RequestContext(0.0, "openai_chat")

    def from_a_callback() -> None:  # as the app calls it: outside any task
        chain.schedule_post(ctx, lambda _ctx: None)
        log.append(f"scheduled, {len(chain.running)} task")

    async def run() -> None:
        asyncio.get_running_loop().call_soon(from_a_callback)
        await asyncio.sleep(0)
        await chain.drain()

    asyncio.run(run())
    assert log == ["after c in task False", "after b in task False", "scheduled, 1 task", "post a"]


def test_a_chain_of_after_hooks_alone_starts_no_task() -> None:
    log: list[str] = []
    chain = HookChain([Counter("b", log)])
    ctx = RequestContext(0.0, "openai_chat")

    async def run() -> None:
        chain.schedule_post(ctx, lambda _ctx: None)
        assert not chain.running

    asyncio.run(run())
    assert log == ["after b in task True"] and chain.wants_post(ctx)
    assert not HookChain([Counter("off", log, off=True)]).wants_post(ctx)


def test_an_answering_pre_hook_stops_the_chain() -> None:
    log: list[str] = []
    answer = Response(id="r", model="m")
    chain = HookChain([Step("a", log, answer=answer), Step("b", log)])
    ctx = RequestContext(0.0, "openai_chat")
    assert asyncio.run(chain.run_pre(ctx)) is answer
    assert log == ["pre a"] and ctx.answered_by == "a" and ctx.response is answer


def test_an_empty_chain_has_nothing_to_run() -> None:
    chain = HookChain([Hook()])
    assert (chain.pre, chain.post, chain.needs_request, chain.needs_answer) == ([], [], False, False)


@pytest.fixture(scope="module")
def hooked(tmp_path_factory: pytest.TempPathFactory, upstream: OpenAIUpstream) -> Iterator[tuple[RunningGateway, Path]]:
    data = tmp_path_factory.mktemp("hooks")
    log = data / "hooks.jsonl"
    gw = RunningGateway(data / "gw", "--workers", "2", "--hooks", HOOKS, "--first-byte-timeout", "20",
                        env={"HOOK_LOG": str(log)})
    gw.add_openai_upstream(upstream.base_url)
    yield gw, log
    gw.stop()


def records(log: Path, count: int) -> list[dict]:
    """The recorder's lines once there are ``count`` of them (post-hooks run after the answer)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = log.read_text().splitlines() if log.exists() else []
        if len(lines) >= count:
            return [json.loads(line) for line in lines]
        time.sleep(0.02)
    raise AssertionError(f"expected {count} hook records, got {log.read_text() if log.exists() else 'none'}")


def test_pre_hook_answers_in_each_clients_format(hooked: tuple[RunningGateway, Path],
                                                  upstream: OpenAIUpstream) -> None:
    gw, log = hooked
    before = len(records(log, 0))
    asked = len(upstream.requests)
    chat = openai.OpenAI(base_url=gw.url + "/v1", api_key="x", max_retries=0)
    messages = [{"role": "user", "content": ANSWER_ME}]
    answer = chat.chat.completions.create(model="mock/gpt-4o-mini", messages=messages)
    assert answer.choices[0].message.content == ANSWER and answer.usage.prompt_tokens == 7
    assert answer.model == "mock/gpt-4o-mini"
    chunks = list(chat.chat.completions.create(model="mock/gpt-4o-mini", messages=messages, stream=True,
                                               stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ANSWER
    assert chunks[-1].usage.completion_tokens == 3
    claude = anthropic.Anthropic(base_url=gw.url, api_key="x", max_retries=0)
    with claude.messages.stream(model="mock/gpt-4o-mini", max_tokens=64, messages=messages) as stream:
        assert "".join(stream.text_stream) == ANSWER
        assert stream.get_final_message().usage.output_tokens == 3
    assert len(upstream.requests) == asked  # no upstream was asked
    answered = records(log, before + 3)[before:]
    assert {(r["answeredBy"], r["text"], r["status"]) for r in answered} == {("answering", ANSWER, None)}


def test_post_hook_sees_usage_of_streams_and_failures(hooked: tuple[RunningGateway, Path]) -> None:
    gw, log = hooked
    before = len(records(log, 0))
    chat = openai.OpenAI(base_url=gw.url + "/v1", api_key="x", max_retries=0)
    messages = [{"role": "user", "content": "hi"}]
    list(chat.chat.completions.create(model="mock/gpt-4o-mini", messages=messages, stream=True,
                                      stream_options={"include_usage": True}))  # pass-through
    claude = anthropic.Anthropic(base_url=gw.url, api_key="x", max_retries=0)
    with claude.messages.stream(model="mock/gpt-4o-mini", max_tokens=64, messages=messages) as stream:
        stream.until_done()  # translated: Anthropic client, OpenAI upstream
    with pytest.raises(openai.InternalServerError):
        chat.chat.completions.create(model="mock/error-500", messages=messages)
    passed, translated, failed = records(log, before + 3)[before:]
    assert (passed["stream"], passed["upstreamFormat"], passed["usage"], passed["text"]) == (
        True, "openai_chat", [12, 6], "Hello from the mock upstream.")
    assert passed["firstByte"] and passed["upstreamMs"] > 0 and passed["error"] is None, passed
    assert (translated["upstreamFormat"], translated["usage"]) == ("openai_chat", [12, 6])
    assert passed["cache"] == translated["cache"] == "bypass"  # no temperature 0: the cache said BYPASS
    assert (failed["status"], failed["error"], failed["usage"]) == (500, "upstream_error", None)


def test_non_streaming_disconnect_cancels_the_upstream_call(hooked: tuple[RunningGateway, Path],
                                                            upstream: OpenAIUpstream) -> None:
    gw, log = hooked
    before, left = len(records(log, 0)), upstream.disconnects
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(gw.url + "/v1/chat/completions", timeout=0.5,
                   json={"model": "mock/hang", "messages": [{"role": "user", "content": "hi"}]})
    assert upstream.wait_for(lambda: upstream.disconnects > left, timeout=3)  # the mock saw its request close
    (record,) = records(log, before + 1)[before:]
    assert record["disconnected"] is True and record["model"] == "mock/hang"
    ok = openai.OpenAI(base_url=gw.url + "/v1", api_key="x", max_retries=0).chat.completions.create(
        model="mock/gpt-4o-mini", messages=[{"role": "user", "content": "still there?"}])
    assert ok.choices[0].message.content  # and the gateway keeps serving
