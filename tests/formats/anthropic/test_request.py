"""Anthropic requests both ways: full decode, round trips, bad input naming its param, encoding rules."""

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
from omniroute.formats import anthropic as fmt
from tests.formats.anthropic.harness import invalid_param, load


def test_decode_full_request() -> None:
    req = fmt.decode_request(load("request_full.json"))
    assert req.model == "claude-sonnet-4-5-20250929" and req.max_tokens == 8192 and req.stream
    assert req.system == [TextBlock("You are a careful assistant that uses tools."),
                          TextBlock("Project context: a very long document…", {"type": "ephemeral"})]
    user, assistant, results = req.messages
    assert [type(b) for b in user.content] == [TextBlock, ImageBlock, ImageBlock, DocumentBlock, DocumentBlock,
                                               DocumentBlock]
    assert user.content[1].media_type == "image/png" and user.content[1].data.startswith("iVBOR")
    assert user.content[2].url.endswith("ant.jpg")
    assert user.content[3] == DocumentBlock("application/pdf", "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoK", title="Report")
    assert user.content[4] == DocumentBlock("text/plain", text="The grass is green. The sky is blue.", title="Facts")
    assert assistant.content[0] == ThinkingBlock("The picture shows an ant. I should look up the weather.",
                                                 "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrk", signature_source="anthropic")
    assert type(assistant.content[1]) is RedactedThinkingBlock
    assert assistant.content[3] == ToolCallBlock("toolu_01A09q90qw90lq917835lq9", "get_weather",
                                                 '{"location":"San Francisco, CA","unit":"celsius"}')
    assert assistant.content[4].arguments == "{}"
    first, second, text = results.content
    # the tool_result's cache breakpoint moves onto its (last) text block: same prompt position
    assert first == ToolResultBlock("toolu_01A09q90qw90lq917835lq9",
                                    [TextBlock("15 degrees, foggy", {"type": "ephemeral"})])
    assert second.is_error and type(second.content[1]) is UnknownBlock
    assert text.cache_control == {"type": "ephemeral", "ttl": "1h"}
    assert [t.name for t in req.tools] == ["get_weather", "get_time"] and req.tools[1].strict is True
    assert req.extra["anthropic"]["tools"] == [{"type": "web_search_20250305", "name": "web_search", "max_uses": 5}]
    assert req.tool_choice == ToolChoice(ToolChoiceMode.AUTO, None, parallel=False)
    assert req.reasoning == Reasoning(enabled=True, budget_tokens=2048)
    assert req.user == "user-7f3a" and req.stop == ["\n\nHuman:", "END"]
    own = req.extra["anthropic"]
    assert own["service_tier"] == "auto" and own["container"].startswith("container_")


@pytest.mark.parametrize("name", ["request_full.json", "request_simple.json"])
def test_request_decode_encode_decode_round_trip(name: str) -> None:
    req = fmt.decode_request(load(name))
    body = fmt.encode_request(req, req.model)
    assert fmt.decode_request(body) == req


def test_request_round_trip_matches_the_original_body() -> None:
    original = json.loads(load("request_simple.json"))
    encoded = json.loads(fmt.encode_request(fmt.decode_request(load("request_simple.json")), "claude-haiku-4-5"))
    assert encoded["system"] == original["system"]
    assert [m["role"] for m in encoded["messages"]] == ["user", "assistant", "user"]
    assert encoded["messages"][2]["content"] == [{"type": "text", "text": "Write a haiku about the sea."}]
    assert (encoded["temperature"], encoded["top_p"], encoded["top_k"]) == (0.5, 0.9, 40)


