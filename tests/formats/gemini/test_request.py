"""Gemini requests both ways: camelCase and snake_case bodies, extras, bad input naming its path."""

from __future__ import annotations

import json

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
from omniroute.formats import gemini as fmt
from tests.formats.gemini.harness import load


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
