"""OpenAI Chat Completions: requests, answers and streams, both directions.

Golden fixtures in ``tests/fixtures/openai_chat`` are raw upstream bodies/streams as the
providers send them; the ``openai`` SDK is the judge of what the encoders write.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import httpx
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from omniroute.canonical import (
    ArgumentsDelta,
    BlockDelta,
    BlockStart,
    BlockStop,
    DocumentBlock,
    Event,
    ImageBlock,
    Message,
    MessageDelta,
    MessageStart,
    MessageStop,
    Ping,
    Reasoning,
    RedactedThinkingBlock,
    Request,
    Response,
    ResponseFormat,
    SignatureDelta,
    StopReason,
    StreamError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    Tool,
    ToolCallBlock,
    ToolChoice,
    ToolChoiceMode,
    ToolResultBlock,
    Unknown,
    UnknownBlock,
    Usage,
)
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import openai_chat as oc
from omniroute.formats._framing import SSEDecoder, SSEFrame
from tests.formats import streams
from tests.formats.streams import check_grammar, fold

fixture = streams.Fixtures("openai_chat")
STREAMS = fixture.names(".sse")

decode_stream = partial(streams.decode_stream, oc.StreamDecoder)


# --- helpers ----------------------------------------------------------------------------------


def final(events: list[Event]) -> MessageDelta | None:
    return next((e for e in events if type(e) is MessageDelta), None)


def sse_data(out: bytes) -> list[str]:
    return [f.data.decode() for f in streams.sse_frames(out)]


def sdk_client(body: bytes, content_type: str = "text/event-stream") -> openai.OpenAI:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, content=body)

    return openai.OpenAI(api_key="sk-test", base_url="http://gw.test/v1", http_client=httpx.Client(
        transport=httpx.MockTransport(handler)), max_retries=0)


def sdk_stream(body: bytes) -> list[ChatCompletionChunk]:
    stream = sdk_client(body).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    return list(stream)


def encode_all(events: list[Event], model: str = "client-model", include_usage: bool = False) -> bytes:
    return streams.encode_events(oc.StreamEncoder(model, include_usage), events)


# --- stream decoding: fixtures ----------------------------------------------------------------


@pytest.mark.parametrize("name", STREAMS)
def test_fixture_streams_follow_the_grammar(name: str) -> None:
    check_grammar(decode_stream(fixture(name)))


@pytest.mark.parametrize("name", STREAMS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_random_splits_give_identical_events(name: str, data: st.DataObject) -> None:
    raw = fixture(name)
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=40))
    assert decode_stream(raw, cuts) == decode_stream(raw)


def test_split_inside_every_multibyte_character() -> None:
    raw = fixture("utf8.sse")
    expected = decode_stream(raw)
    inside = streams.inside_characters(raw)
    assert decode_stream(raw, inside) == expected
    assert decode_stream(raw, list(range(len(raw)))) == expected  # one byte per read


def test_text_stream() -> None:
    events = decode_stream(fixture("text.sse"))
    assert events[0] == MessageStart("chatcmpl-BvZk5qRZ8mG2vHc3xT1pLw9sJd0aE", "gpt-4o-2024-08-06", None, 1753120000)
    assert fold(events)["blocks"] == [TextBlock("Hello! How can I help you today?")]
    assert final(events) == MessageDelta(StopReason.END_TURN, None, Usage(19, 10))
    assert type(events[-1]) is MessageStop


def test_utf8_stream() -> None:
    text = "こんにちは、世界！ Ça va ? 👋🏽 👩‍💻 Ελληνικά — 漢字"
    assert fold(decode_stream(fixture("utf8.sse")))["blocks"] == [TextBlock(text)]


def test_tool_call_arguments_stay_raw() -> None:
    events = decode_stream(fixture("tools_partial_json.sse"))
    assert fold(events)["blocks"] == [
        ToolCallBlock("call_Q7bM2xkVb3fJ9LsT1aPz0nYe", "get_weather", '{"location":"Paris, France","unit":"celsius"}')
    ]
    assert sum(type(e) is BlockDelta for e in events) == 12  # streamed live, fragment by fragment
    assert final(events) == MessageDelta(StopReason.TOOL_USE)


def test_parallel_tool_calls_become_sequential_blocks() -> None:
    events = decode_stream(fixture("parallel_tools.sse"))
    assert fold(events)["blocks"] == [
        ToolCallBlock("call_9aKfT2mWq1xZ8bVn3cRd4eLs", "get_weather", '{"location": "Paris"}'),
        ToolCallBlock("call_H3jKp8sLm2qWx7cVb5nZt1Ry", "get_weather", '{"location": "Tokyo"}'),
        ToolCallBlock("call_Zx4cV6bN8mQ1wE3rT5yU7iO9", "get_time", '{"tz": "Asia/Tokyo"}'),
    ]
    assert final(events) == MessageDelta(StopReason.TOOL_USE, None, Usage(82, 61))


def test_interleaved_tool_calls_are_not_mixed_up() -> None:
    events = decode_stream(fixture("parallel_tools_interleaved.sse"))
    check_grammar(events)
    assert fold(events)["blocks"] == [
        ToolCallBlock("chatcmpl-tool-a1", "search", '{"q": "rust async"}'),
        ToolCallBlock("chatcmpl-tool-b2", "lookup", '{"id": 42}'),
    ]
    assert final(events) == MessageDelta(StopReason.TOOL_USE, None, Usage(310, 44))


def test_new_id_at_a_used_index_is_a_new_call() -> None:
    def frame(tc: dict[str, Any]) -> SSEFrame:
        return SSEFrame(None, json.dumps({"choices": [{"index": 0, "delta": {"tool_calls": [tc]}}]}).encode())

    dec = oc.StreamDecoder()
    events = dec.feed(frame({"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}}))
    events += dec.feed(frame({"index": 0, "id": "b", "function": {"name": "g", "arguments": "{}"}}))
    events += dec.close()
    check_grammar(events)
    assert fold(events)["blocks"] == [ToolCallBlock("a", "f", "{}"), ToolCallBlock("b", "g", "{}")]


def test_usage_only_final_chunk_ends_the_message() -> None:
    raw = fixture("usage_only_final.sse")
    frames = SSEDecoder().feed(raw)
    assert frames[-1].data == b"[DONE]"
    dec = oc.StreamDecoder()
    events = [e for f in frames[:-1] for e in dec.feed(f)]  # everything but [DONE]
    assert type(events[-1]) is MessageStop
    assert final(events) == MessageDelta(StopReason.END_TURN, None, Usage(1320, 203, 1152, 0, 192))
    assert dec.feed(frames[-1]) == [] and dec.close() == []


def test_reasoning_content_becomes_a_thinking_block() -> None:
    events = decode_stream(fixture("reasoning_content.sse"))
    assert fold(events)["blocks"] == [ThinkingBlock("The user asks for 2+2. That is 4."), TextBlock("2 + 2 = **4**")]
    assert final(events) == MessageDelta(StopReason.END_TURN, None, Usage(13, 96, 0, 0, 81))


def test_reasoning_field_with_crlf_lines() -> None:
    events = decode_stream(fixture("reasoning_field.sse"))
    assert fold(events)["blocks"] == [
        ThinkingBlock("Need the weather tool."),
        ToolCallBlock("call_b7c8d9e0", "get_weather", '{"city": "Berlin"}'),
    ]


def test_refusal_becomes_text() -> None:
    assert fold(decode_stream(fixture("refusal.sse")))["blocks"] == [TextBlock("I'm sorry, I can't help with that.")]


def test_midstream_error() -> None:
    events = decode_stream(fixture("midstream_error.sse"))
    assert fold(events)["blocks"] == [TextBlock("Once upon a")]
    assert events[-1] == StreamError(
        "upstream_error", "The server had an error while processing your request. Sorry about that!", 502
    )
    assert not any(type(e) is MessageStop for e in events)


def test_midstream_error_with_http_status_code() -> None:
    events = decode_stream(fixture("midstream_error_openrouter.sse"))
    assert events[-1] == StreamError("rate_limited", "Provider returned error: rate limited", 429)


def test_stream_without_done_is_flushed_by_close() -> None:
    events = decode_stream(fixture("length_no_done.sse"))
    assert events[-3:] == [BlockStop(0), MessageDelta(StopReason.MAX_TOKENS), MessageStop()]


def test_truncated_stream_closes_open_block() -> None:
    dec = oc.StreamDecoder()
    events = dec.feed(SSEFrame(None, b'{"id":"x","choices":[{"index":0,"delta":{"content":"par"}}]}'))
    events += dec.close()
    assert events[1:] == [BlockStart(0, TextBlock("")), BlockDelta(0, TextDelta("par")), BlockStop(0), MessageStop()]


def test_non_chunk_data_is_unknown_not_an_exception() -> None:
    dec = oc.StreamDecoder()
    assert dec.feed(SSEFrame("weird", b"not json")) == [Unknown("not json", "weird", "openai_chat")]
    assert dec.feed(SSEFrame(None, b'{"choices": 5}')) == [Unknown('{"choices": 5}', None, "openai_chat")]


def test_error_event_with_text_data() -> None:
    dec = oc.StreamDecoder()
    assert dec.feed(SSEFrame("error", b"overloaded")) == [StreamError("upstream_error", "overloaded", 502)]
    assert dec.close() == []
    dec = oc.StreamDecoder()
    bare = b'{"message": "slow down", "type": "rate_limit_error"}'
    assert dec.feed(SSEFrame("error", bare)) == [StreamError("rate_limited", "slow down", 429)]


def test_float_created_is_accepted() -> None:
    events = oc.StreamDecoder().feed(SSEFrame(None, b'{"id":"x","created":1753120000.5,"choices":[]}'))
    assert events == [MessageStart("x", "", None, 1753120000)]


def test_other_choices_are_ignored() -> None:
    dec = oc.StreamDecoder()
    data = b'{"choices":[{"index":1,"delta":{"content":"B"}},{"index":0,"delta":{"content":"A"}}]}'
    events = dec.feed(SSEFrame(None, data))
    assert fold(events + dec.close())["blocks"] == [TextBlock("A")]


# --- stream encoding --------------------------------------------------------------------------


def test_encoded_stream_parses_with_the_openai_sdk() -> None:
    events = decode_stream(fixture("parallel_tools.sse"))
    body = encode_all(events, include_usage=True)
    for data in sse_data(body)[:-1]:
        chunk = ChatCompletionChunk.model_validate_json(data)  # strict validation, every field
        assert chunk.model == "client-model" and chunk.object == "chat.completion.chunk"
    chunks = sdk_stream(body)
    assert chunks[0].choices[0].delta.role == "assistant"
    calls: dict[int, list[str]] = {}
    for c in chunks:
        for tc in (c.choices[0].delta.tool_calls or []) if c.choices else []:
            if tc.id:
                assert tc.type == "function" and tc.function.arguments == ""
                calls[tc.index] = [tc.id, tc.function.name, ""]
            calls[tc.index][2] += tc.function.arguments or ""
    assert calls == {
        0: ["call_9aKfT2mWq1xZ8bVn3cRd4eLs", "get_weather", '{"location": "Paris"}'],
        1: ["call_H3jKp8sLm2qWx7cVb5nZt1Ry", "get_weather", '{"location": "Tokyo"}'],
        2: ["call_Zx4cV6bN8mQ1wE3rT5yU7iO9", "get_time", '{"tz": "Asia/Tokyo"}'],
    }
    assert chunks[-2].choices[0].finish_reason == "tool_calls"
    assert chunks[-1].choices == [] and chunks[-1].usage.prompt_tokens == 82
    assert chunks[-1].usage.total_tokens == 143


def test_usage_chunk_only_when_the_client_asked() -> None:
    events = decode_stream(fixture("usage_only_final.sse"))
    without = sdk_stream(encode_all(events, include_usage=False))
    assert all(c.choices for c in without) and all(c.usage is None for c in without)
    with_usage = sdk_stream(encode_all(events, include_usage=True))
    usage = with_usage[-1].usage
    assert with_usage[-1].choices == []
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (1320, 203, 1523)
    assert usage.prompt_tokens_details.cached_tokens == 1152
    assert usage.completion_tokens_details.reasoning_tokens == 192


def test_text_and_reasoning_reach_the_sdk() -> None:
    chunks = sdk_stream(encode_all(decode_stream(fixture("reasoning_content.sse"))))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    reasoning = "".join(getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks)
    assert text == "2 + 2 = **4**"
    assert reasoning == "The user asks for 2+2. That is 4."
    assert {c.id for c in chunks} == {"3f4e9a1c-7b2d-4e8f-9a0b-1c2d3e4f5a6b"}
    assert {c.created for c in chunks} == {1753120000}


def test_stream_error_raises_in_the_sdk() -> None:
    body = encode_all(decode_stream(fixture("midstream_error.sse")))
    assert body.endswith(b"data: [DONE]\n\n")
    with pytest.raises(openai.APIError, match="The server had an error"):
        sdk_stream(body)


def test_events_after_the_end_are_ignored() -> None:
    enc = oc.StreamEncoder("m", False)
    enc.encode(MessageStart("id1", "m"))
    assert enc.encode(StreamError("upstream_timeout", "slow", 504)).startswith(b'data: {"error"')
    assert enc.encode(BlockDelta(0, TextDelta("late"))) == b""
    assert enc.encode(MessageStop()) == b""


@pytest.mark.parametrize(
    ("stop", "tools", "finish"),
    [
        (StopReason.END_TURN, False, "stop"),
        (StopReason.MAX_TOKENS, False, "length"),
        (StopReason.STOP_SEQUENCE, False, "stop"),
        (StopReason.CONTENT_FILTER, False, "content_filter"),
        (StopReason.TOOL_USE, True, "tool_calls"),
        (StopReason.END_TURN, True, "tool_calls"),
        (None, False, "stop"),
    ],
)
def test_finish_reasons(stop: StopReason | None, tools: bool, finish: str) -> None:
    events: list[Event] = [MessageStart("c1", "m", None, 5)]
    if tools:
        events += [BlockStart(0, ToolCallBlock("call_1", "f")), BlockDelta(0, ArgumentsDelta("{}")), BlockStop(0)]
    events += [MessageDelta(stop), MessageStop()]
    chunks = sdk_stream(encode_all(events))
    assert chunks[-1].choices[0].finish_reason == finish


def test_encoder_without_message_start_and_with_ping() -> None:
    enc = oc.StreamEncoder("m", True)
    out = enc.encode(BlockDelta(0, TextDelta("hi"))) + enc.encode(Ping())
    out += enc.encode(BlockDelta(0, SignatureDelta("sig"))) + enc.encode(MessageStop())
    assert b": ping\n\n" in out
    chunks = sdk_stream(out)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].id.startswith("chatcmpl-")
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "hi"
    assert chunks[-1].usage.total_tokens == 0


@pytest.mark.parametrize("name", [n for n in STREAMS if "error" not in n])
def test_stream_round_trip(name: str) -> None:
    """decode → encode → decode keeps text, thinking, tool calls (ids, names, raw args), stop, usage."""
    first = decode_stream(fixture(name))
    second = decode_stream(encode_all(first, include_usage=True))
    check_grammar(second)
    assert fold(second)["blocks"] == fold(first)["blocks"]
    a, b = final(first), final(second)
    assert b is not None
    assert b.stop_reason == ((a.stop_reason if a else None) or StopReason.END_TURN)
    assert b.usage == ((a.usage if a else None) or Usage())


def test_text_delta_encoding_matches_json() -> None:
    enc = oc.StreamEncoder('mo"del', False)
    enc.encode(MessageStart("id\\1", "x", None, 7))
    text = 'quote " backslash \\ newline \n emoji 👩‍💻 \u2028'
    chunk = json.loads(sse_data(enc.encode(BlockDelta(0, TextDelta(text))))[0])
    assert chunk["choices"][0]["delta"] == {"content": text}
    assert (chunk["id"], chunk["model"], chunk["created"]) == ("id\\1", 'mo"del', 7)


# --- requests ---------------------------------------------------------------------------------


def test_decode_full_request() -> None:
    req = oc.decode_request(fixture("request_full.json"))
    assert req.model == "gpt-4o" and req.stream and req.include_usage
    assert req.system == [
        TextBlock("You are a helpful assistant."), TextBlock("Answer briefly.", {"type": "ephemeral"})
    ]
    user = req.messages[0]
    assert user.role == "user" and user.name == "alice"
    assert user.content[1] == ImageBlock("image/png", user.content[1].data, None, "low")
    assert user.content[1].data.startswith("iVBORw0KGgo")
    assert user.content[2] == ImageBlock(url="https://example.com/cat.jpg")
    assert user.content[3] == DocumentBlock("application/pdf", "JVBERi0xLjQK", title="report.pdf")
    assert user.content[4] == UnknownBlock(
        {"type": "input_audio", "input_audio": {"data": "UklGRiQAAABXQVZF", "format": "wav"}}, "openai_chat"
    )
    assert req.messages[1] == Message("assistant", [
        ThinkingBlock("They want weather; call the tool."),
        TextBlock("Let me check."),
        ToolCallBlock("call_1", "get_weather", '{"location":"Paris"}'),
        ToolCallBlock("call_2", "get_weather", '{"location": "Lyon" }'),
    ])
    assert req.messages[2] == Message("user", [  # two tool messages fold into one user message
        ToolResultBlock("call_1", [TextBlock("18°C, sunny")], False, "get_weather"),
        ToolResultBlock("call_2", [TextBlock("15°C"), TextBlock(", rain")], False, "get_weather"),
    ])
    assert req.messages[3] == Message("user", [TextBlock("Thanks! Which is warmer?")])
    assert req.tools[0].name == "get_weather" and req.tools[0].strict is True
    assert req.tool_choice == ToolChoice(ToolChoiceMode.AUTO, None, False)
    assert req.max_tokens == 512  # max_completion_tokens wins over max_tokens
    assert (req.temperature, req.top_p, req.stop) == (0.2, 0.9, ["\n\nUser:"])
    assert req.reasoning == Reasoning(effort="low")
    assert req.response_format == ResponseFormat(
        "json_schema", {"type": "object", "properties": {"city": {"type": "string"}}}, "answer", True
    )
    assert (req.user, req.metadata) == ("user-1234", {"session": "s-1"})
    assert req.extra == {"openai_chat": {"seed": 7, "presence_penalty": 0.5, "logit_bias": {"50256": -100}, "n": 1}}


def test_request_round_trip() -> None:
    req = oc.decode_request(fixture("request_full.json"))
    body = oc.encode_request(req, "gpt-4o")
    assert oc.decode_request(body) == req
    wire = json.loads(body)
    assert wire["seed"] == 7 and wire["logit_bias"] == {"50256": -100}
    assert wire["max_completion_tokens"] == 512 and "max_tokens" not in wire
    assert wire["messages"][3]["reasoning_content"] == "They want weather; call the tool."
    assert wire["messages"][3]["tool_calls"][0] == {
        "id": "call_1", "function": {"name": "get_weather", "arguments": '{"location":"Paris"}'}, "type": "function"
    }
    assert [m["role"] for m in wire["messages"]] == ["system", "system", "user", "assistant", "tool", "tool", "user"]


def test_minimal_request_round_trip() -> None:
    body = b'{"model":"m","messages":[{"role":"user","content":"hi"}]}'
    req = oc.decode_request(body)
    assert req == Request("m", [Message("user", [TextBlock("hi")])])
    assert json.loads(oc.encode_request(req, "up")) == {"model": "up", "messages": [{"role": "user", "content": "hi"}]}


def test_stream_request_always_asks_for_usage() -> None:
    req = oc.decode_request(b'{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}')
    assert req.stream and not req.include_usage
    wire = json.loads(oc.encode_request(req, "m"))
    assert wire["stream"] is True and wire["stream_options"] == {"include_usage": True}


def test_max_tokens_alone_and_stop_string() -> None:
    req = oc.decode_request(b'{"model":"m","max_tokens":9,"stop":"END","messages":[{"role":"user","content":"x"}]}')
    assert req.max_tokens == 9 and req.stop == ["END"]


def test_encode_history_from_another_format() -> None:
    """Thinking with signatures, redacted thinking, tool results with images, Anthropic-style turns."""
    req = Request("claude", [
        Message("user", [TextBlock("look")]),
        Message("assistant", [
            ThinkingBlock("hmm", signature="sig=="),
            RedactedThinkingBlock("opaque"),
            ToolCallBlock("toolu_1", "shot", ""),
        ]),
        Message("user", [
            ToolResultBlock("toolu_1", [TextBlock("done"), ImageBlock("image/jpeg", "AAAA")], is_error=True),
            TextBlock("and now?"),
            UnknownBlock({"type": "search_result"}, "anthropic"),
        ]),
    ], reasoning=Reasoning(budget_tokens=4000), tools=[Tool("shot")], tool_choice=ToolChoice(ToolChoiceMode.REQUIRED))
    wire = json.loads(oc.encode_request(req, "gpt-4o"))
    assert wire["messages"] == [
        {"role": "user", "content": "look"},
        {"role": "assistant", "tool_calls": [
            {"id": "toolu_1", "function": {"name": "shot", "arguments": "{}"}, "type": "function"}],
         "reasoning_content": "hmm"},
        {"role": "tool", "content": "done", "tool_call_id": "toolu_1"},
        {"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,AAAA"}},
            {"type": "text", "text": "and now?"}]},
    ]
    assert wire["reasoning_effort"] == "medium"
    assert wire["tool_choice"] == "required"
    assert wire["tools"] == [{"type": "function", "function": {"name": "shot", "parameters": {
        "type": "object", "properties": {}}}}]


def test_foreign_extras_are_not_sent() -> None:
    req = Request("m", [Message("user", [TextBlock("x")])], extra={
        "output_config": {"effort": "high"}, "gemini": {"safetySettings": []},
        "openai_chat": {"seed": 1, "model": "sneaky", "messages": []},
    })
    assert json.loads(oc.encode_request(req, "up")) == {
        "model": "up", "messages": [{"role": "user", "content": "x"}], "seed": 1
    }


def test_encode_document_url_is_unsupported() -> None:
    req = Request("m", [Message("user", [DocumentBlock("application/pdf", url="https://x/y.pdf")])])
    with pytest.raises(GatewayError) as info:
        oc.encode_request(req, "m")
    assert info.value.kind is ErrorKind.UNSUPPORTED and info.value.param == "messages[0].content[0]"


def test_encode_tool_choice_needs_tools_and_named_tool() -> None:
    req = Request("m", [Message("user", [TextBlock("x")])], tool_choice=ToolChoice(ToolChoiceMode.NONE, None, False))
    assert "tool_choice" not in json.loads(oc.encode_request(req, "m"))
    req.tools = [Tool("f", "d", {"type": "object"}, True)]
    req.tool_choice = ToolChoice(ToolChoiceMode.TOOL, "f", True)
    wire = json.loads(oc.encode_request(req, "m"))
    assert wire["tool_choice"] == {"type": "function", "function": {"name": "f"}}
    assert wire["parallel_tool_calls"] is True


def test_reasoning_effort_none_round_trips() -> None:
    req = oc.decode_request(b'{"model":"m","reasoning_effort":"none","messages":[{"role":"user","content":"x"}]}')
    assert req.reasoning == Reasoning(enabled=False, effort="none")
    assert json.loads(oc.encode_request(req, "m"))["reasoning_effort"] == "none"
    assert "reasoning_effort" not in json.loads(oc.encode_request(Request("m", reasoning=Reasoning(False)), "m"))


def _messages(*msgs: Any) -> bytes:
    return json.dumps({"model": "m", "messages": list(msgs)}).encode()


USER = {"role": "user", "content": "hi"}
CALL = {
    "role": "assistant",
    "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
}

BAD_REQUESTS = [
    (b"{not json", ErrorKind.INVALID_REQUEST, None),
    (b"[1, 2]", ErrorKind.INVALID_REQUEST, None),
    (b'{"messages": []}', ErrorKind.INVALID_REQUEST, "model"),
    (b'{"model": "m"}', ErrorKind.INVALID_REQUEST, "messages"),
    (b'{"model": "m", "messages": []}', ErrorKind.INVALID_REQUEST, "messages"),
    (b'{"model": 3, "messages": []}', ErrorKind.INVALID_REQUEST, "model"),
    (_messages({"content": "x"}), ErrorKind.INVALID_REQUEST, "messages[0].role"),
    (_messages({"role": 1, "content": "x"}), ErrorKind.INVALID_REQUEST, "messages[0].role"),
    (_messages({"role": "robot", "content": "x"}), ErrorKind.INVALID_REQUEST, "messages[0].role"),
    (_messages({"role": "user"}), ErrorKind.INVALID_REQUEST, "messages[0].content"),
    (_messages({"role": "user", "content": 5}), ErrorKind.INVALID_REQUEST, "messages[0].content"),
    (_messages({"role": "user", "content": [{"type": "text", "text": 5}]}), ErrorKind.INVALID_REQUEST,
     "messages[0].content[0].text"),
    (_messages({"role": "user", "content": [{"text": "x"}]}), ErrorKind.INVALID_REQUEST, "messages[0].content[0].type"),
    (_messages({"role": "user", "content": ["x"]}), ErrorKind.INVALID_REQUEST, "messages[0].content[0]"),
    (_messages({"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {}}]}),
     ErrorKind.INVALID_REQUEST, "messages[0].content[1].image_url.url"),
    (_messages({"role": "user", "content": [{"type": "file", "file": {}}]}), ErrorKind.INVALID_REQUEST,
     "messages[0].content[0].file"),
    (_messages({"role": "system", "content": [{"type": "image_url", "image_url": {"url": "http://x"}}]}),
     ErrorKind.INVALID_REQUEST, "messages[0].content[0]"),
    (_messages({"role": "system"}), ErrorKind.INVALID_REQUEST, "messages[0].content"),
    (_messages(USER, {"role": "tool", "content": "r"}), ErrorKind.INVALID_REQUEST, "messages[1].tool_call_id"),
    (_messages(USER, {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f"}}]}),
     ErrorKind.INVALID_REQUEST, "messages[1].tool_calls[0].id"),
    (_messages(USER, {"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": {}}}]}),
     ErrorKind.INVALID_REQUEST, "messages[1].tool_calls[0].function.arguments"),
    (b'{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":"9"}', ErrorKind.INVALID_REQUEST,
     "max_tokens"),
    (b'{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":"hot"}', ErrorKind.INVALID_REQUEST,
     "temperature"),
    (b'{"model":"m","messages":[{"role":"user","content":"x"}],"stop":[1]}', ErrorKind.INVALID_REQUEST, "stop[0]"),
    (b'{"model":"m","messages":[{"role":"user","content":"x"}],"stream":"yes"}', ErrorKind.INVALID_REQUEST, "stream"),
    (b'{"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":1}}',
     ErrorKind.INVALID_REQUEST, "stream_options.include_usage"),
    (b'{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"always"}', ErrorKind.INVALID_REQUEST,
     "tool_choice"),
    (b'{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"function"}}',
     ErrorKind.INVALID_REQUEST, "tool_choice.function"),
    (b'{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]}',
     ErrorKind.INVALID_REQUEST, "tools[0].function"),
    (b'{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{}}]}',
     ErrorKind.INVALID_REQUEST, "tools[0].function.name"),
    (b'{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema"}}',
     ErrorKind.INVALID_REQUEST, "response_format.json_schema"),
    (b'{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"yaml"}}',
     ErrorKind.INVALID_REQUEST, "response_format.type"),
    (_messages({"role": "function", "name": "f", "content": "x"}), ErrorKind.UNSUPPORTED, "messages[0].role"),
    (_messages(USER, {"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}}), ErrorKind.UNSUPPORTED,
     "messages[1].function_call"),
    (_messages(USER, {"role": "assistant", "audio": {"id": "audio_1"}}), ErrorKind.UNSUPPORTED, "messages[1].audio"),
    (_messages(USER, {"role": "assistant", "tool_calls": [{"id": "c", "type": "custom", "function": {"name": "f"}}]}),
     ErrorKind.UNSUPPORTED, "messages[1].tool_calls[0].type"),
    (b'{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"custom","custom":{"name":"x"}}]}',
     ErrorKind.UNSUPPORTED, "tools[0].type"),
    (b'{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"allowed_tools"}}',
     ErrorKind.UNSUPPORTED, "tool_choice.type"),
]


@pytest.mark.parametrize(("body", "kind", "param"), BAD_REQUESTS)
def test_bad_requests(body: bytes, kind: ErrorKind, param: str | None) -> None:
    with pytest.raises(GatewayError) as info:
        oc.decode_request(body)
    assert info.value.kind is kind
    assert info.value.param == param
    assert info.value.message


def test_tool_messages_after_other_messages_do_not_fold() -> None:
    req = oc.decode_request(_messages(USER, CALL, {"role": "tool", "tool_call_id": "c", "content": "r"}, USER,
                                      {"role": "tool", "tool_call_id": "c", "content": "s"}))
    assert [len(m.content) for m in req.messages] == [1, 1, 1, 1, 1]
    assert req.messages[2].content[0] == ToolResultBlock("c", [TextBlock("r")], False, "f")


# --- responses --------------------------------------------------------------------------------


def test_decode_text_response() -> None:
    resp = oc.decode_response(fixture("response_text.json"))
    assert resp == Response(
        "chatcmpl-BvZt6uV7wX8yZ9aB0cD1eF2gH3iJ",
        "gpt-4o-2024-08-06",
        [TextBlock("Hello! How can I help you today? 😊")],
        StopReason.END_TURN,
        None,
        Usage(19, 10),
        1753120000,
    )


def test_decode_tool_and_reasoning_responses() -> None:
    tools = oc.decode_response(fixture("response_tools.json"))
    assert [b.arguments for b in tools.content] == ['{"location": "Paris"}', '{"location": "Tokyo"}']
    assert tools.stop_reason is StopReason.TOOL_USE and tools.usage == Usage(82, 46, 64)
    reasoning = oc.decode_response(fixture("response_reasoning.json"))
    assert reasoning.content == [ThinkingBlock("The user asks for 2+2. That is 4."), TextBlock("2 + 2 = **4**")]
    assert reasoning.usage == Usage(13, 96, 0, 0, 81)


@pytest.mark.parametrize("name", ["response_text.json", "response_tools.json", "response_reasoning.json"])
def test_response_round_trip_and_sdk(name: str) -> None:
    resp = oc.decode_response(fixture(name))
    body = oc.encode_response(resp)
    completion = ChatCompletion.model_validate_json(body)
    assert completion.id == resp.id and completion.object == "chat.completion"
    assert oc.decode_response(body) == resp
    via_sdk = sdk_client(body, "application/json").chat.completions.create(model="m", messages=[USER])
    assert via_sdk.usage.total_tokens == resp.usage.total_tokens


def test_encode_response_defaults() -> None:
    resp = Response("", "m", [ToolCallBlock("call_1", "f"), ImageBlock("image/png", "AAAA")], StopReason.END_TURN)
    wire = json.loads(oc.encode_response(resp))
    assert wire["id"].startswith("chatcmpl-") and wire["created"] > 0 and "usage" not in wire
    choice = wire["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "function": {"name": "f", "arguments": "{}"}, "type": "function"}]}


def test_decode_response_errors() -> None:
    with pytest.raises(GatewayError) as info:
        oc.decode_response(b"<html>bad gateway</html>")
    assert info.value.kind is ErrorKind.UPSTREAM_PROTOCOL
    with pytest.raises(GatewayError) as info:
        oc.decode_response(b'{"error": {"message": "quota", "type": "rate_limit_error"}}')
    assert info.value.kind is ErrorKind.RATE_LIMITED and info.value.message == "quota"


def test_finish_reasons_decode() -> None:
    body = b'{"id":"x","model":"m","choices":[{"index":0,"message":{"content":"a"},"finish_reason":"%s"}]}'
    expected = {"stop": StopReason.END_TURN, "length": StopReason.MAX_TOKENS, "tool_calls": StopReason.TOOL_USE,
                "function_call": StopReason.TOOL_USE, "content_filter": StopReason.CONTENT_FILTER,
                "eos": StopReason.END_TURN}
    for wire, stop in expected.items():
        assert oc.decode_response(body % wire.encode()).stop_reason is stop


# --- errors -----------------------------------------------------------------------------------


def test_error_bodies() -> None:
    err = GatewayError(ErrorKind.INVALID_REQUEST, "bad", param="messages[0].role")
    assert json.loads(oc.encode_error(err)) == {"error": {
        "message": "bad", "type": "invalid_request_error", "param": "messages[0].role", "code": "invalid_request"}}
    upstream = oc.decode_error(400, fixture("error_400.json"), "openai")
    assert upstream.kind is ErrorKind.INVALID_REQUEST and upstream.status == 400
    assert upstream.message.startswith("Invalid type for 'messages[0].content'")
    assert oc.encode_stream_error(err).endswith(b"\n\ndata: [DONE]\n\n")