def test_decode_thinking_output_config_and_unknown_blocks() -> None:
    body = {"model": "m", "max_tokens": 100, "thinking": {"type": "adaptive", "display": "omitted"},
            "output_config": {"effort": "high", "format": {"type": "json_schema", "schema": {"type": "object"}},
                              "future": 1},
            "messages": [{"role": "user", "content": [{"type": "brand_new", "x": 1}]}]}
    req = fmt.decode_request(json.dumps(body).encode())
    assert req.reasoning == Reasoning(enabled=True, effort="high", include_thoughts=False)
    assert req.response_format == ResponseFormat("json_schema", {"type": "object"})
    assert req.extra == {"anthropic": {"output_config": {"future": 1}}}
    assert req.messages[0].content == [UnknownBlock({"type": "brand_new", "x": 1}, "anthropic")]
    out = json.loads(fmt.encode_request(req, "m"))
    assert out["messages"][0]["content"] == [{"type": "brand_new", "x": 1}]
    assert out["output_config"] == {"future": 1, "format": {"type": "json_schema", "schema": {"type": "object"}}}

    body.pop("thinking")
    req = fmt.decode_request(json.dumps(body).encode())
    assert req.reasoning is None and req.extra["anthropic"]["output_config"] == {"effort": "high", "future": 1}
    req = fmt.decode_request(b'{"model":"m","max_tokens":9,"messages":[],"thinking":{"type":"disabled"},'
                             b'"output_format":{"type":"json_schema","schema":{"type":"array"}}}')
    assert req.reasoning == Reasoning(enabled=False)
    assert req.response_format == ResponseFormat("json_schema", {"type": "array"})


BAD_REQUESTS: list[tuple[dict[str, Any], str | None]] = [
    ({"model": "m", "messages": []}, "max_tokens"),
    ({"model": "m", "max_tokens": 0, "messages": []}, "max_tokens"),
    ({"model": "m", "max_tokens": "10", "messages": []}, "max_tokens"),
    ({"model": "m", "max_tokens": True, "messages": []}, "max_tokens"),
    ({"max_tokens": 1, "messages": []}, "model"),
    ({"model": 3, "max_tokens": 1, "messages": []}, "model"),
    ({"model": "m", "max_tokens": 1}, "messages"),
    ({"model": "m", "max_tokens": 1, "messages": {}}, "messages"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "system", "content": [{"type": "image", "source": {
        "type": "url", "url": "https://x/y.png"}}]}]}, "messages[0].content[0]"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user"}]}, "messages[0].content"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": ["hi"]}]}, "messages[0].content[0]"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": [
        {"type": "tool_use", "name": "f", "input": {}}]}]}, "messages[1].content[0].id"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "assistant", "content": [
        {"type": "tool_use", "id": "t", "name": "f", "input": "{}"}]}]}, "messages[0].content[0].input"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [{"type": "text"}]}]},
     "messages[0].content[0].text"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [{"type": "image"}]}]},
     "messages[0].content[0].source"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [
        {"type": "image", "source": {"data": "x"}}]}]}, "messages[0].content[0].source.type"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t", "content": 5}]}]}, "messages[0].content[0].content"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": 1}]}]}]},
     "messages[0].content[0].content[0].text"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [
        {"type": "tool_result", "content": "x"}]}]}, "messages[0].content[0].tool_use_id"),
    ({"model": "m", "max_tokens": 1, "messages": [{"role": "assistant", "content": [
        {"type": "thinking", "thinking": None}]}]}, "messages[0].content[0].thinking"),
    ({"model": "m", "max_tokens": 1, "messages": [], "system": 5}, "system"),
    ({"model": "m", "max_tokens": 1, "messages": [], "system": [{"type": "image", "text": "x"}]}, "system[0].type"),
    ({"model": "m", "max_tokens": 1, "messages": [], "tools": [{"name": "f"}]}, "tools[0].input_schema"),
    ({"model": "m", "max_tokens": 1, "messages": [], "tools": [{"input_schema": {}}]}, "tools[0].name"),
    ({"model": "m", "max_tokens": 1, "messages": [], "tool_choice": {"type": "maybe"}}, "tool_choice.type"),
    ({"model": "m", "max_tokens": 1, "messages": [], "tool_choice": {"type": "tool"}}, "tool_choice.name"),
    ({"model": "m", "max_tokens": 1, "messages": [], "thinking": {"type": "enabled"}}, "thinking.budget_tokens"),
    ({"model": "m", "max_tokens": 1, "messages": [], "thinking": {"budget_tokens": 5}}, "thinking.type"),
    ({"model": "m", "max_tokens": 1, "messages": [], "metadata": {"user_id": 5}}, "metadata.user_id"),
    ({"model": "m", "max_tokens": 1, "messages": [], "stop_sequences": "END"}, "stop_sequences"),
    ({"model": "m", "max_tokens": 1, "messages": [], "temperature": "hot"}, "temperature"),
    ({"model": "m", "max_tokens": 1, "messages": [], "stream": "yes"}, "stream"),
    ({"model": "m", "max_tokens": 1, "messages": [], "output_config": {"format": {"schema": {}}}},
     "output_config.format.type"),
]


