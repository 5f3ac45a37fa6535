"""OpenAI Responses requests both ways: input items, tools, reasoning, the SDK's param types."""

from __future__ import annotations

import json
from typing import Any

import pytest

from omniroute.canonical import (
    DocumentBlock,
    ImageBlock,
    Message,
    Request,
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
from omniroute.formats import openai_responses as orr
from tests.formats.openai_responses.harness import fixture, validate_create_params


def test_decode_request_full() -> None:
    req = orr.decode_request(fixture("request_full.json"))
    assert req.model == "gpt-4.1"
    assert [b.text for b in req.system] == ["You are a concise travel assistant.", "Always answer in metric units."]
    user, assistant, results, last = req.messages
    assert user.role == "user"
    image_data, image_url, image_file, pdf, pdf_url, file_ref = user.content[1:]
    assert isinstance(image_data, ImageBlock) and image_data.media_type == "image/jpeg" and image_data.detail == "high"
    assert image_data.data and image_data.data.startswith("/9j/")
    assert isinstance(image_url, ImageBlock) and image_url.url and image_url.url.startswith("https://upload")
    assert isinstance(image_file, UnknownBlock) and image_file.raw["file_id"] == "file-6F2ksmvXxt4VdoqmHRw6kL"
    assert isinstance(pdf, DocumentBlock) and pdf.media_type == "application/pdf" and pdf.title == "itinerary.pdf"
    assert isinstance(pdf_url, DocumentBlock) and pdf_url.url and pdf_url.url.endswith("2024ltr.pdf")
    assert isinstance(file_ref, UnknownBlock) and file_ref.source == orr.NAME
    assert assistant.role == "assistant"
    assert assistant.content == [
        TextBlock("Let me check the weather."),
        ToolCallBlock("call_pWq1x2Y3z4A5b6C7d8E9f0G1", "get_weather", '{"location":"Paris, France","unit":"celsius"}'),
    ]
    result, reference = results.content
    assert result == ToolResultBlock(
        "call_pWq1x2Y3z4A5b6C7d8E9f0G1", [TextBlock('{"temperature":21,"conditions":"sunny"}')], name="get_weather"
    )
    assert reference == UnknownBlock(
        {"type": "item_reference", "id": "ws_67f0c1d2e3f4a5b6c7d8e9f0a1b2c3d6"}, orr.ITEM_SOURCE
    )
    assert last == Message("user", [TextBlock("Thanks! Also book me a table.")])
    assert [t.name for t in req.tools] == ["get_weather", "book_table"]
    assert req.tools[0].strict is True and req.tools[1].strict is False
    assert req.extra["openai_responses"]["tools_builtin"][0]["type"] == "web_search"
    assert req.tool_choice == ToolChoice(ToolChoiceMode.AUTO, parallel=False)
    assert (req.max_tokens, req.temperature, req.top_p, req.stream) == (2048, 0.3, 0.9, True)
    assert req.reasoning is not None and (req.reasoning.effort, req.reasoning.include_thoughts) == ("low", True)
    assert req.response_format is not None and req.response_format.name == "travel_answer"
    assert req.response_format.schema and req.response_format.strict is True
    assert (req.user, req.metadata) == ("user-8431", {"session": "abc-123", "app": "travel-bot"})
    extra = req.extra["openai_responses"]
    assert extra["store"] is True and extra["truncation"] == "auto"
    assert extra["text_verbosity"] == "low" and extra["reasoning_summary"] == "auto"


def test_decode_request_codex() -> None:
    req = orr.decode_request(fixture("request_codex.json"))
    assert [m.role for m in req.messages] == ["user", "user", "assistant", "user", "assistant", "user"]
    thinking, call = req.messages[2].content
    assert isinstance(thinking, ThinkingBlock) and thinking.id and thinking.signature
    assert thinking.thinking.startswith("**Inspecting the test target**")
    assert isinstance(call, ToolCallBlock) and call.name == "shell"
    (result,) = req.messages[3].content
    assert isinstance(result, ToolResultBlock) and result.name == "shell"
    empty_thinking, answer = req.messages[4].content
    assert isinstance(empty_thinking, ThinkingBlock) and empty_thinking.thinking == ""
    assert empty_thinking.signature and empty_thinking.signature.startswith("gAAAAABo0qH9")
    assert answer == TextBlock("`test_login` fails because the response no longer includes `token`.")
    extra = req.extra["openai_responses"]
    assert [t["type"] for t in extra["tools_builtin"]] == ["custom"]
    assert extra["store"] is False and extra["include"] == ["reasoning.encrypted_content"]


def _round_trip(req: Request) -> Request:
    return orr.decode_request(orr.encode_request(req, req.model))


@pytest.mark.parametrize("name", ["request_full.json", "request_codex.json"])
def test_request_decode_encode_decode_round_trip(name: str) -> None:
    first = orr.decode_request(fixture(name))
    body = orr.encode_request(first, first.model)
    validate_create_params(json.loads(body))
    second = orr.decode_request(body)
    assert second.messages == first.messages
    assert "\n\n".join(b.text for b in second.system) == "\n\n".join(b.text for b in first.system)
    assert second.tools == first.tools
    assert second.tool_choice == first.tool_choice
    assert (second.max_tokens, second.temperature, second.top_p, second.stream) == (
        first.max_tokens,
        first.temperature,
        first.top_p,
        first.stream,
    )
    assert second.reasoning == first.reasoning
    assert second.response_format == first.response_format
    assert (second.user, second.metadata) == (first.user, first.metadata)
    for key in ("tools_builtin", "store", "include", "text_verbosity", "reasoning_summary", "prompt_cache_key"):
        assert second.extra["openai_responses"].get(key) == first.extra["openai_responses"].get(key), key


def test_encode_request_shapes_items() -> None:
    req = Request(
        model="claude-x",
        system=[TextBlock("Be brief.")],
        messages=[
            Message(
                "user",
                [
                    TextBlock("hi"),
                    ImageBlock(media_type="image/png", data="iVBOR"),
                    DocumentBlock(media_type="application/pdf", data="JVBER", title="a.pdf"),
                ],
            ),
            Message(
                "assistant",
                [
                    ThinkingBlock("anthropic thoughts", signature="sig-from-anthropic"),
                    TextBlock("calling"),
                    ToolCallBlock("toolu_1", "f", ""),
                ],
            ),
            Message("user", [ToolResultBlock("toolu_1", [TextBlock("a"), TextBlock("b")], is_error=True)]),
        ],
        tools=[Tool("f", "does f", None)],
        tool_choice=ToolChoice(ToolChoiceMode.TOOL, "f", parallel=True),
        extra={"openai_chat": {"frequency_penalty": 1.0, "logit_bias": {}}},  # another format's extras never leak
    )
    body = json.loads(orr.encode_request(req, "gpt-5"))
    validate_create_params(body)
    assert body["model"] == "gpt-5" and body["instructions"] == "Be brief."
    assert "frequency_penalty" not in body and "logit_bias" not in body
    assert [i["type"] for i in body["input"]] == ["message", "message", "function_call", "function_call_output"]
    user = body["input"][0]["content"]
    assert user[1] == {"type": "input_image", "image_url": "data:image/png;base64,iVBOR", "detail": "auto"}
    assert user[2] == {"type": "input_file", "file_data": "data:application/pdf;base64,JVBER", "filename": "a.pdf"}
    assert body["input"][1]["content"] == [{"type": "output_text", "text": "calling", "annotations": []}]
    assert body["input"][2] == {"type": "function_call", "call_id": "toolu_1", "name": "f", "arguments": "{}"}
    assert body["input"][3]["output"] == [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}]
    assert body["tools"] == [
        {
            "type": "function",
            "name": "f",
            "description": "does f",
            "parameters": {"type": "object", "properties": {}},
            "strict": False,
        }
    ]
    assert body["tool_choice"] == {"type": "function", "name": "f"} and body["parallel_tool_calls"] is True
    assert "store" not in body and "include" not in body  # no reasoning asked, none sent back


