"""Reasoning state through client formats that have no field for it (``canonical.envelope``).

For each client format: its encoder (answer and stream) gives the client another format's
state packed in a field the client returns, the client's official SDK parses and re-serialises
it, and the same format's request decoder gives back the canonical state exactly. Each format's
own state goes out untouched. Encoders for an upstream send only that upstream's signatures.
"""

from __future__ import annotations

import json
import re
from typing import Any

import anthropic
import httpx
import httpx2
import openai
from google import genai
from google.genai import types as genai_types

from omniroute.canonical import (
    ArgumentsDelta,
    Block,
    BlockDelta,
    BlockStart,
    Event,
    Message,
    MessageStart,
    Request,
    Response,
    SignatureDelta,
    StopReason,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolCallBlock,
)
from omniroute.formats import anthropic as ant
from omniroute.formats import gemini, openai_chat, openai_responses
from tests.formats import streams

RESPONSES_THINKING = ThinkingBlock("thought", "gAAAAABpH-_7bW9jayBlbmNyeXB0ZWQ=", "rs_68b1c5", "openai_responses")
ANTHROPIC_THINKING = ThinkingBlock("thought", "EqQBCgIYAhIM1gbcDa9GJwZA2b3h", signature_source="anthropic")
GEMINI_THINKING = ThinkingBlock("thought", "R2VtaW5pVGhvdWdodFNpZ25hdHVyZTAx", signature_source="gemini")
GEMINI_CALL = ToolCallBlock("gcall_0123456789abcdef", "get_weather", '{"city":"Paris"}',
                            "Q2FsbFNpZ25hdHVyZS8rPT0=", "gemini")
ANTHROPIC_ID = re.compile(r"^[a-zA-Z0-9_-]+$")


def stream_of(*blocks: list[Any]) -> list[Event]:
    return streams.stream_of(MessageStart(id="resp_1", model="m"), *blocks, stop=StopReason.TOOL_USE)


def thinking_events(block: ThinkingBlock) -> list[Any]:
    """A streamed thinking block as upstream decoders emit it: the signature in two deltas."""
    sig = block.signature or ""
    start = ThinkingBlock(id=block.id, signature_source=block.signature_source)
    return [start, ThinkingDelta(block.thinking), SignatureDelta(sig[:5], block.signature_source),
            SignatureDelta(sig[5:], block.signature_source)]


CALL_EVENTS = [ToolCallBlock(GEMINI_CALL.id, GEMINI_CALL.name, "", GEMINI_CALL.signature, "gemini"),
               ArgumentsDelta(GEMINI_CALL.arguments)]


# ── Anthropic client ─────────────────────────────────────────────────────────────────────


def anthropic_sdk(body: bytes, stream: bool) -> anthropic.types.Message:
    ctype = "text/event-stream" if stream else "application/json"
    transport = httpx2.MockTransport(lambda request: httpx2.Response(200, headers={"content-type": ctype},
                                                                     content=body))
    client = anthropic.Anthropic(api_key="k", base_url="http://gw.test", max_retries=0,
                                 http_client=httpx2.Client(transport=transport))
    kw: dict[str, Any] = {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": "q"}]}
    if not stream:
        return client.messages.create(**kw)
    with client.messages.stream(**kw) as s:
        return s.get_final_message()


def anthropic_turn_back(msg: anthropic.types.Message) -> Request:
    """The client's next request: the answer's blocks as given, then the tool's result."""
    content = [b.model_dump(exclude_none=True) for b in msg.content]
    call = next(b for b in msg.content if b.type == "tool_use")
    body = {"model": "m", "max_tokens": 64, "messages": [
        {"role": "user", "content": "q"}, {"role": "assistant", "content": content},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "sunny"}]}]}
    return ant.decode_request(json.dumps(body).encode())


def test_anthropic_client_carries_foreign_state_and_keeps_its_own_byte_identical() -> None:
    for thinking in (RESPONSES_THINKING, GEMINI_THINKING, ANTHROPIC_THINKING):
        resp = Response("msg_1", "m", [thinking, GEMINI_CALL], StopReason.TOOL_USE)
        msg = anthropic_sdk(ant.encode_response(resp), stream=False)
        if thinking is ANTHROPIC_THINKING:
            assert msg.content[0].signature == ANTHROPIC_THINKING.signature
        assert ANTHROPIC_ID.match(msg.content[1].id)
        req = anthropic_turn_back(msg)
        assert req.messages[1].content == [thinking, GEMINI_CALL]
        assert req.messages[2].content[0].tool_call_id == GEMINI_CALL.id