@pytest.mark.parametrize(("body", "param"), BAD_REQUESTS, ids=[p or "none" for _, p in BAD_REQUESTS])
def test_bad_requests_name_the_param(body: dict[str, Any], param: str | None) -> None:
    assert invalid_param(body) == param


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", b'"text"', b"\xff\xfe"])
def test_unparsable_bodies(raw: bytes) -> None:
    invalid_param(raw)


def test_count_tokens_request_needs_no_max_tokens() -> None:
    req = fmt.decode_count_tokens_request(load("count_tokens_request.json"))
    assert req.max_tokens is None and req.tools[0].name == "get_weather"
    assert invalid_param({"model": "m"}, fmt.decode_count_tokens_request) == "messages"
    with pytest.raises(GatewayError):
        fmt.decode_request(load("count_tokens_request.json"))


def simple_request(**kw: Any) -> Request:
    return Request(model="x", messages=[Message("user", [TextBlock("hi")])], **kw)


def encoded(req: Request, model: str = "claude-target") -> dict[str, Any]:
    return json.loads(fmt.encode_request(req, model))


@pytest.mark.parametrize(("reasoning", "max_tokens", "thinking", "expect_max"), [
    (None, None, None, 4096),
    (Reasoning(budget_tokens=2048), None, {"type": "enabled", "budget_tokens": 2048}, 6144),
    (Reasoning(budget_tokens=100), 5000, {"type": "enabled", "budget_tokens": 1024}, 5000),
    (Reasoning(effort="low"), None, {"type": "enabled", "budget_tokens": 1024}, 5120),
    (Reasoning(effort="medium"), None, {"type": "enabled", "budget_tokens": 4096}, 8192),
    (Reasoning(effort="high"), None, {"type": "enabled", "budget_tokens": 16384}, 20480),
    (Reasoning(effort="high"), 3000, {"type": "enabled", "budget_tokens": 2999}, 3000),
    (Reasoning(effort="high"), 1000, None, 1000),
    (Reasoning(), None, {"type": "adaptive"}, 4096 + 16384),
    (Reasoning(enabled=False, effort="high"), None, {"type": "disabled"}, 4096),
    (Reasoning(effort="none"), None, {"type": "disabled"}, 4096),
    (Reasoning(budget_tokens=0), None, {"type": "disabled"}, 4096),
])
def test_encode_reasoning_and_max_tokens(reasoning: Reasoning | None, max_tokens: int | None,
                                         thinking: dict[str, Any] | None, expect_max: int) -> None:
    body = encoded(simple_request(reasoning=reasoning, max_tokens=max_tokens))
    assert body.get("thinking") == thinking
    assert body["max_tokens"] == expect_max
    assert body["model"] == "claude-target"


def test_encode_sampling_rules() -> None:
    body = encoded(simple_request(temperature=1.7, top_p=0.5, top_k=5, stop=["X"]))
    assert (body["temperature"], body["top_p"], body["top_k"], body["stop_sequences"]) == (1.0, 0.5, 5, ["X"])
    body = encoded(simple_request(temperature=0.2, top_p=0.5, top_k=5, reasoning=Reasoning(effort="low")))
    assert "temperature" not in body and "top_p" not in body and "top_k" not in body
    body = encoded(simple_request(temperature=1.0, top_p=0.96, reasoning=Reasoning(effort="low")))
    assert (body["temperature"], body["top_p"]) == (1.0, 0.96)


