"""OpenAI Chat requests both ways: round trips, extras, bad input naming its param."""

from __future__ import annotations

import json
from typing import Any

import pytest

from omniroute.canonical import (
    DocumentBlock,
    ImageBlock,
    Message,
    Reasoning,
    RedactedThinkingBlock,
    Request,
    ResponseFormat,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolCallBlock,
    ToolChoice,
    ToolChoiceMode,
    ToolResultBlock,
    UnknownBlock,
)
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import openai_chat as oc
from tests.formats.openai_chat.harness import USER, fixture


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