def test_anthropic_stream_sends_foreign_signature_once_packed_before_the_block_stops() -> None:
    events = stream_of(thinking_events(RESPONSES_THINKING), CALL_EVENTS)
    out = streams.encode_events(ant.StreamEncoder("m", True), events)
    frames = [json.loads(f.data) for f in streams.sse_frames(out)]
    signatures = [f for f in frames if f.get("delta", {}).get("type") == "signature_delta"]
    assert len(signatures) == 1 and frames[frames.index(signatures[0]) + 1]["type"] == "content_block_stop"
    req = anthropic_turn_back(anthropic_sdk(out, stream=True))
    assert req.messages[1].content == [RESPONSES_THINKING, GEMINI_CALL]


def test_anthropic_stream_passes_its_own_signature_deltas_as_they_come() -> None:
    enc = ant.StreamEncoder("m", True)
    enc.encode(BlockStart(0, ThinkingBlock()))
    out = enc.encode(BlockDelta(0, SignatureDelta("EqQB", "anthropic")))
    assert out.endswith(b'"delta":{"type":"signature_delta","signature":"EqQB"}}\n\n')


# ── Responses client ─────────────────────────────────────────────────────────────────────


def responses_sdk(body: bytes, stream: bool) -> Any:
    ctype = "text/event-stream" if stream else "application/json"
    http = httpx.Client(transport=httpx.MockTransport(
        lambda request: httpx.Response(200, headers={"content-type": ctype}, content=body)))
    client = openai.OpenAI(api_key="k", base_url="http://gw.test/v1", http_client=http, max_retries=0)
    if not stream:
        return client.responses.create(model="m", input="q")
    with client.responses.stream(model="m", input="q") as s:
        for _ in s:
            pass
        return s.get_final_response()


def responses_turn_back(final: Any) -> Request:
    items = [o.model_dump(exclude_none=True) for o in final.output]
    call = next(o for o in final.output if o.type == "function_call")
    body = {"model": "m", "input": [{"role": "user", "content": "q"}, *items,
                                    {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}]}
    return openai_responses.decode_request(json.dumps(body).encode())


def test_responses_client_carries_foreign_state_and_keeps_its_own_items() -> None:
    for thinking in (ANTHROPIC_THINKING, GEMINI_THINKING, RESPONSES_THINKING):
        resp = Response("resp_1", "m", [thinking, GEMINI_CALL], StopReason.TOOL_USE)
        final = responses_sdk(openai_responses.encode_response(resp), stream=False)
        if thinking is RESPONSES_THINKING:
            assert (final.output[0].id, final.output[0].encrypted_content) == (thinking.id, thinking.signature)
        req = responses_turn_back(final)
        assert req.messages[1].content == [thinking, GEMINI_CALL]
        assert req.messages[2].content[0].tool_call_id == GEMINI_CALL.id


def test_responses_stream_carries_foreign_state() -> None:
    events = stream_of(thinking_events(ANTHROPIC_THINKING), CALL_EVENTS)
    final = responses_sdk(streams.encode_events(openai_responses.StreamEncoder("m", True), events), stream=True)
    assert responses_turn_back(final).messages[1].content == [ANTHROPIC_THINKING, GEMINI_CALL]


# ── Gemini client ────────────────────────────────────────────────────────────────────────


def gemini_parts(body: bytes, stream: bool) -> list[genai_types.Part]:
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(
        200, headers={"content-type": "text/event-stream" if stream else "application/json"}, content=body)))
    client = genai.Client(api_key="k", http_options=genai_types.HttpOptions(base_url="http://gw", httpx_client=http))
    if not stream:
        return client.models.generate_content(model="m", contents="q").candidates[0].content.parts
    chunks = client.models.generate_content_stream(model="m", contents="q")
    return [p for c in chunks if c.candidates and c.candidates[0].content for p in c.candidates[0].content.parts or []]