def test_encode_messages_merge_roles_and_order_tool_results() -> None:
    req = Request(model="x", system=[TextBlock("Be brief.")], messages=[
        Message("user", [TextBlock("weather?")]),
        Message("assistant", [TextBlock(""), ToolCallBlock("call_1", "w", '{"city": "Oslo"}')]),
        Message("assistant", [ToolCallBlock("call_2", "t", "")]),
        Message("user", [TextBlock("also this")]),
        Message("user", [ToolResultBlock("call_1", [TextBlock("cold")]), ToolResultBlock("call_2", [],
                                                                                          is_error=True)]),
        Message("assistant", [ThinkingBlock("unsigned, from elsewhere"), UnknownBlock({"x": 1}, "openai_chat")]),
        Message("user", [TextBlock("thanks")]),
    ])
    body = encoded(req)
    assert body["system"] == "Be brief."
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["user", "assistant", "user"]
    assistant = body["messages"][1]["content"]
    assert assistant == [{"type": "tool_use", "id": "call_1", "name": "w", "input": {"city": "Oslo"}},
                         {"type": "tool_use", "id": "call_2", "name": "t", "input": {}}]
    assert fmt.encode_request(req, "x").count(b'{"city": "Oslo"}') == 1  # raw arguments sent verbatim
    last = body["messages"][2]["content"]
    assert [b["type"] for b in last] == ["tool_result", "tool_result", "text", "text"]
    assert last[0] == {"type": "tool_result", "tool_use_id": "call_1", "content": [{"type": "text", "text": "cold"}]}
    assert last[1] == {"type": "tool_result", "tool_use_id": "call_2", "is_error": True}
    assert [b["text"] for b in last[2:]] == ["also this", "thanks"]


@pytest.mark.parametrize("arguments", ["[1, 2]", "{bad", '"text"', "null"])
def test_encode_rejects_non_object_tool_arguments(arguments: str) -> None:
    req = Request(model="x", messages=[Message("user", [TextBlock("a")]),
                                       Message("assistant", [ToolCallBlock("c", "f", arguments)])])
    with pytest.raises(GatewayError) as info:
        fmt.encode_request(req, "x")
    assert info.value.kind is ErrorKind.INVALID_REQUEST
    assert info.value.param == "messages[1].content[0].arguments"


def test_encode_images_documents_and_tools() -> None:
    req = Request(model="x", messages=[Message("user", [
        ImageBlock(url="data:image/webp;base64,UklGRgAAAA"),
        ImageBlock(data="/9j/4AAQSkZJRg"),
        ImageBlock(url="https://x/y.png"),
        ImageBlock(),
        DocumentBlock(data="JVBER", title="T"),
        DocumentBlock(url="https://x/doc.pdf"),
        DocumentBlock(text="plain"),
    ])], tools=[Tool("f", "does f", {"type": "object", "properties": {"a": {"type": "string"}}}), Tool("g")],
        tool_choice=ToolChoice(ToolChoiceMode.REQUIRED, parallel=False))
    body = encoded(req)
    content = body["messages"][0]["content"]
    assert [b["source"] for b in content] == [
        {"type": "base64", "media_type": "image/webp", "data": "UklGRgAAAA"},
        {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQSkZJRg"},
        {"type": "url", "url": "https://x/y.png"},
        {"type": "base64", "media_type": "application/pdf", "data": "JVBER"},
        {"type": "url", "url": "https://x/doc.pdf"},
        {"type": "text", "media_type": "text/plain", "data": "plain"},
    ]
    assert content[3]["title"] == "T"
    assert body["tools"] == [
        {"name": "f", "description": "does f",
         "input_schema": {"type": "object", "properties": {"a": {"type": "string"}}}},
        {"name": "g", "input_schema": {"type": "object", "properties": {}}}]
    assert body["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    named = encoded(Request(model="x", tools=[Tool("g")], tool_choice=ToolChoice(ToolChoiceMode.TOOL, "g")))
    assert named["tool_choice"] == {"type": "tool", "name": "g"}
    assert "tool_choice" not in encoded(simple_request(tool_choice=ToolChoice(ToolChoiceMode.REQUIRED)))


def test_encode_response_format_user_and_extra() -> None:
    req = simple_request(response_format=ResponseFormat("json_schema", {"type": "object"}), user="u1",
                         metadata={"team": "a"}, stream=True,
                         extra={"anthropic": {"service_tier": "auto", "model": "must-not-win",
                                              "output_config": {"effort": "low"}},
                                "openai_responses": {"store": False}})
    body = encoded(req)
    assert body["output_config"] == {"effort": "low", "format": {"type": "json_schema", "schema": {"type": "object"}}}
    assert body["metadata"] == {"user_id": "u1"}
    assert body["stream"] is True and body["service_tier"] == "auto" and body["model"] == "claude-target"
    assert "store" not in body  # another format's extras never reach an Anthropic body
    assert "output_config" not in encoded(simple_request(response_format=ResponseFormat("json_object")))
