"""Gemini generateContent: golden fixtures, round trips, the google-genai SDK as the judge, bad input."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import httpx
import msgspec
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

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
from omniroute.formats import gemini as fmt
from omniroute.formats import gemini_schema
from omniroute.formats._framing import SSEFrame
from tests.formats import streams

load = streams.Fixtures("gemini")
SSE_FIXTURES = load.names(".sse")

# Gemini carries a functionCall's thoughtSignature as a SignatureDelta on the tool call
DELTAS = {**streams.DELTAS, ToolCallBlock: (ArgumentsDelta, SignatureDelta)}
decode_chunks = partial(streams.decode_chunks, fmt.StreamDecoder)
check_grammar = partial(streams.check_grammar, deltas=DELTAS)
fold = partial(streams.fold, deltas=DELTAS)
stream_of = partial(streams.stream_of, MessageStart(id="resp-1", model="gemini-test"))


# ── helpers ──────────────────────────────────────────────────────────────────────────────


def encode_all(events: list[Event], framing: str = "sse", include_usage: bool = True) -> bytes:
    return streams.encode_events(fmt.StreamEncoder("gemini-test", include_usage, framing=framing), events)


def frames_of(data: bytes, framing: str) -> list[bytes]:
    """The chunk JSON texts of an encoded stream, in either framing."""
    if framing == "sse":
        return [f.data for f in streams.sse_frames(data)]
    return [bytes(item) for item in msgspec.json.decode(data, type=list[msgspec.Raw])]


def reencode(events: list[Event], framing: str = "sse") -> list[Event]:
    """canonical → our Gemini stream bytes → our decoder → canonical."""
    dec = fmt.StreamDecoder()
    out: list[Event] = []
    for data in frames_of(encode_all(events, framing), framing):
        out += dec.feed(SSEFrame(None, data))
    return out + dec.close()


def sdk_client(handler: Any) -> genai.Client:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return genai.Client(api_key="test", http_options=genai_types.HttpOptions(base_url="http://gw", httpx_client=http))


# ── stream decoding: golden fixtures ─────────────────────────────────────────────────────


@pytest.mark.parametrize("name", SSE_FIXTURES)
def test_random_splits_give_identical_events(name: str) -> None:
    check_grammar(streams.check_every_split(load(name), decode_chunks, seed=name))


def test_utf8_split_inside_multibyte_characters() -> None:
    data = load("utf8.sse")
    multibyte = streams.inside_characters(data)
    whole = decode_chunks([data])
    for cut in multibyte:
        assert decode_chunks([data[:cut], data[cut:]]) == whole
    assert fold(whole)["blocks"] == [TextBlock("Grüße aus München! 日本語のテキスト、emoji 🌍🚀 and ‘quotes’ — done.")]


def test_text_stream() -> None:
    events = decode_chunks([load("text.sse")])
    assert events[0] == MessageStart(id="bGNeaL2BHJ7mz7IPl9adqQ4", model="gemini-2.5-flash")
    answer = fold(events)
    text = "The sky appears blue because of Rayleigh scattering: shorter wavelengths of sunlight are scattered"
    assert answer["blocks"] == [TextBlock(text + " more by the gases in the atmosphere.\n")]
    assert answer["stop"] is StopReason.END_TURN
    assert answer["usage"] == Usage(input_tokens=9, output_tokens=24 + 28, reasoning_tokens=28)


def test_thinking_then_text_with_signature() -> None:
    answer = fold(decode_chunks([load("thinking_signature.sse")]))
    thinking, text, signature = answer["blocks"]
    assert thinking.thinking.startswith("**Calculating the product**") and thinking.signature is None
    assert text == TextBlock("17 × 23 = **391**. Let me know if you need the steps.")
    assert signature == ThinkingBlock(
        "",
        signature="pU3KGCUwux1tEyze1iN7LtkeP3IfyxlxF0SU1kk8nVw0YL4xIB5p/tqg7ui5mX9cfCmZ/a/lkyU81lSvTfrXFCegrrP+6SMvivIhH57kkcWxC+y1Vjv8Hm+TQn7LyP4p",
    )
    assert answer["usage"].reasoning_tokens == 148 and answer["usage"].output_tokens == 163


def test_signature_on_empty_final_part() -> None:
    answer = fold(decode_chunks([load("text_signature_final.sse")]))
    assert answer["blocks"] == [
        TextBlock("Paris is the capital of France."),
        ThinkingBlock("", signature="EqQDCqEDAdHtim9Xw1Zp5t0cFx2dYk+7w3YwGm7b8oV2g6U7o0w5nN3T1rQ2aXy8="),
    ]


def test_tool_call_stream() -> None:
    events = decode_chunks([load("tools.sse")])
    # the call's signature rides on its BlockStart (it was a trailing SignatureDelta, which
    # encoders that carry it in the call id could no longer place)
    assert [type(e) for e in events[1:4]] == [BlockStart, BlockDelta, BlockStop]
    assert events[1].block.signature_source == "gemini"
    (call,) = fold(events)["blocks"]
    assert call.name == "get_current_weather"
    assert json.loads(call.arguments) == {"location": "Boston, MA", "unit": "celsius"}
    assert call.signature == "CiwB0e2Kb2J0s2Xc4kQ8xmXrXbY8h2n0w6cR5m4sT7kP9vL3qN1dF0aE="
    assert call.id.startswith("gcall_")
    assert fold(events)["stop"] is StopReason.TOOL_USE


def test_parallel_tool_calls_get_distinct_stable_ids() -> None:
    answer = fold(decode_chunks([load("parallel_tools.sse")]))
    text, paris, tokyo, clock = answer["blocks"]
    assert text == TextBlock("Checking both cities.")
    assert [json.loads(b.arguments) for b in (paris, tokyo, clock)] == [
        {"location": "Paris"},
        {"location": "Tokyo"},
        {},
    ]
    assert len({paris.id, tokyo.id, clock.id}) == 3
    assert fold(decode_chunks([load("parallel_tools.sse")]))["blocks"][1].id == paris.id  # stable
    assert answer["stop"] is StopReason.TOOL_USE


def test_usage_only_final_chunk() -> None:
    answer = fold(decode_chunks([load("usage_only_final.sse")]))
    assert answer["blocks"] == [TextBlock("Hello there!")]
    assert answer["usage"] == Usage(input_tokens=5, output_tokens=3)


@pytest.mark.parametrize(
    ("name", "stop"), [("max_tokens.sse", StopReason.MAX_TOKENS), ("safety.sse", StopReason.CONTENT_FILTER)]
)
def test_finish_reasons(name: str, stop: StopReason) -> None:
    assert fold(decode_chunks([load(name)]))["stop"] is stop


def test_midstream_error() -> None:
    events = decode_chunks([load("midstream_error.sse")])
    assert events[-1] == StreamError(
        ErrorKind.UPSTREAM_UNREACHABLE.value, "The model is overloaded. Please try again later.", 503
    )
    assert fold(events)["blocks"] == [TextBlock("Here is the first part of a long answer")]


def test_truncated_stream_ends_with_protocol_error() -> None:
    data = load("text.sse")
    cut = data.rfind(b"data: ")
    events = decode_chunks([data[:cut]])
    assert type(events[-2]) is BlockStop
    assert events[-1].kind == ErrorKind.UPSTREAM_PROTOCOL.value  # type: ignore[union-attr]


def test_garbage_frame_is_unknown_not_an_exception() -> None:
    dec = fmt.StreamDecoder()
    (event,) = dec.feed(SSEFrame(None, b"not json"))
    assert type(event) is Unknown and event.source == "gemini"


def test_unknown_part_is_an_unknown_block() -> None:
    chunk = (
        b'{"candidates":[{"content":{"parts":[{"executableCode":{"language":"PYTHON","code":"1+1"}}],"role":"model"}}]}'
    )
    events = fmt.StreamDecoder().feed(SSEFrame(None, chunk))
    assert events[1] == BlockStart(0, UnknownBlock({"executableCode": {"language": "PYTHON", "code": "1+1"}}, "gemini"))


# ── stream encoding ──────────────────────────────────────────────────────────────────────


ROUND_TRIP_STREAMS = {
    "text": stream_of([TextBlock(""), TextDelta("Hello"), TextDelta(", wörld 🌍")], usage=Usage(7, 3)),
    "thinking": stream_of(
        [ThinkingBlock(), ThinkingDelta("Let me "), ThinkingDelta("think."), SignatureDelta("c2lnbmF0dXJl")],
        [TextBlock(""), TextDelta("42")],
        usage=Usage(input_tokens=10, output_tokens=30, reasoning_tokens=20, cached_tokens=4),
    ),
    "tools": stream_of(
        [TextBlock(""), TextDelta("Calling.")],
        [ToolCallBlock(id="call_abc", name="get_weather"), ArgumentsDelta('{"city": '), ArgumentsDelta('"Paris"}')],
        [ToolCallBlock(id="toolu_01", name="get_time", signature="dG9vbHNpZw==", signature_source="gemini"),
         ArgumentsDelta("{}")],
        stop=StopReason.TOOL_USE,
        usage=Usage(50, 20),
    ),
    "max_tokens": stream_of([TextBlock(""), TextDelta("cut")], stop=StopReason.MAX_TOKENS, usage=Usage(1, 1)),
    "filtered": stream_of(stop=StopReason.CONTENT_FILTER, usage=Usage(1, 0)),
}


@pytest.mark.parametrize("framing", ["sse", "json_array"])
@pytest.mark.parametrize("name", sorted(ROUND_TRIP_STREAMS))
def test_encode_decode_round_trip(name: str, framing: str) -> None:
    events = ROUND_TRIP_STREAMS[name]
    back = reencode(events, framing)
    check_grammar(back)
    assert back[0] == MessageStart(id="resp-1", model="gemini-test")
    assert fold(back) == fold(events)


def test_fixture_decode_encode_decode_is_stable() -> None:
    for name in SSE_FIXTURES:
        events = decode_chunks([load(name)])
        if type(events[-1]) is StreamError:
            continue
        again = reencode(events)
        # synthesised ids are dropped on the wire and made up again on decode: compare the rest
        strip = [msgspec.structs.replace(b, id="") if type(b) is ToolCallBlock else b for b in fold(again)["blocks"]]
        expected = [
            msgspec.structs.replace(b, id="") if type(b) is ToolCallBlock else b for b in fold(events)["blocks"]
        ]
        assert [json.loads(b.arguments) if type(b) is ToolCallBlock else b for b in strip] == [
            json.loads(b.arguments) if type(b) is ToolCallBlock else b for b in expected
        ], name
        assert fold(again)["stop"] == fold(events)["stop"]


def test_text_delta_bytes_are_sse_chunks_google_genai_reads() -> None:
    enc = fmt.StreamEncoder("gemini-test", True)
    enc.encode(MessageStart(id="r"))
    data = enc.encode(BlockDelta(0, TextDelta('a "quoted" line\n')))
    assert data.startswith(b"data: {") and data.endswith(b"\n\n")
    chunk = json.loads(data[6:])
    assert chunk["candidates"][0]["content"] == {"parts": [{"text": 'a "quoted" line\n'}], "role": "model"}
    assert chunk["responseId"] == "r" and chunk["modelVersion"] == "gemini-test"


def test_json_array_framing_is_one_json_array() -> None:
    data = encode_all(ROUND_TRIP_STREAMS["tools"], "json_array")
    items = json.loads(data)
    assert items[-1]["candidates"][0]["finishReason"] == "STOP"
    assert items[-1]["usageMetadata"] == {"promptTokenCount": 50, "candidatesTokenCount": 20, "totalTokenCount": 70}
    assert (
        encode_all([MessageStart(), MessageStop()], "json_array")
        == b'[{"candidates":[{"content":{"parts":[{"text":""}],"role":"model"},"finishReason":"STOP","index":0}],'
        b'"modelVersion":"gemini-test","responseId":""}]'
    )


def test_tool_call_is_buffered_until_block_stop() -> None:
    enc = fmt.StreamEncoder("m", True)
    assert enc.encode(BlockStart(0, ToolCallBlock(id="call_1", name="f"))) == b""
    assert enc.encode(BlockDelta(0, ArgumentsDelta('{"a":'))) == b""
    assert enc.encode(BlockDelta(0, ArgumentsDelta("1}"))) == b""
    part = json.loads(enc.encode(BlockStop(0))[6:])["candidates"][0]["content"]["parts"][0]
    assert part == {"functionCall": {"name": "f", "args": {"a": 1}, "id": "call_1"}}


def test_synthesised_ids_and_foreign_signatures_stay_off_the_wire() -> None:
    events = stream_of(
        [ToolCallBlock(id="gcall_0123456789abcdef", name="f", signature="not base64 !"), ArgumentsDelta("{}")],
        [ThinkingBlock(), ThinkingDelta("t"), SignatureDelta("%%%")],
        stop=StopReason.TOOL_USE,
    )
    text = encode_all(events).decode()
    assert "gcall_" not in text and "not base64" not in text and "%%%" not in text


def test_include_usage_false_leaves_usage_out() -> None:
    assert b"usageMetadata" not in encode_all(ROUND_TRIP_STREAMS["text"], include_usage=False)


def test_stream_error_ends_both_framings() -> None:
    err = StreamError(ErrorKind.RATE_LIMITED.value, "slow down", 429)
    sse = encode_all([MessageStart(), BlockStart(0, TextBlock("")), BlockDelta(0, TextDelta("x")), err])
    assert sse.endswith(b'data: {"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}\n\n')
    array = json.loads(encode_all([MessageStart(), err], "json_array"))
    assert array == [{"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}]
    enc = fmt.StreamEncoder("m", True)
    enc.encode(err)
    assert enc.encode(MessageStop()) == b""  # nothing after the end


def test_pings_and_unknown_events_write_nothing() -> None:
    enc = fmt.StreamEncoder("m", True)
    assert enc.encode(Ping()) == b"" and enc.encode(Unknown({"x": 1}, "weird", "anthropic")) == b""
    assert enc.encode(BlockStart(0, RedactedThinkingBlock("opaque"))) == b""


def test_gemini_unknown_part_passes_through_the_stream() -> None:
    raw = {"executableCode": {"language": "PYTHON", "code": "print(1)"}}
    data = encode_all(stream_of([UnknownBlock(raw, "gemini")]))
    assert json.loads(frames_of(data, "sse")[0])["candidates"][0]["content"]["parts"] == [raw]


# ── the google-genai SDK as the judge ────────────────────────────────────────────────────


SDK_RESPONSE = Response(
    id="resp-9",
    model="gemini-2.5-pro",
    content=[
        ThinkingBlock("plan", signature="c2lnMQ==", signature_source="gemini"),
        TextBlock("Sunny."),
        ToolCallBlock(id="call_x", name="get_weather", arguments='{"city":"Paris"}', signature="c2lnMg==",
                      signature_source="gemini"),
    ],
    stop_reason=StopReason.TOOL_USE,
    usage=Usage(input_tokens=100, output_tokens=40, cached_tokens=30, reasoning_tokens=25),
)


def test_sdk_parses_response() -> None:
    body = fmt.encode_response(SDK_RESPONSE)
    client = sdk_client(lambda request: httpx.Response(200, content=body))
    r = client.models.generate_content(model="gemini-2.5-pro", contents="hi")
    assert r.text == "Sunny."
    (call,) = r.function_calls
    assert (call.name, call.args, call.id) == ("get_weather", {"city": "Paris"}, "call_x")
    assert r.response_id == "resp-9" and r.model_version == "gemini-2.5-pro"
    assert r.candidates[0].finish_reason == genai_types.FinishReason.STOP
    meta = r.usage_metadata
    assert (meta.prompt_token_count, meta.candidates_token_count, meta.thoughts_token_count) == (100, 15, 25)
    assert (meta.cached_content_token_count, meta.total_token_count) == (30, 140)
    assert r.candidates[0].content.parts[0].thought is True
    assert r.candidates[0].content.parts[0].thought_signature == b"sig1"
    assert fmt.decode_response(body).content == SDK_RESPONSE.content


def test_sdk_reads_stream_and_raises_on_stream_error() -> None:
    good = encode_all(ROUND_TRIP_STREAMS["tools"])
    bad = encode_all([MessageStart(), BlockStart(0, TextBlock("")), BlockDelta(0, TextDelta("par")),
                      StreamError(ErrorKind.UPSTREAM_TIMEOUT.value, "too slow", 504)])  # fmt: skip
    client = sdk_client(
        lambda request: httpx.Response(200, content=good if b"good" in request.url.path.encode() else bad)
    )
    chunks = list(client.models.generate_content_stream(model="good", contents="hi"))
    assert "".join(c.text or "" for c in chunks if c.candidates[0].content.parts[0].text) == "Calling."
    calls = [fc for c in chunks for fc in (c.function_calls or [])]
    assert [(fc.name, fc.args, fc.id) for fc in calls] == [
        ("get_weather", {"city": "Paris"}, "call_abc"),
        ("get_time", {}, "toolu_01"),
    ]
    assert chunks[-1].usage_metadata.total_token_count == 70
    with pytest.raises(genai_errors.APIError) as info:
        list(client.models.generate_content_stream(model="bad", contents="hi"))
    assert info.value.code == 504 and info.value.status == "DEADLINE_EXCEEDED"


def test_sdk_lists_models() -> None:
    body = fmt.encode_model_list(["gemini-2.5-flash", "models/gemini-2.5-pro"])
    client = sdk_client(lambda request: httpx.Response(200, content=body))
    models = list(client.models.list())
    assert [m.name for m in models] == ["models/gemini-2.5-flash", "models/gemini-2.5-pro"]
    assert "generateContent" in models[0].supported_actions


# ── responses ────────────────────────────────────────────────────────────────────────────


def test_decode_response_with_thoughts_parallel_calls_and_cache() -> None:
    resp = fmt.decode_response(load("response_tools.json"))
    thinking, paris, tokyo = resp.content
    assert thinking == ThinkingBlock("**Planning the lookup**\n\nThe user wants weather for two cities.")
    assert json.loads(paris.arguments) == {"location": "Paris", "unit": "celsius"} and paris.signature
    assert tokyo.signature is None and paris.id != tokyo.id
    assert resp.stop_reason is StopReason.TOOL_USE
    assert resp.usage == Usage(input_tokens=120, output_tokens=110, cached_tokens=64, reasoning_tokens=64)
    assert (resp.id, resp.model) == ("Zk1eaNDQHp6Nz7IP5bK-uAc", "gemini-2.5-pro")


def test_decode_response_prompt_blocked() -> None:
    resp = fmt.decode_response(load("response_prompt_blocked.json"))
    assert resp.content == [] and resp.stop_reason is StopReason.CONTENT_FILTER


@pytest.mark.parametrize(
    "stop", [StopReason.END_TURN, StopReason.MAX_TOKENS, StopReason.CONTENT_FILTER, StopReason.ERROR]
)
def test_response_round_trip(stop: StopReason) -> None:
    signed = ThinkingBlock("", signature="c2ln", signature_source="gemini")
    resp = Response(id="r", model="m", content=[TextBlock("hi"), signed], stop_reason=stop,
                    usage=Usage(3, 4, cached_tokens=1, reasoning_tokens=2))  # fmt: skip
    body = fmt.encode_response(resp)
    parts = json.loads(body)["candidates"][0]["content"]["parts"]
    assert parts == [{"text": "hi", "thoughtSignature": "c2ln"}]  # the signature goes back onto its text part
    assert fmt.decode_response(body) == resp


def test_response_tool_use_round_trip_keeps_real_ids_and_raw_args() -> None:
    resp = msgspec.structs.replace(SDK_RESPONSE)
    back = fmt.decode_response(fmt.encode_response(resp))
    assert back.content == resp.content and back.stop_reason is StopReason.TOOL_USE and back.usage == resp.usage


def test_garbage_response_is_a_protocol_error() -> None:
    with pytest.raises(GatewayError) as info:
        fmt.decode_response(b"<html>")
    assert info.value.kind is ErrorKind.UPSTREAM_PROTOCOL


# ── requests ─────────────────────────────────────────────────────────────────────────────


def test_decode_full_request() -> None:
    req = fmt.decode_request(load("request_full.json"))
    assert req.model == "" and req.stream is False and req.include_usage is True
    user, model, result, answer, _ = req.messages
    assert [type(b) for b in user.content] == [TextBlock, ImageBlock, DocumentBlock]
    assert user.content[2] == DocumentBlock(
        media_type="application/pdf", url="https://generativelanguage.googleapis.com/v1beta/files/abc123"
    )
    thinking, call = model.content
    assert (
        thinking.signature and call.signature and json.loads(call.arguments) == {"location": "Paris", "unit": "celsius"}
    )
    (tool_result,) = result.content
    assert tool_result.tool_call_id == call.id and tool_result.name == "get_current_weather"
    assert json.loads(tool_result.content[0].text) == {"temperature": 18, "condition": "cloudy"}
    assert answer.content[1] == UnknownBlock(
        {"executableCode": {"language": "PYTHON", "code": "print(18 * 9 / 5 + 32)"}}, "gemini"
    )
    assert [b.text for b in req.system] == ["You are a concise assistant.", "Answer in English."]
    weather, clock = req.tools
    assert weather.parameters == {
        "type": "object",
        "properties": {"location": {"type": "string", "description": "The city"},
                       "unit": {"type": ["string", "null"], "enum": ["celsius", "fahrenheit"]}},
        "required": ["location"],
    }  # fmt: skip
    assert clock.parameters == {
        "type": "object",
        "properties": {"tz": {"type": "string"}},
        "additionalProperties": False,
    }
    assert req.tool_choice == ToolChoice(mode=ToolChoiceMode.AUTO)
    assert (req.max_tokens, req.temperature, req.top_p, req.top_k, req.stop) == (2048, 0.7, 0.95, 40, ["END"])
    assert req.response_format == ResponseFormat(
        type="json_schema", schema={"type": "object", "properties": {"answer": {"type": "string"}}}
    )
    assert req.reasoning == Reasoning(enabled=True, budget_tokens=1024, include_thoughts=True)
    assert req.extra == {"gemini": {
        "safetySettings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "threshold": "BLOCK_ONLY_HIGH"}],
        "tools": [{"googleSearch": {}}, {"codeExecution": {}}],
        "generationConfig": {"candidateCount": 1, "seed": 42},
    }}  # fmt: skip


def test_decode_snake_case_request() -> None:
    req = fmt.decode_request(load("request_snake.json"))
    assert req.system == [TextBlock("You are a cat. Your name is Neko.")]
    assert req.messages[0].content[1] == ImageBlock(
        media_type="image/jpeg", data="/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHR=="
    )  # padded to standard base64
    assert (req.max_tokens, req.top_p, req.stop) == (800, 0.8, ["Title"])
    assert req.reasoning == Reasoning(enabled=True, effort="low", include_thoughts=False)
    assert req.tools == [Tool("meow", parameters={"type": "object", "properties": {"times": {"type": "integer"}}})]
    assert req.tool_choice == ToolChoice(mode=ToolChoiceMode.TOOL, name="meow")
    assert req.extra == {}


@pytest.mark.parametrize("name", ["request_full.json", "request_snake.json"])
def test_request_decode_encode_decode(name: str) -> None:
    req = fmt.decode_request(load(name))
    body = fmt.encode_request(req, "gemini-2.5-pro")
    assert b"gemini-2.5-pro" not in body  # the model lives in the URL
    assert b"gcall_" not in body  # synthesised ids never reach Gemini
    again = fmt.decode_request(body)
    for tool in req.tools:  # lossy by design: Gemini's Schema has no additionalProperties
        tool.parameters.pop("additionalProperties", None)  # type: ignore[union-attr]
    assert again == req


def test_encode_request_body_shape() -> None:
    body = json.loads(fmt.encode_request(fmt.decode_request(load("request_full.json")), "x"))
    model_turn = body["contents"][1]
    assert model_turn["role"] == "model"
    assert model_turn["parts"][1]["functionCall"] == {
        "name": "get_current_weather",
        "args": {"location": "Paris", "unit": "celsius"},
    }
    assert model_turn["parts"][1]["thoughtSignature"]
    assert body["contents"][2]["parts"][0]["functionResponse"] == {
        "name": "get_current_weather",
        "response": {"temperature": 18, "condition": "cloudy"},
    }
    weather = body["tools"][0]["functionDeclarations"][0]["parameters"]
    assert weather["type"] == "OBJECT" and weather["properties"]["unit"] == {
        "type": "STRING",
        "nullable": True,
        "enum": ["celsius", "fahrenheit"],
    }
    assert body["tools"][1:] == [{"googleSearch": {}}, {"codeExecution": {}}]
    assert body["safetySettings"] and body["generationConfig"]["seed"] == 42
    assert body["generationConfig"]["thinkingConfig"] == {"includeThoughts": True, "thinkingBudget": 1024}


OPENAI_SHAPED = Request(
    model="gpt-4o",
    system=[TextBlock("Be brief.")],
    messages=[
        Message(role="user", content=[TextBlock("What is this?"), ImageBlock(url="https://example.com/cat.png"),
                                      ImageBlock(url="data:image/webp;base64,UklGRiQAAABXRUJQ"),
                                      DocumentBlock(text="notes")]),
        Message(role="assistant", content=[ToolCallBlock(id="call_A", name="lookup", arguments='{"q": "cat"}'),
                                           ToolCallBlock(id="call_B", name="lookup", arguments="")]),
        Message(role="user", content=[ToolResultBlock("call_A", [TextBlock("a cat")]),
                                      ToolResultBlock("call_B", [TextBlock('{"error": "boom"}')], is_error=True),
                                      TextBlock("thanks")]),
    ],
    tools=[Tool("lookup", "Look up", {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                                      "properties": {"q": {"type": "string", "format": "uri"}},
                                      "required": ["q"], "additionalProperties": False}, strict=True),
           Tool("noop", "No arguments", {"type": "object", "properties": {}})],
    tool_choice=ToolChoice(mode=ToolChoiceMode.REQUIRED),
    max_tokens=100,
    stop=["\n\n"],
    reasoning=Reasoning(effort="high"),
    response_format=ResponseFormat(type="json_object"),
    extra={"openai_chat": {"logprobs": True}},
)  # fmt: skip


def test_encode_foreign_request() -> None:
    body = json.loads(fmt.encode_request(OPENAI_SHAPED, "gemini-3-pro"))
    assert "logprobs" not in json.dumps(body)  # other formats' extras stay out
    user, model, results = body["contents"]
    assert user["parts"][1] == {"fileData": {"fileUri": "https://example.com/cat.png", "mimeType": "image/png"}}
    assert user["parts"][2] == {"inlineData": {"mimeType": "image/webp", "data": "UklGRiQAAABXRUJQ"}}
    assert user["parts"][3] == {"text": "notes"}
    assert model["parts"] == [{"functionCall": {"name": "lookup", "args": {"q": "cat"}, "id": "call_A"}},
                              {"functionCall": {"name": "lookup", "args": {}, "id": "call_B"}}]  # fmt: skip
    assert results["parts"] == [
        {"functionResponse": {"name": "lookup", "response": {"result": "a cat"}, "id": "call_A"}},
        {"functionResponse": {"name": "lookup", "response": {"error": "boom"}, "id": "call_B"}},
        {"text": "thanks"},
    ]
    lookup, noop = body["tools"][0]["functionDeclarations"]
    assert lookup["parameters"] == {"type": "OBJECT", "properties": {"q": {"type": "STRING"}}, "required": ["q"]}
    assert noop == {"name": "noop", "description": "No arguments"}  # Gemini rejects empty OBJECT properties
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    gen = body["generationConfig"]
    assert gen == {"maxOutputTokens": 100, "stopSequences": ["\n\n"], "responseMimeType": "application/json",
                   "thinkingConfig": {"includeThoughts": True, "thinkingLevel": "HIGH"}}  # fmt: skip
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}


def test_foreign_request_round_trips_through_gemini() -> None:
    again = fmt.decode_request(fmt.encode_request(OPENAI_SHAPED, "m"))
    calls = again.messages[1].content
    results = again.messages[2].content
    assert [(c.id, c.name) for c in calls] == [("call_A", "lookup"), ("call_B", "lookup")]
    assert [(r.tool_call_id, r.name, r.is_error) for r in results[:2]] == [
        ("call_A", "lookup", False),
        ("call_B", "lookup", True),
    ]
    assert again.tool_choice == ToolChoice(mode=ToolChoiceMode.REQUIRED)
    assert again.reasoning == Reasoning(effort="high", include_thoughts=True)


def test_tool_results_without_ids_match_calls_by_name_in_order() -> None:
    body = {"contents": [
        {"role": "user", "parts": [{"text": "two cities"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "w", "args": {"c": "A"}}},
                                    {"functionCall": {"name": "w", "args": {"c": "B"}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "w", "response": {"t": 1}}},
                                   {"functionResponse": {"name": "w", "response": {"t": 2}}}]},
    ]}  # fmt: skip
    req = fmt.decode_request(json.dumps(body).encode())
    a, b = req.messages[1].content
    ra, rb = req.messages[2].content
    assert a.id != b.id and (ra.tool_call_id, rb.tool_call_id) == (a.id, b.id)


def test_signature_on_text_part_round_trips_in_requests() -> None:
    body = (
        b'{"contents":[{"role":"model","parts":[{"text":"Hi","thoughtSignature":"c2ln"}]},{"parts":[{"text":"ok"}]}]}'
    )
    req = fmt.decode_request(body)
    assert req.messages[0].content == [TextBlock("Hi"), ThinkingBlock("", signature="c2ln", signature_source="gemini")]
    assert json.loads(fmt.encode_request(req, "m"))["contents"][0]["parts"] == [
        {"text": "Hi", "thoughtSignature": "c2ln"}
    ]


def test_tool_config_that_says_more_is_kept() -> None:
    body = b'{"contents":[{"parts":[{"text":"x"}]}],"toolConfig":{"functionCallingConfig":' + (
        b'{"mode":"ANY","allowedFunctionNames":["a","b"]}}}'
    )
    req = fmt.decode_request(body)
    assert req.tool_choice == ToolChoice(mode=ToolChoiceMode.REQUIRED)
    assert json.loads(fmt.encode_request(req, "m"))["toolConfig"] == json.loads(body)["toolConfig"]


def test_thinking_budget_zero_and_dynamic() -> None:
    base = b'{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":%d}}}'
    assert fmt.decode_request(base % 0).reasoning == Reasoning(enabled=False, include_thoughts=False)
    assert fmt.decode_request(base % -1).reasoning == Reasoning(enabled=True, include_thoughts=False)
    disabled = fmt.encode_request(fmt.decode_request(base % 0), "m")
    assert json.loads(disabled)["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 0}


def test_redacted_thinking_and_foreign_unknown_blocks_are_dropped() -> None:
    req = Request(
        model="m",
        messages=[
            Message(
                role="assistant",
                content=[RedactedThinkingBlock("x"), UnknownBlock({"a": 1}, "anthropic"), TextBlock("t")],
            )
        ],
    )
    assert json.loads(fmt.encode_request(req, "m"))["contents"] == [{"parts": [{"text": "t"}], "role": "model"}]


OK = b'{"contents": [{"parts": [{"text": "x"}]}], '  # a valid start, then the field under test
PARTS = b'{"contents": [{"parts": ['
BAD_REQUESTS = [
    (b"{", None),
    (b"[1]", None),
    (b"{}", "contents"),
    (b'{"contents": []}', "contents"),
    (b'{"contents": "hi"}', "contents"),
    (b'{"contents": [1]}', "contents.0"),
    (b'{"contents": [{"role": "system", "parts": []}]}', "contents.0.role"),
    (b'{"contents": [{"parts": {"text": "x"}}]}', "contents.0.parts"),
    (PARTS + b'"x"]}]}', "contents.0.parts.0"),
    (PARTS + b'{"text": 5}]}]}', "contents.0.parts.0.text"),
    (PARTS + b'{"text": "x", "thoughtSignature": 1}]}]}', "contents.0.parts.0.thoughtSignature"),
    (PARTS + b'{"functionCall": {"args": {}}}]}]}', "contents.0.parts.0.functionCall.name"),
    (PARTS + b'{"functionCall": {"name": "f", "args": "{}"}}]}]}', "contents.0.parts.0.functionCall.args"),
    (PARTS + b'{"functionResponse": {"name": "f", "response": 3}}]}]}', "contents.0.parts.0.functionResponse.response"),
    (PARTS + b'{"inlineData": {"mimeType": "image/png"}}]}]}', "contents.0.parts.0.inlineData"),
    (PARTS + b'{"fileData": {"mimeType": "image/png"}}]}]}', "contents.0.parts.0.fileData.fileUri"),
    (OK + b'"systemInstruction": 3}', "systemInstruction"),
    (OK + b'"generationConfig": {"temperature": "hot"}}', "generationConfig.temperature"),
    (OK + b'"generationConfig": {"maxOutputTokens": true}}', "generationConfig.maxOutputTokens"),
    (OK + b'"generationConfig": {"stopSequences": [1]}}', "generationConfig.stopSequences"),
    (OK + b'"generationConfig": {"thinkingConfig": {"thinkingBudget": "a"}}}',
     "generationConfig.thinkingConfig.thinkingBudget"),
    (OK + b'"tools": [1]}', "tools.0"),
    (OK + b'"tools": [{"functionDeclarations": [{"description": "d"}]}]}', "tools.0.functionDeclarations.0.name"),
    (OK + b'"toolConfig": {"functionCallingConfig": {"mode": 1}}}', "toolConfig.functionCallingConfig.mode"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "param"), BAD_REQUESTS)
def test_bad_requests_name_the_field(body: bytes, param: str | None) -> None:
    with pytest.raises(GatewayError) as info:
        fmt.decode_request(body)
    assert info.value.kind is ErrorKind.INVALID_REQUEST and info.value.status == 400
    assert info.value.param == param
    assert info.value.message


def test_encode_request_rejects_what_gemini_cannot_address() -> None:
    orphan = Request(model="m", messages=[Message(role="user", content=[ToolResultBlock("call_zz", [TextBlock("x")])])])
    with pytest.raises(GatewayError) as info:
        fmt.encode_request(orphan, "m")
    assert info.value.param == "messages.0.content.0.tool_call_id"
    broken = Request(model="m", messages=[Message(role="assistant", content=[ToolCallBlock("c", "f", "{not json")])])
    with pytest.raises(GatewayError) as info:
        fmt.encode_request(broken, "m")
    assert info.value.kind is ErrorKind.INVALID_REQUEST and info.value.param == "messages.0.content.0.arguments"


# ── JSON Schema conversion ───────────────────────────────────────────────────────────────


def test_schema_to_gemini_inlines_refs_and_drops_unsupported_keys() -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": False,
        "$defs": {
            "Pet": {"type": "object", "properties": {"kind": {"const": "cat"}, "age": {"type": ["integer", "null"]}}}
        },
        "properties": {
            "pet": {"$ref": "#/$defs/Pet", "description": "the pet"},
            "tags": {"type": "array", "items": {"type": "string", "format": "email"}, "minItems": 1},
            "when": {"type": "string", "format": "date-time"},
            "either": {"oneOf": [{"type": "string"}, {"type": "number"}]},
            "level": {"type": "integer", "enum": [1, 2]},
            "multi": {"type": ["string", "integer"]},
        },
        "required": ["pet"],
    }
    assert gemini_schema.to_gemini(schema) == {
        "type": "OBJECT",
        "properties": {
            "pet": {"type": "OBJECT",
                    "properties": {"kind": {"enum": ["cat"]}, "age": {"type": "INTEGER", "nullable": True}},
                    "description": "the pet"},
            "tags": {"type": "ARRAY", "items": {"type": "STRING"}, "minItems": 1},
            "when": {"type": "STRING", "format": "date-time"},
            "either": {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}]},
            "level": {"type": "INTEGER"},
            "multi": {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]},
        },
        "required": ["pet"],
    }  # fmt: skip


def test_recursive_schema_is_cut() -> None:
    schema = {
        "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
        "$ref": "#/$defs/Node",
    }
    out = gemini_schema.to_gemini(schema)
    depth = 0
    while "properties" in out:
        out, depth = out["properties"]["next"], depth + 1
    assert 5 < depth < 20


# ── errors ───────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("kind", "status", "rpc"),
    [
        (ErrorKind.INVALID_REQUEST, 400, "INVALID_ARGUMENT"),
        (ErrorKind.AUTHENTICATION, 401, "UNAUTHENTICATED"),
        (ErrorKind.PERMISSION, 403, "PERMISSION_DENIED"),
        (ErrorKind.NOT_FOUND, 404, "NOT_FOUND"),
        (ErrorKind.RATE_LIMITED, 429, "RESOURCE_EXHAUSTED"),
        (ErrorKind.INTERNAL, 500, "INTERNAL"),
        (ErrorKind.UPSTREAM_UNREACHABLE, 502, "UNAVAILABLE"),
        (ErrorKind.UPSTREAM_TIMEOUT, 504, "DEADLINE_EXCEEDED"),
    ],
)
def test_encode_error(kind: ErrorKind, status: int, rpc: str) -> None:
    body = json.loads(fmt.encode_error(GatewayError(kind, "nope")))
    assert body == {"error": {"code": status, "message": "nope", "status": rpc}}
    back = fmt.decode_error(status, fmt.encode_error(GatewayError(kind, "nope")))
    assert back.status == status and back.message == "nope"


def test_encode_stream_error_is_an_sse_event() -> None:
    data = fmt.encode_stream_error(GatewayError(ErrorKind.RATE_LIMITED, "slow"))
    assert data == b'data: {"error":{"code":429,"message":"slow","status":"RESOURCE_EXHAUSTED"}}\n\n'


def test_decode_error_bodies() -> None:
    err = fmt.decode_error(429, load("error_429.json"), "gemini")
    assert err.kind is ErrorKind.RATE_LIMITED and err.status == 429 and err.provider == "gemini"
    assert err.message.startswith("You exceeded your current quota")
    array = fmt.decode_error(503, b'[{"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}]')
    assert array.message == "overloaded" and array.kind is ErrorKind.OVERLOADED and array.retryable
    html = fmt.decode_error(502, b"<html>Bad Gateway</html>")
    assert html.message == "<html>Bad Gateway</html>" and html.status == 502
    assert fmt.decode_error(500, b"").message == "upstream answered HTTP 500"


def test_url_safe_inline_data_reads_back_as_standard_base64() -> None:
    """google-genai's ``Part.from_bytes`` writes ``inlineData.data`` in the URL-safe alphabet."""
    import base64

    raw = bytes(range(250, 256)) * 3 + b"\xfb\xff"
    body = {"contents": [{"role": "user", "parts": [
        {"text": "what is this?"},
        {"inlineData": {"mimeType": "image/png", "data": base64.urlsafe_b64encode(raw).decode().rstrip("=")}}]}]}
    block = fmt.decode_request(json.dumps(body).encode()).messages[0].content[1]
    assert block.data == base64.b64encode(raw).decode() and "-" not in block.data and "_" not in block.data


def test_mid_conversation_system_message_folds_into_the_user_turn() -> None:
    req = Request(model="g", messages=[Message("user", [TextBlock("hi")]), Message("assistant", [TextBlock("yo")]),
                                       Message("system", [TextBlock("Be brief.")]),
                                       Message("user", [TextBlock("next")])])
    body = json.loads(fmt.encode_request(req, "g"))
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["contents"][2]["parts"] == [{"text": "<system-reminder>\nBe brief.\n</system-reminder>"},
                                           {"text": "next"}]