def gemini_turn_back(parts: list[genai_types.Part]) -> list[Block]:
    """The client's next request holds the answer's parts as the SDK re-serialises them."""
    model = genai_types.Content(role="model", parts=parts).model_dump(mode="json", by_alias=True, exclude_none=True)
    user = {"role": "user", "parts": [{"text": "q"}]}
    body = {"contents": [user, model, {"role": "user", "parts": [{"text": "ok"}]}]}
    return gemini.decode_request(json.dumps(body).encode()).messages[1].content


def test_gemini_client_carries_foreign_state_in_thought_signatures() -> None:
    for thinking in (RESPONSES_THINKING, ANTHROPIC_THINKING, GEMINI_THINKING):
        resp = Response("r", "m", [thinking, TextBlock("answer")], StopReason.END_TURN)
        parts = gemini_parts(gemini.encode_response(resp), stream=False)
        assert gemini_turn_back(parts) == [thinking, TextBlock("answer")]
        id_only = ThinkingBlock("", id="rs_1", signature_source="openai_responses")  # stored, not encrypted
        parts = gemini_parts(gemini.encode_response(Response("r", "m", [id_only])), stream=False)
        assert gemini_turn_back(parts) == [id_only]


def test_gemini_stream_writes_foreign_state_once_at_the_block_end() -> None:
    events = stream_of(thinking_events(RESPONSES_THINKING), [TextBlock(""), TextDelta("answer")])
    out = streams.encode_events(gemini.StreamEncoder("m", True), events)
    signed = [f for f in streams.sse_frames(out) if b"thoughtSignature" in f.data]
    assert len(signed) == 1
    parts = gemini_parts(out, stream=True)  # the thought text, then its envelope on an empty thought part
    blocks = [b for b in gemini_turn_back(parts) if b != TextBlock("")]  # the last chunk's empty text part
    assert blocks == [RESPONSES_THINKING, TextBlock("answer")]


# ── OpenAI Chat client: call ids carry a Gemini call signature ───────────────────────────


def chat_turn_back(call_id: str) -> Request:
    body = {"model": "m", "messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "tool_calls": [{"id": call_id, "type": "function",
                                              "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
        {"role": "tool", "tool_call_id": call_id, "content": "sunny"}]}
    return openai_chat.decode_request(json.dumps(body).encode())


def test_chat_client_carries_gemini_call_signature_in_the_call_id() -> None:
    body = openai_chat.encode_response(Response("c", "m", [GEMINI_CALL], StopReason.TOOL_USE))
    call_id = json.loads(body)["choices"][0]["message"]["tool_calls"][0]["id"]
    out = streams.encode_events(openai_chat.StreamEncoder("m"), stream_of(CALL_EVENTS))
    assert call_id in out.decode()  # the stream gives the same id
    req = chat_turn_back(call_id)
    assert req.messages[1].content == [GEMINI_CALL]
    assert req.messages[2].content[0].tool_call_id == GEMINI_CALL.id


# ── upstreams get only their own signatures ──────────────────────────────────────────────


def history(*blocks: Block) -> Request:
    return Request("m", [Message("user", [TextBlock("q")]), Message("assistant", [*blocks, TextBlock("a")]),
                         Message("user", [TextBlock("more")])])


def test_upstream_encoders_drop_other_providers_signatures() -> None:
    foreign_call = ToolCallBlock("call_1", "f", "{}", "c2ln", "anthropic")
    for fmt, own in ((ant, ANTHROPIC_THINKING), (gemini, GEMINI_THINKING), (openai_responses, RESPONSES_THINKING)):
        foreign = [t for t in (ANTHROPIC_THINKING, GEMINI_THINKING, RESPONSES_THINKING) if t is not own]
        body = fmt.encode_request(history(own, *foreign), "m").decode()
        assert own.signature in body
        assert all(t.signature not in body for t in foreign), fmt.NAME
    body = json.loads(gemini.encode_request(history(ANTHROPIC_THINKING, foreign_call), "m"))
    parts = body["contents"][1]["parts"]
    assert parts[0] == {"text": "thought", "thought": True}  # the thought text still goes, unsigned
    assert "thoughtSignature" not in parts[1]


def test_unknown_provenance_is_treated_as_the_formats_own() -> None:
    unlabelled = ThinkingBlock("thought", "c2lnbmF0dXJl")
    for fmt in (ant, gemini):
        assert "c2lnbmF0dXJl" in fmt.encode_request(history(unlabelled), "m").decode()
