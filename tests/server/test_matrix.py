"""The cross-format matrix, end to end: every client format × every upstream format (5 × 5)
through one real gateway, with the official SDK of the client format as client and a mock
upstream speaking each provider's exact wire format (``tests/support/*_upstream.py``).

Per pair, plain and streamed: a text answer with usage and stop reason, a max-tokens stop, a
tool-call round trip (the upstream's call reaches the client, the client's result reaches the
upstream correctly shaped — asserted on what the mock received), thinking (shown to the
client; where both sides sign it, the signature goes back to the same upstream), the agent
loop with thinking and tools together, and an upstream error in the client's dialect with the
upstream's status. Streams also: broken midway (connection dropped; the upstream's own error
event) and, below the SDKs, ending with the client format's end event and nothing after it.

The diagonal (same format in and out) is the byte pass-through; every other cell translates
through the canonical form. Known faults are strict ``xfail``s naming their cause: when one is
fixed its test fails until it is taken off the list.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.server.matrix_clients import CLIENTS, RESULT, Ask
from tests.support import anthropic_upstream, gemini_upstream, responses_upstream
from tests.support.fleet import UPSTREAMS
from tests.support.gateway import RunningGateway
from tests.support.mock_server import ANSWER_TOKENS, OVERLOADED, PROMPT_TOKENS, TEXT, THOUGHT, WORDS
from tests.support.stream_ends import anthropic_end, chat_end, gemini_end, ollama_end, responses_end

ERROR_CODES = (400, 429, 500)
PAIRS = [pytest.param(c, u, id=f"{c}->{u}") for c in CLIENTS for u in UPSTREAMS]

#: (client, upstream) pairs whose thinking text the client does not see, by design, and why
HIDDEN = {
    ("openai", "responses"): "reasoning_effort asks for effort, not for a visible summary (a Responses summary "
    "needs a verified organisation), and Responses shows none unless asked",
    ("anthropic", "responses"): "with no `display` the Anthropic decoder leaves include_thoughts open and the "
    "Responses encoder asks for a summary only when it is true",
    ("ollama", "responses"): "think=true leaves include_thoughts and effort open: no `reasoning` is sent",
    ("ollama", "openai"): "think=true names no effort, and reasoning_effort is Chat's only reasoning switch",
}

# ── fixtures (the mocks and the gateway: tests/server/conftest.py) ───────────────────────


@pytest.fixture(scope="session")
def clients(matrix_gateway: RunningGateway) -> dict[str, Any]:
    return {name: cls(matrix_gateway.url) for name, cls in CLIENTS.items()}


# ── what the upstream received ───────────────────────────────────────────────────────────


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if isinstance(p, dict))


def tool_exchange(upstream: str, body: dict[str, Any]) -> tuple[Any, str, dict[str, Any], Any, str]:
    """(call id, name, arguments, result's call id, result text) as the upstream received them."""
    if upstream in ("openai", "ollama"):
        turn = next(m for m in body["messages"] if m["role"] == "assistant" and m.get("tool_calls"))
        call = turn["tool_calls"][0]
        result = next(m for m in body["messages"] if m["role"] == "tool")
        args = call["function"]["arguments"]
        args = json.loads(args) if upstream == "openai" else args
        if upstream == "ollama":  # Ollama matches results to calls by name
            assert result["tool_name"] == call["function"]["name"]
        return call.get("id"), call["function"]["name"], args, result.get("tool_call_id"), _text(result["content"])
    if upstream == "anthropic":
        turn = next(m for m in body["messages"] if m["role"] == "assistant")
        use = next(b for b in turn["content"] if b["type"] == "tool_use")
        result = next(
            b
            for m in body["messages"]
            if m["role"] == "user" and isinstance(m["content"], list)
            for b in m["content"]
            if b["type"] == "tool_result"
        )
        return use["id"], use["name"], use["input"], result["tool_use_id"], _text(result.get("content", ""))
    if upstream == "gemini":
        turn = next(c for c in body["contents"] if c.get("role") == "model")
        call = next(p["functionCall"] for p in turn["parts"] if "functionCall" in p)
        result = next(p["functionResponse"] for c in body["contents"] for p in c["parts"] if "functionResponse" in p)
        assert result["name"] == call["name"]
        return call.get("id"), call["name"], call.get("args", {}), result.get("id"), json.dumps(result["response"])
    call = next(i for i in body["input"] if i.get("type") == "function_call")
    result = next(i for i in body["input"] if i.get("type") == "function_call_output")
    return call["call_id"], call["name"], json.loads(call["arguments"]), result["call_id"], _text(result["output"])


def signature_sent_back(upstream: str, body: dict[str, Any]) -> str | None:
    """The upstream's own signature in the assistant turn it received back, where it belongs."""
    if upstream == "anthropic":
        turn = next(m for m in body["messages"] if m["role"] == "assistant")
        first = turn["content"][0]  # thinking must lead the turn
        assert first["type"] == "thinking" and first["thinking"] == THOUGHT, turn
        return first["signature"]
    if upstream == "gemini":
        turn = next(c for c in body["contents"] if c.get("role") == "model")
        return next((p["thoughtSignature"] for p in turn["parts"] if "thoughtSignature" in p), None)
    items = [i for i in body["input"] if i.get("type") == "reasoning"]
    assert all(i.get("id") == responses_upstream.REASONING_ID for i in items), items
    return next((i["encrypted_content"] for i in items if i.get("encrypted_content")), None)


def call_signature_sent_back(body: dict[str, Any]) -> str | None:
    """The thoughtSignature on the functionCall part a Gemini upstream received back."""
    turn = next(c for c in body["contents"] if c.get("role") == "model")
    return next(p.get("thoughtSignature") for p in turn["parts"] if "functionCall" in p)


# ── the matrix ───────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize(("client", "upstream"), PAIRS)
def test_text(clients: dict[str, Any], client: str, upstream: str, stream: bool) -> None:
    c, u = clients[client], UPSTREAMS[upstream]
    answer = c.ask(u.id(), Ask(stream=stream))
    assert answer.text == TEXT
    assert answer.stop == c.stops["end"]
    assert answer.usage == (PROMPT_TOKENS, ANSWER_TOKENS)
    assert not answer.calls and not answer.thinking
    assert not answer.stray_errors


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize(("client", "upstream"), PAIRS)
def test_max_tokens_stop(clients: dict[str, Any], client: str, upstream: str, stream: bool) -> None:
    c, u = clients[client], UPSTREAMS[upstream]
    answer = c.ask(u.id(), Ask(max_tokens=16, stream=stream))
    assert answer.text == "".join(WORDS[:2])
    assert answer.stop == c.stops["max"]
    assert not answer.stray_errors


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize(("client", "upstream"), PAIRS)
def test_tool_round_trip(
    clients: dict[str, Any],
    mocks: dict[str, Any],
    client: str,
    upstream: str,
    stream: bool,
) -> None:
    c, u = clients[client], UPSTREAMS[upstream]
    first = c.ask(u.id(), Ask(tools=True, stream=stream))
    assert first.stop == c.stops["tool"] and not first.stray_errors
    assert [(name, args) for _, name, args in first.calls] == [("get_weather", {"city": "Paris"})]
    if u.call_id and client != "ollama":  # Ollama's wire (and SDK) has no call ids
        assert first.calls[0][0] == u.call_id
    final = c.ask(u.id(), Ask(tools=True, stream=stream), history=c.tool_turn(first))
    assert final.text == TEXT and final.stop == c.stops["end"] and not final.stray_errors
    call_id, name, args, result_id, result = tool_exchange(upstream, mocks[upstream].requests[-1])
    assert (name, args) == ("get_weather", {"city": "Paris"})
    assert RESULT in result
    if call_id is not None or result_id is not None:
        assert call_id == result_id
    if u.call_id and client != "ollama":  # the upstream gets its own call id back
        assert call_id == u.call_id


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize(("client", "upstream"), PAIRS)
def test_thinking(
    clients: dict[str, Any],
    mocks: dict[str, Any],
    client: str,
    upstream: str,
    stream: bool,
) -> None:
    c, u = clients[client], UPSTREAMS[upstream]
    pair = (client, upstream)
    first = c.ask(u.id(), Ask(thinking=True, stream=stream))
    assert first.text == TEXT and first.stop == c.stops["end"] and not first.stray_errors
    assert first.thinking == ("" if pair in HIDDEN else THOUGHT)
    if not (c.signs and u.signature):
        return
    assert first.signature  # the client holds the upstream's signature, in its own field
    final = c.ask(u.id(), Ask(thinking=True, stream=stream), history=c.thinking_turn(first))
    assert final.text == TEXT and not final.stray_errors
    assert signature_sent_back(upstream, mocks[upstream].requests[-1]) == u.signature


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize(("client", "upstream"), PAIRS)
def test_thinking_tool_loop(
    clients: dict[str, Any],
    mocks: dict[str, Any],
    client: str,
    upstream: str,
    stream: bool,
) -> None:
    """The agent loop with thinking on: the signed turn that called the tool goes back whole."""
    c, u = clients[client], UPSTREAMS[upstream]
    pair = (client, upstream)
    first = c.ask(u.id(), Ask(tools=True, thinking=True, stream=stream))
    assert [name for _, name, _ in first.calls] == ["get_weather"]
    assert first.thinking == ("" if pair in HIDDEN else THOUGHT)
    final = c.ask(u.id(), Ask(tools=True, thinking=True, stream=stream), history=c.tool_turn(first))
    assert final.text == TEXT and not final.stray_errors
    sent = mocks[upstream].requests[-1]
    if c.signs and u.signature:
        assert signature_sent_back(upstream, sent) == u.signature
    elif upstream == "anthropic" and client != "anthropic":  # no signed thinking to return: none asked
        assert "thinking" not in sent
    if upstream == "gemini" and client != "ollama":  # any client with call ids carries the call's signature
        assert call_signature_sent_back(sent) == u.signature


#: client → (path, body, what a complete stream ends with); ``{model}`` is filled in
RAW_STREAMS: dict[str, tuple[str, dict[str, Any], Any]] = {
    "openai": ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "stream": True}, chat_end),
    "anthropic": (
        "/v1/messages",
        {"max_tokens": 64, "messages": [{"role": "user", "content": "hi"}], "stream": True},
        anthropic_end,
    ),
    "responses": ("/v1/responses", {"input": "hi", "stream": True}, responses_end),
    "gemini": (
        "/v1beta/models/{model}:streamGenerateContent?alt=sse",
        {"contents": [{"parts": [{"text": "hi"}]}]},
        gemini_end,
    ),
    "gemini-array": (
        "/v1beta/models/{model}:streamGenerateContent",
        {"contents": [{"parts": [{"text": "hi"}]}]},
        gemini_end,
    ),
    "ollama": ("/api/chat", {"messages": [{"role": "user", "content": "hi"}]}, ollama_end),
}


