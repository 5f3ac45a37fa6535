"""Ollama requests both ways: fields, tool results matched to calls, bad input naming its path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from omniroute.canonical import (
    DocumentBlock,
    ImageBlock,
    Message,
    Reasoning,
    Request,
    ResponseFormat,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolCallBlock,
    ToolChoice,
    ToolChoiceMode,
    ToolResultBlock,
)
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import ollama as fmt
from tests.formats.ollama.harness import load


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