def test_encode_request_sends_encrypted_reasoning_statelessly() -> None:
    req = Request(
        model="m",
        messages=[
            Message("user", [TextBlock("q")]),
            Message("assistant", [ThinkingBlock("sum", signature="gAAAenc", id="rs_1"), TextBlock("a")]),
            Message("user", [TextBlock("q2")]),
        ],
    )
    body = json.loads(orr.encode_request(req, "o4-mini"))
    assert body["input"][1] == {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "sum"}],
        "id": "rs_1",
        "encrypted_content": "gAAAenc",
    }
    assert body["store"] is False and body["include"] == ["reasoning.encrypted_content"]
    req.extra = {"openai_responses": {"store": True, "include": ["file_search_call.results"]}}
    body = json.loads(orr.encode_request(req, "o4-mini"))
    assert body["store"] is True
    assert body["include"] == ["file_search_call.results", "reasoning.encrypted_content"]


def test_encode_request_reasoning_from_budget() -> None:
    from omniroute.canonical import Reasoning

    body = json.loads(
        orr.encode_request(Request(model="m", reasoning=Reasoning(budget_tokens=10000, include_thoughts=True)), "o3")
    )
    assert body["reasoning"] == {"effort": "medium", "summary": "auto"}
    assert body["store"] is False and body["include"] == ["reasoning.encrypted_content"]
    off = json.loads(orr.encode_request(Request(model="m", reasoning=Reasoning(enabled=False)), "o3"))
    assert "reasoning" not in off and "store" not in off


def test_encode_request_rejects_stop_sequences() -> None:
    with pytest.raises(GatewayError) as info:
        orr.encode_request(Request(model="m", stop=["\n\n"]), "gpt-4.1")
    assert info.value.kind is ErrorKind.UNSUPPORTED and info.value.param == "stop"