@pytest.mark.parametrize("upstream", list(UPSTREAMS))
@pytest.mark.parametrize("client", list(RAW_STREAMS))
def test_stream_wire_ends_cleanly(matrix_gateway: RunningGateway, client: str, upstream: str) -> None:
    """Below the SDKs (some skip what follows their end marker): a complete stream ends with its
    format's end event and carries no error event."""
    path, body, check = RAW_STREAMS[client]
    model = UPSTREAMS[upstream].id()
    resp = matrix_gateway.http.post(
        path.format(model=model), json={**body, "model": model} if "{" not in path else body
    )
    assert resp.status_code == 200, resp.text
    check(resp.content)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("code", ERROR_CODES)
@pytest.mark.parametrize(("client", "upstream"), PAIRS)
def test_upstream_error(clients: dict[str, Any], client: str, upstream: str, code: int, stream: bool) -> None:
    c, u = clients[client], UPSTREAMS[upstream]
    status, message, detail = c.fail(u.id(f"error-{code}"), stream)
    assert status == code
    assert f"mock says {code}" in message
    expected = {
        "anthropic": lambda d: d["type"] == anthropic_upstream.ERROR_TYPES[code],
        "gemini": lambda d: d == gemini_upstream.STATUSES[code],
        "openai": lambda d: d["message"] == f"mock says {code}" and "type" in d,
        "responses": lambda d: d["message"] == f"mock says {code}" and "type" in d,
        "ollama": lambda d: d is None,
    }
    assert expected[client](detail), detail


@pytest.mark.parametrize("how", ["drop", "overload"])
@pytest.mark.parametrize(("client", "upstream"), PAIRS)
def test_stream_broken_midway(clients: dict[str, Any], client: str, upstream: str, how: str) -> None:
    """``drop``: the connection dies; ``overload``: the upstream's own mid-stream error event.
    Either way the client's SDK raises (Responses: the stream ends failed)."""
    c, u = clients[client], UPSTREAMS[upstream]
    error = c.broken_stream(u.id(how))
    assert str(error)
    if how == "overload":
        assert OVERLOADED in str(error)
