"""Ollama /api/chat: golden fixtures, round trips, the ollama SDK as the judge, bad input."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import httpx
import msgspec
import ollama
import pytest

from omniroute.canonical import (
    ArgumentsDelta,
    BlockDelta,
    BlockStart,
    BlockStop,
    DocumentBlock,
    Event,
    ImageBlock,
    Message,
    MessageStart,
    MessageStop,
    Ping,
    Reasoning,
    Request,
    Response,
    ResponseFormat,
    SignatureDelta,
    StopReason,
    StreamError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
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
from omniroute.formats import ollama as fmt
from omniroute.formats._framing import NDJSONDecoder
from tests.formats import streams
from tests.formats.streams import check_grammar, fold

load = streams.Fixtures("ollama")
NDJSON_FIXTURES = load.names(".ndjson")

decode_chunks = partial(streams.decode_chunks, fmt.StreamDecoder, new_framer=NDJSONDecoder)
stream_of = partial(streams.stream_of, MessageStart(id="x", model="qwen3", created=1748386497))


# ── helpers ──────────────────────────────────────────────────────────────────────────────


def encode_all(events: list[Event], include_usage: bool = True) -> bytes:
    return streams.encode_events(fmt.StreamEncoder("qwen3", include_usage), events)


def sdk_client(handler: Any) -> ollama.Client:
    return ollama.Client(host="http://gw", transport=httpx.MockTransport(handler))


# ── stream decoding: golden fixtures ─────────────────────────────────────────────────────


@pytest.mark.parametrize("name", NDJSON_FIXTURES)
def test_random_splits_give_identical_events(name: str) -> None:
    check_grammar(streams.check_every_split(load(name), decode_chunks, seed=name))


def test_utf8_split_inside_multibyte_characters() -> None:
    data = load("utf8.ndjson")
    whole = decode_chunks([data])
    for cut in streams.inside_characters(data):
        assert decode_chunks([data[:cut], data[cut:]]) == whole
    assert fold(whole)["blocks"] == [TextBlock("Grüße aus München, 日本語 🌍🚀 — ‘ok’")]


def test_text_stream() -> None:
    events = decode_chunks([load("text.ndjson")])
    start = events[0]
    assert start.model == "llama3.2" and start.created == 1748386497 and start.id.startswith("ollama-")  # type: ignore[union-attr]
    answer = fold(events)
    assert answer["blocks"] == [TextBlock("The sky is blue because of Rayleigh scattering.")]
    assert answer["stop"] is StopReason.END_TURN and answer["usage"] == Usage(input_tokens=26, output_tokens=12)


def test_thinking_stream() -> None:
    answer = fold(decode_chunks([load("thinking.ndjson")]))
    assert answer["blocks"] == [ThinkingBlock("Okay, the user wants 17×23. That is 391."), TextBlock("17 × 23 = 391.")]


def test_tool_call_stream() -> None:
    events = decode_chunks([load("tools.ndjson")])
    (call,) = fold(events)["blocks"]
    assert call.name == "get_current_weather" and json.loads(call.arguments) == {
        "format": "celsius",
        "location": "Toronto",
    }
    assert call.id.startswith("ocall_") and call.id == fold(decode_chunks([load("tools.ndjson")]))["blocks"][0].id
    assert fold(events)["stop"] is StopReason.TOOL_USE


def test_parallel_tool_calls_keep_ollama_ids() -> None:
    text, paris, tokyo = fold(decode_chunks([load("parallel_tools.ndjson")]))["blocks"]
    assert text == TextBlock("Let me check both.")
    assert (paris.id, json.loads(paris.arguments)) == ("call_k3mx9p2a", {"location": "Paris"})
    assert (tokyo.id, json.loads(tokyo.arguments)) == ("call_z81qq0ce", {"location": "Tokyo"})


def test_length_and_usage_only_final() -> None:
    assert fold(decode_chunks([load("length.ndjson")]))["stop"] is StopReason.MAX_TOKENS
    answer = fold(decode_chunks([load("usage_only_final.ndjson")]))
    assert answer["blocks"] == [TextBlock("Hello!")] and answer["usage"] == Usage(11, 3)


def test_midstream_error() -> None:
    events = decode_chunks([load("midstream_error.ndjson")])
    assert events[-1] == StreamError(
        ErrorKind.UPSTREAM_ERROR.value, "an error was encountered while running the model: unexpected EOF"
    )
    assert fold(events)["blocks"] == [TextBlock("The answer is")]


def test_truncated_stream_ends_with_protocol_error() -> None:
    data = load("text.ndjson")
    events = decode_chunks([data[: data.rstrip(b"\n").rfind(b"\n") + 1]])
    assert type(events[-2]) is BlockStop and events[-1].kind == ErrorKind.UPSTREAM_PROTOCOL.value  # type: ignore[union-attr]


def test_garbage_line_is_unknown() -> None:
    (event,) = fmt.StreamDecoder().feed(b"<html>")
    assert type(event) is Unknown and event.source == "ollama"


# ── stream encoding ──────────────────────────────────────────────────────────────────────


ROUND_TRIP_STREAMS = {
    "text": stream_of([TextBlock(""), TextDelta("Hello"), TextDelta(', "wörld" 🌍\n')], usage=Usage(7, 3)),
    "thinking": stream_of(
        [ThinkingBlock(), ThinkingDelta("Let me "), ThinkingDelta("think.")],
        [TextBlock(""), TextDelta("42")],
        usage=Usage(10, 30),
    ),
    "tools": stream_of(
        [TextBlock(""), TextDelta("Calling.")],
        [ToolCallBlock(id="call_abc", name="get_weather"), ArgumentsDelta('{"city": '), ArgumentsDelta('"Paris"}')],
        [ToolCallBlock(id="toolu_01", name="get_time"), ArgumentsDelta("{}")],
        stop=StopReason.TOOL_USE,
        usage=Usage(50, 20),
    ),
    "max_tokens": stream_of([TextBlock(""), TextDelta("cut")], stop=StopReason.MAX_TOKENS, usage=Usage(1, 1)),
}


@pytest.mark.parametrize("name", sorted(ROUND_TRIP_STREAMS))
def test_encode_decode_round_trip(name: str) -> None:
    events = ROUND_TRIP_STREAMS[name]
    back = decode_chunks([encode_all(events)])
    check_grammar(back)
    assert back[0].model == "qwen3" and back[0].created == 1748386497  # type: ignore[union-attr]
    answer, expected = fold(back), fold(events)
    assert answer["stop"] == expected["stop"] and answer["usage"] == expected["usage"]
    for got, want in zip(answer["blocks"], expected["blocks"], strict=True):
        if type(want) is ToolCallBlock:  # ids and argument JSON text survive (re-serialised compactly)
            assert (got.id, got.name, json.loads(got.arguments)) == (want.id, want.name, json.loads(want.arguments))
        else:
            assert got == want


def test_text_delta_record_bytes() -> None:
    enc = fmt.StreamEncoder("llama3.2", True)
    enc.encode(MessageStart(created=1748386497))
    data = enc.encode(BlockDelta(0, TextDelta("hi\n")))
    assert data == (
        b'{"model":"llama3.2","created_at":"2025-05-27T22:54:57.000000Z",'
        b'"message":{"role":"assistant","content":"hi\\n"},"done":false}\n'
    )
    assert json.loads(enc.encode(BlockDelta(0, ThinkingDelta("t"))))["message"] == {
        "role": "assistant",
        "content": "",
        "thinking": "t",
    }


def test_signatures_unknown_blocks_and_pings_write_nothing() -> None:
    enc = fmt.StreamEncoder("m", True)
    assert enc.encode(BlockDelta(0, SignatureDelta("sig"))) == b""
    assert enc.encode(BlockStart(0, UnknownBlock({"x": 1}, "gemini"))) == b"" and enc.encode(Ping()) == b""
    assert enc.encode(Unknown({"x": 1}, "e", "anthropic")) == b""


def test_final_record_and_usage_flag() -> None:
    last = json.loads(encode_all(ROUND_TRIP_STREAMS["max_tokens"]).splitlines()[-1])
    assert (last["done"], last["done_reason"], last["prompt_eval_count"], last["eval_count"]) == (True, "length", 1, 1)
    quiet = json.loads(encode_all(ROUND_TRIP_STREAMS["text"], include_usage=False).splitlines()[-1])
    assert quiet["done"] is True and "eval_count" not in quiet


def test_stream_error_record() -> None:
    enc = fmt.StreamEncoder("m", True)
    assert enc.encode(StreamError(ErrorKind.UPSTREAM_TIMEOUT.value, "too slow", 504)) == b'{"error":"too slow"}\n'
    assert enc.encode(MessageStop()) == b""
    assert fmt.encode_stream_error(GatewayError(ErrorKind.INTERNAL, "boom")) == b'{"error":"boom"}\n'


# ── the ollama SDK as the judge ──────────────────────────────────────────────────────────


SDK_RESPONSE = Response(
    id="r",
    model="qwen3",
    content=[ThinkingBlock("plan", signature="dropped"), TextBlock("Sunny."),
             ToolCallBlock(id="call_x", name="get_weather", arguments='{"city":"Paris"}')],
    stop_reason=StopReason.TOOL_USE,
    usage=Usage(input_tokens=100, output_tokens=40),
    created=1748386497,
)  # fmt: skip


def test_sdk_parses_response() -> None:
    body = fmt.encode_response(SDK_RESPONSE)
    r = sdk_client(lambda request: httpx.Response(200, content=body)).chat(model="qwen3", messages=[])
    assert (r.message.content, r.message.thinking, r.done, r.done_reason) == ("Sunny.", "plan", True, "stop")
    (call,) = r.message.tool_calls
    assert (call.function.name, call.function.arguments) == ("get_weather", {"city": "Paris"})
    assert (r.prompt_eval_count, r.eval_count, r.created_at) == (100, 40, "2025-05-27T22:54:57.000000Z")


def test_sdk_reads_stream_and_raises_on_error_record() -> None:
    good = encode_all(ROUND_TRIP_STREAMS["tools"])
    bad = encode_all([MessageStart(), BlockStart(0, TextBlock("")), BlockDelta(0, TextDelta("par")),
                      StreamError(ErrorKind.UPSTREAM_ERROR.value, "upstream broke")])  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=good if json.loads(request.content)["model"] == "good" else bad)

    client = sdk_client(handler)
    parts = list(client.chat(model="good", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert "".join(p.message.content or "" for p in parts) == "Calling."
    calls = [c for p in parts for c in (p.message.tool_calls or [])]
    assert [(c.function.name, c.function.arguments) for c in calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {}),
    ]
    assert parts[-1].done and parts[-1].eval_count == 20
    with pytest.raises(ollama.ResponseError) as info:
        list(client.chat(model="bad", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert info.value.error == "upstream broke"


def test_sdk_list_and_show() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/tags":
            return httpx.Response(200, content=fmt.encode_tags(["llama3.2", "openai/gpt-4o"]))
        return httpx.Response(200, content=fmt.encode_show("llama3.2"))

    client = sdk_client(handler)
    listed = client.list()
    assert [m.model for m in listed.models] == ["llama3.2", "openai/gpt-4o"]
    assert len(listed.models[0].digest) == 64 and listed.models[0].details.format == "gguf"
    shown = client.show("llama3.2")
    assert "completion" in shown.capabilities and shown.modelinfo == {}


# ── responses ────────────────────────────────────────────────────────────────────────────


def test_decode_responses() -> None:
    text = fmt.decode_response(load("response_text.json"))
    assert text.content == [ThinkingBlock("The tool said 18."), TextBlock("It is 18 °C in Paris.")]
    assert (text.stop_reason, text.usage, text.model) == (StopReason.END_TURN, Usage(301, 19), "qwen3")
    assert text.created == 1748386501
    tools = fmt.decode_response(load("response_tools.json"))
    (call,) = tools.content
    assert json.loads(call.arguments) == {"location": "Paris", "format": "celsius"} and call.id.startswith("ocall_")
    assert tools.stop_reason is StopReason.TOOL_USE


@pytest.mark.parametrize("stop", [StopReason.END_TURN, StopReason.MAX_TOKENS, StopReason.TOOL_USE])
def test_response_round_trip(stop: StopReason) -> None:
    resp = msgspec.structs.replace(SDK_RESPONSE, stop_reason=stop)
    back = fmt.decode_response(fmt.encode_response(resp))
    assert back.content == [
        ThinkingBlock("plan"),
        TextBlock("Sunny."),
        resp.content[2],
    ]  # signatures: no place in Ollama
    assert back.stop_reason is (StopReason.TOOL_USE if stop is not StopReason.MAX_TOKENS else stop)
    assert (back.usage, back.created, back.model) == (resp.usage, resp.created, "qwen3")


def test_garbage_response_is_a_protocol_error() -> None:
    with pytest.raises(GatewayError) as info:
        fmt.decode_response(b"not json")
    assert info.value.kind is ErrorKind.UPSTREAM_PROTOCOL


# ── requests ─────────────────────────────────────────────────────────────────────────────


def test_decode_full_request() -> None:
    req = fmt.decode_request(load("request_full.json"))
    assert (req.model, req.stream, req.include_usage) == ("qwen3", True, True)
    assert req.system == [TextBlock("You are terse.")]
    user, assistant, results, answer, last = req.messages
    assert user.content[1].media_type == "image/png" and user.content[1].data.startswith("iVBOR")  # type: ignore[union-attr]
    thinking, call = assistant.content
    assert thinking == ThinkingBlock("I need the weather tool.")
    assert json.loads(call.arguments) == {"location": "Paris", "format": "celsius"}  # type: ignore[union-attr]
    assert results.content == [ToolResultBlock(call.id, [TextBlock("18 degrees, cloudy")], name="get_current_weather")]  # type: ignore[union-attr]
    assert answer.content == [TextBlock("It is 18 °C and cloudy.")] and last.role == "user"
    assert req.tools[0].name == "get_current_weather" and req.tools[0].parameters["required"] == ["location", "format"]  # type: ignore[index]
    assert (req.temperature, req.top_p, req.top_k, req.max_tokens, req.stop) == (0.2, 0.9, 20, 256, ["<|end|>"])
    assert req.response_format == ResponseFormat(
        type="json_schema",
        schema={"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]},
    )
    assert req.reasoning == Reasoning(enabled=True)
    assert req.extra == {"ollama": {"keep_alive": "5m", "options": {"seed": 42, "num_ctx": 8192}}}


def test_request_decode_encode_decode() -> None:
    req = fmt.decode_request(load("request_full.json"))
    body = json.loads(fmt.encode_request(req, "qwen3:8b"))
    assert body["model"] == "qwen3:8b" and body["stream"] is True and body["keep_alive"] == "5m"
    assert body["options"] == {"seed": 42, "num_ctx": 8192, "temperature": 0.2, "top_p": 0.9, "top_k": 20,
                               "num_predict": 256, "stop": ["<|end|>"]}  # fmt: skip
    assert body["messages"][3] == {"role": "tool", "content": "18 degrees, cloudy", "tool_name": "get_current_weather"}
    assert "ocall_" not in json.dumps(body)  # synthesised ids never reach Ollama
    again = fmt.decode_request(fmt.encode_request(req, "qwen3"))
    assert again == req


def test_stream_defaults_to_true_and_false_is_written() -> None:
    assert fmt.decode_request(b'{"model": "m", "messages": []}').stream is True
    req = fmt.decode_request(b'{"model": "m", "messages": [], "stream": false}')
    assert req.stream is False and json.loads(fmt.encode_request(req, "m"))["stream"] is False


def test_tool_messages_match_calls() -> None:
    body = {"model": "m", "messages": [
        {"role": "assistant", "content": "", "tool_calls": [
            {"function": {"name": "a", "arguments": {}}},
            {"id": "call_7", "function": {"name": "b", "arguments": {"x": 1}}},
            {"function": {"name": "a", "arguments": {"y": 2}}}]},
        {"role": "tool", "content": "B", "tool_call_id": "call_7"},
        {"role": "tool", "content": "A1", "tool_name": "a"},
        {"role": "tool", "content": "A2"},
    ]}  # fmt: skip
    req = fmt.decode_request(json.dumps(body).encode())
    a1, b, a2 = req.messages[0].content
    results = req.messages[1].content
    assert [(r.tool_call_id, r.name) for r in results] == [("call_7", "b"), (a1.id, "a"), (a2.id, "a")]  # type: ignore[union-attr]
    assert b.id == "call_7" and len({a1.id, a2.id}) == 2


def test_encode_foreign_request() -> None:
    req = Request(
        model="gpt-4o",
        system=[TextBlock("Be "), TextBlock("brief.")],
        messages=[
            Message(role="user", content=[TextBlock("Look: "), ImageBlock(media_type="image/png", data="iVBORw0KGgo="),
                                          ImageBlock(url="data:image/jpeg;base64,/9j/4AAQ"),
                                          DocumentBlock(text="notes")]),
            Message(role="assistant", content=[ThinkingBlock("hm", signature="s"), TextBlock("Calling."),
                                               ToolCallBlock(id="call_A", name="lookup", arguments='{"q": "cat"}')]),
            Message(role="user", content=[ToolResultBlock("call_A", [TextBlock("a cat")]), TextBlock("thanks")]),
        ],
        tools=[Tool("lookup", "Look up", {"type": "object"}), Tool("other")],
        tool_choice=ToolChoice(mode=ToolChoiceMode.TOOL, name="lookup"),
        max_tokens=64,
        reasoning=Reasoning(effort="high"),
        response_format=ResponseFormat(type="json_object"),
        stream=True,
        extra={"gemini": {"safetySettings": []}},
    )  # fmt: skip
    body = json.loads(fmt.encode_request(req, "llama3.2"))
    assert "safetySettings" not in body
    system, brief, user, assistant, tool, thanks = body["messages"]
    assert (system, brief) == ({"role": "system", "content": "Be "}, {"role": "system", "content": "brief."})
    assert user == {"role": "user", "content": "Look: notes", "images": ["iVBORw0KGgo=", "/9j/4AAQ"]}
    assert assistant == {"role": "assistant", "content": "Calling.", "thinking": "hm",
                         "tool_calls": [{"function": {"name": "lookup", "arguments": {"q": "cat"}, "index": 0},
                                         "id": "call_A"}]}  # fmt: skip
    assert tool == {"role": "tool", "content": "a cat", "tool_name": "lookup", "tool_call_id": "call_A"}
    assert thanks == {"role": "user", "content": "thanks"}
    assert body["tools"] == [
        {"type": "function", "function": {"name": "lookup", "description": "Look up", "parameters": {"type": "object"}}}
    ]
    assert (body["format"], body["think"], body["options"]) == ("json", "high", {"num_predict": 64})


def test_tool_choice_none_drops_tools() -> None:
    req = Request(model="m", tools=[Tool("a")], tool_choice=ToolChoice(mode=ToolChoiceMode.NONE))
    assert "tools" not in json.loads(fmt.encode_request(req, "m"))


@pytest.mark.parametrize(
    "block",
    [ImageBlock(url="https://example.com/cat.png"), DocumentBlock(media_type="application/pdf", data="JVBERi0x")],
)
def test_encode_request_refuses_what_ollama_cannot_take(block: Any) -> None:
    req = Request(model="m", messages=[Message(role="user", content=[TextBlock("see"), block])])
    with pytest.raises(GatewayError) as info:
        fmt.encode_request(req, "m")
    assert info.value.kind is ErrorKind.UNSUPPORTED and info.value.param == "messages.0.content.1"
    assert "Ollama" in info.value.message


BAD_REQUESTS = [
    (b"{", None),
    (b"[]", None),
    (b"{}", "model"),
    (b'{"model": ""}', "model"),
    (b'{"model": 3}', "model"),
    (b'{"model": "m", "messages": {}}', "messages"),
    (b'{"model": "m", "messages": [{"content": "x"}]}', "messages.0.role"),
    (b'{"model": "m", "messages": [{"role": "robot", "content": "x"}]}', "messages.0.role"),
    (b'{"model": "m", "messages": [{"role": "user", "content": 5}]}', "messages.0.content"),
    (b'{"model": "m", "messages": [{"role": "user", "images": [1]}]}', "messages.0.images.0"),
    (b'{"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"function": {}}]}]}',
     "messages.0.tool_calls.0.function.name"),
    (b'{"model": "m", "tools": [{"type": "function"}]}', "tools.0.function"),
    (b'{"model": "m", "options": {"temperature": "hot"}}', "options.temperature"),
    (b'{"model": "m", "options": {"num_predict": 1.5}}', "options.num_predict"),
    (b'{"model": "m", "options": {"stop": [1]}}', "options.stop"),
    (b'{"model": "m", "options": []}', "options"),
    (b'{"model": "m", "format": "xml"}', "format"),
    (b'{"model": "m", "think": 2}', "think"),
    (b'{"model": "m", "stream": "yes"}', "stream"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "param"), BAD_REQUESTS)
def test_bad_requests_name_the_field(body: bytes, param: str | None) -> None:
    with pytest.raises(GatewayError) as info:
        fmt.decode_request(body)
    assert info.value.kind is ErrorKind.INVALID_REQUEST and info.value.status == 400
    assert info.value.param == param and info.value.message


# ── errors ───────────────────────────────────────────────────────────────────────────────


def test_errors() -> None:
    assert (
        fmt.encode_error(GatewayError(ErrorKind.NOT_FOUND, 'model "x" not found'))
        == b'{"error":"model \\"x\\" not found"}'
    )
    err = fmt.decode_error(404, load("error_404.json"), "ollama")
    assert (err.kind, err.status, err.provider) == (ErrorKind.NOT_FOUND, 404, "ollama")
    assert err.message == 'model "llama9" not found, try pulling it first'
    assert fmt.decode_error(503, b"server busy").message == "server busy"
    assert fmt.decode_error(500, b'{"error": {"weird": 1}}').message == "upstream answered HTTP 500"