def test_unknown_parts_and_items_pass_through_to_a_responses_upstream() -> None:
    audio = {"type": "input_audio", "input_audio": {"data": "UklGR", "format": "wav"}}
    shell = {
        "type": "local_shell_call",
        "id": "lsh_1",
        "call_id": "c",
        "status": "completed",
        "action": {"type": "exec", "command": ["ls"], "env": {}},
    }
    body = {"model": "m", "input": [{"role": "user", "content": [{"type": "input_text", "text": "x"}, audio]}, shell]}
    req = orr.decode_request(json.dumps(body).encode())
    assert req.messages[0].content[1] == UnknownBlock(audio, orr.NAME)
    assert req.messages[0].content[2] == UnknownBlock(shell, orr.ITEM_SOURCE)
    again = json.loads(orr.encode_request(req, "m"))
    assert again["input"][0]["content"][1] == audio
    assert again["input"][1] == shell


def test_string_input_and_typeless_items() -> None:
    req = orr.decode_request(b'{"model": "m", "input": "hello", "stream": false}')
    assert req.messages == [Message("user", [TextBlock("hello")])] and req.stream is False
    ref = orr.decode_request(b'{"model": "m", "input": [{"id": "msg_1"}]}')
    assert ref.messages[0].content == [UnknownBlock({"id": "msg_1"}, orr.ITEM_SOURCE)]


def _body(**fields: Any) -> bytes:
    return json.dumps({"model": "gpt-4.1", **fields}).encode()


def _user(*parts: Any) -> list[Any]:
    return [{"role": "user", "content": list(parts)}]


BAD_REQUESTS: list[tuple[bytes, str | None]] = [
    (b"{not json", None),
    (b"[1, 2]", None),
    (b"{}", "model"),
    (b'{"model": 5}', "model"),
    (_body(input=5), "input"),
    (_body(input=[{"role": "user"}]), "input.0.content"),
    (_body(input=[{"role": "wizard", "content": "x"}]), "input.0.role"),
    (_body(input=[{"type": "message", "content": "x"}]), "input.0.role"),
    (_body(input=[{"role": "user", "content": 7}]), "input.0.content"),
    (_body(input=["just a string"]), "input.0"),
    (_body(input=_user({"type": "input_text"})), "input.0.content.0.text"),
    (_body(input=_user({"type": "input_text", "text": 5})), "input.0.content.0.text"),
    (_body(input=_user(5)), "input.0.content.0"),
    (_body(input=_user({"type": "input_image", "detail": "auto"})), "input.0.content.0"),
    (_body(input=_user({"type": "input_image", "image_url": "data:image/png,abc"})), "input.0.content.0.image_url"),
    (_body(input=_user({"type": "input_file", "filename": "a.pdf"})), "input.0.content.0"),
    (_body(input=[{"type": "function_call", "name": "f", "arguments": "{}"}]), "input.0.call_id"),
    (_body(input=[{"type": "function_call", "call_id": "c", "arguments": "{}"}]), "input.0.name"),
    (_body(input=[{"type": "function_call", "call_id": "c", "name": "f", "arguments": {}}]), "input.0.arguments"),
    (_body(input=[{"type": "function_call_output", "call_id": "c"}]), "input.0.output"),
    (_body(input=[{"type": "function_call_output", "output": "x"}]), "input.0.call_id"),
    (_body(input=[{"type": "reasoning", "id": "rs", "summary": "nope"}]), "input.0.summary"),
    (
        _body(input=[{"role": "system", "content": [{"type": "input_image", "image_url": "https://x"}]}]),
        "input.0.content.0",
    ),
    (_body(tools=[{"type": "function"}]), "tools.0.name"),
    (_body(tools=[{"name": "f"}]), "tools.0.type"),
    (_body(tools=[{"type": "function", "name": "f", "parameters": "oops"}]), "tools.0.parameters"),
    (_body(tools={"type": "function"}), "tools"),
    (_body(tool_choice="sometimes"), "tool_choice"),
    (_body(tool_choice={"type": "function"}), "tool_choice.name"),
    (_body(max_output_tokens="10"), "max_output_tokens"),
    (_body(temperature="hot"), "temperature"),
    (_body(stream="yes"), "stream"),
    (_body(reasoning={"effort": 3}), "reasoning.effort"),
    (_body(text={"format": {"type": "xml"}}), "text.format.type"),
    (_body(text={"format": {"type": "json_schema", "name": "x"}}), "text.format.schema"),
    (_body(instructions=["a"]), "instructions"),
    (_body(metadata="x"), "metadata"),
]


@pytest.mark.parametrize(("body", "param"), BAD_REQUESTS)
def test_bad_requests_name_the_field(body: bytes, param: str | None) -> None:
    with pytest.raises(GatewayError) as info:
        orr.decode_request(body)
    assert info.value.kind is ErrorKind.INVALID_REQUEST
    assert info.value.param == param
    assert info.value.message
