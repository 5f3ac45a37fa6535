"""The five client formats of the cross-format matrix, each driven by its official SDK.

A ``Client`` asks one question in its own dialect and reads the SDK's parsed answer back into
an ``Answer`` the matrix can compare across formats. Streams are read through the SDKs' own
accumulators where they have one (``messages.stream``, ``chat.completions.stream``,
``responses.stream``), so an event sequence those reject fails the test.

=============  ===========================  ================================================
client         thinking asked with          turn after a tool call / after thinking
=============  ===========================  ================================================
openai         ``reasoning_effort="low"``   assistant ``tool_calls`` + ``tool`` message
anthropic      ``thinking`` budget 1024     the answer's ``content`` blocks as given back
responses      ``reasoning`` low + summary  the answer's output items + call output
               (stateless: ``store: false``
               + encrypted content)
gemini         ``include_thoughts``         the answer's ``Content`` (stream: its parts)
ollama         ``think=True``               assistant ``tool_calls`` + ``tool`` message
=============  ===========================  ================================================
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

import anthropic
import ollama
import openai
from google import genai
from google.genai import types as gtypes

QUESTION = "What is the weather in Paris?"
FOLLOW_UP = "And tomorrow?"
RESULT = "sunny, 22C"
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
DESCRIPTION = "Current weather of a city"


@dataclass
class Answer:
    """One answer as the client saw it (stop reason in the client's own words)."""

    text: str = ""
    stop: str = ""
    usage: tuple[int, int] | None = None  # (prompt, answer) tokens
    calls: list[tuple[str | None, str, dict[str, Any]]] = field(default_factory=list)  # (id, name, args)
    thinking: str = ""
    signature: str | None = None
    turn: Any = None  # what the client sends back as the assistant's turn
    stray_errors: int = 0  # error events in a stream that completed (an SDK may skip over them)


@dataclass
class Ask:
    tools: bool = False
    thinking: bool = False
    max_tokens: int | None = None
    stream: bool = False


class OpenAIChat:
    name = "openai"
    stops: ClassVar[dict[str, str]] = {"end": "stop", "tool": "tool_calls", "max": "length"}
    signs = False

    def __init__(self, url: str) -> None:
        self.sdk = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0)

    def kwargs(self, ask: Ask) -> dict[str, Any]:
        kw: dict[str, Any] = {}
        if ask.tools:
            kw["tools"] = [{"type": "function", "function": {"name": "get_weather", "description": DESCRIPTION,
                                                            "parameters": SCHEMA}}]
        if ask.thinking:
            kw["reasoning_effort"] = "low"
        if ask.max_tokens:
            kw["max_completion_tokens"] = ask.max_tokens
        return kw

    def ask(self, model: str, ask: Ask, history: list[Any] | None = None) -> Answer:
        messages = [{"role": "user", "content": QUESTION}, *(history or [])]
        if not ask.stream:
            return self.read(self.sdk.chat.completions.create(model=model, messages=messages, **self.kwargs(ask)))
        if ask.max_tokens:  # the SDK's accumulator refuses a length stop: read the chunks
            return self.read_chunks(self.sdk.chat.completions.create(
                model=model, messages=messages, stream=True, stream_options={"include_usage": True},
                **self.kwargs(ask)))
        with self.sdk.chat.completions.stream(model=model, messages=messages, stream_options={"include_usage": True},
                                              **self.kwargs(ask)) as stream:
            for _ in stream:
                pass
            return self.read(stream.get_final_completion())

    @staticmethod
    def read(c: Any) -> Answer:
        msg = c.choices[0].message
        calls = [(t.id, t.function.name, json.loads(t.function.arguments)) for t in msg.tool_calls or []]
        turn = {"role": "assistant", "content": msg.content,
                "tool_calls": [t.model_dump(exclude_none=True) for t in msg.tool_calls or []] or None}
        usage = (c.usage.prompt_tokens, c.usage.completion_tokens) if c.usage else None
        thinking = (msg.model_extra or {}).get("reasoning_content") or ""
        return Answer(msg.content or "", c.choices[0].finish_reason, usage, calls, thinking, None,
                      {k: v for k, v in turn.items() if v is not None})

    @staticmethod
    def read_chunks(chunks: Any) -> Answer:
        chunks = list(chunks)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        finish = next(c.choices[0].finish_reason for c in reversed(chunks) if c.choices)
        usage = chunks[-1].usage
        return Answer(text, finish, (usage.prompt_tokens, usage.completion_tokens) if usage else None)

    def tool_turn(self, first: Answer) -> list[Any]:
        return [first.turn, {"role": "tool", "tool_call_id": first.calls[0][0], "content": RESULT}]

    def thinking_turn(self, first: Answer) -> list[Any]:
        return [first.turn, {"role": "user", "content": FOLLOW_UP}]

    def fail(self, model: str, stream: bool = False) -> tuple[int, str, Any]:
        try:
            self.sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}], stream=stream)
        except openai.APIStatusError as exc:
            return exc.status_code, exc.message, exc.body
        raise AssertionError("no error")

    def broken_stream(self, model: str) -> Exception:
        try:
            for _ in self.sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}],
                                                      stream=True):
                pass
        except openai.APIError as exc:
            return exc
        raise AssertionError("the stream ended without an error")


class Anthropic:
    name = "anthropic"
    stops: ClassVar[dict[str, str]] = {"end": "end_turn", "tool": "tool_use", "max": "max_tokens"}
    signs = True

    def __init__(self, url: str) -> None:
        self.sdk = anthropic.Anthropic(base_url=url, api_key="x", max_retries=0)

    def kwargs(self, ask: Ask) -> dict[str, Any]:
        kw: dict[str, Any] = {"max_tokens": ask.max_tokens or 1024}
        if ask.tools:
            kw["tools"] = [{"name": "get_weather", "description": DESCRIPTION, "input_schema": SCHEMA}]
        if ask.thinking:
            kw.update(max_tokens=2048, thinking={"type": "enabled", "budget_tokens": 1024})
        return kw

    def ask(self, model: str, ask: Ask, history: list[Any] | None = None) -> Answer:
        messages = [{"role": "user", "content": QUESTION}, *(history or [])]
        if not ask.stream:
            return self.read(self.sdk.messages.create(model=model, messages=messages, **self.kwargs(ask)))
        with self.sdk.messages.stream(model=model, messages=messages, **self.kwargs(ask)) as stream:
            for _ in stream:
                pass
            return self.read(stream.get_final_message())

    @staticmethod
    def read(m: Any) -> Answer:
        text = "".join(b.text for b in m.content if b.type == "text")
        calls = [(b.id, b.name, b.input) for b in m.content if b.type == "tool_use"]
        thinking = "".join(b.thinking for b in m.content if b.type == "thinking")
        signature = next((b.signature for b in m.content if b.type == "thinking" and b.signature), None)
        usage = (m.usage.input_tokens, m.usage.output_tokens)
        return Answer(text, m.stop_reason, usage, calls, thinking, signature, {"role": "assistant",
                                                                               "content": m.content})

    def tool_turn(self, first: Answer) -> list[Any]:
        result = {"type": "tool_result", "tool_use_id": first.calls[0][0], "content": RESULT}
        return [first.turn, {"role": "user", "content": [result]}]

    def thinking_turn(self, first: Answer) -> list[Any]:
        return [first.turn, {"role": "user", "content": FOLLOW_UP}]

    def fail(self, model: str, stream: bool = False) -> tuple[int, str, Any]:
        try:
            self.sdk.messages.create(model=model, max_tokens=8, messages=[{"role": "user", "content": "hi"}],
                                     stream=stream)
        except anthropic.APIStatusError as exc:
            assert exc.body["type"] == "error", exc.body
            return exc.status_code, exc.message, exc.body["error"]
        raise AssertionError("no error")

    def broken_stream(self, model: str) -> Exception:
        try:
            with self.sdk.messages.stream(model=model, max_tokens=64,
                                          messages=[{"role": "user", "content": "hi"}]) as stream:
                for _ in stream:
                    pass
        except anthropic.APIStatusError as exc:
            return exc
        raise AssertionError("the stream ended without an error")


class Responses:
    name = "responses"
    stops: ClassVar[dict[str, str]] = {"end": "completed", "tool": "completed", "max": "incomplete:max_output_tokens"}
    signs = True

    def __init__(self, url: str) -> None:
        self.sdk = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0)

    def kwargs(self, ask: Ask) -> dict[str, Any]:
        kw: dict[str, Any] = {}
        if ask.tools:
            kw["tools"] = [{"type": "function", "name": "get_weather", "description": DESCRIPTION,
                            "parameters": SCHEMA, "strict": False}]
        if ask.thinking:
            kw.update(reasoning={"effort": "low", "summary": "auto"}, store=False,
                      include=["reasoning.encrypted_content"])
        if ask.max_tokens:
            kw["max_output_tokens"] = ask.max_tokens
        return kw

    def ask(self, model: str, ask: Ask, history: list[Any] | None = None) -> Answer:
        items = [{"role": "user", "content": QUESTION}, *(history or [])]
        if not ask.stream:
            return self.read(self.sdk.responses.create(model=model, input=items, **self.kwargs(ask)))
        if ask.max_tokens:  # the SDK's accumulator wants response.completed: read the events
            events = list(self.sdk.responses.create(model=model, input=items, stream=True, **self.kwargs(ask)))
            final = next(e for e in events if e.type == "response.incomplete")
            answer = self.read(final.response)
        else:
            with self.sdk.responses.stream(model=model, input=items, **self.kwargs(ask)) as stream:
                events = list(stream)
                answer = self.read(stream.get_final_response())
        answer.stray_errors = sum(e.type == "error" for e in events)
        return answer

    @staticmethod
    def read(r: Any) -> Answer:
        calls = [(o.call_id, o.name, json.loads(o.arguments)) for o in r.output if o.type == "function_call"]
        reasoning = [o for o in r.output if o.type == "reasoning"]
        thinking = "".join(s.text for o in reasoning for s in o.summary)
        signature = next((o.encrypted_content for o in reasoning if o.encrypted_content), None)
        stop = r.status + (f":{r.incomplete_details.reason}" if r.incomplete_details else "")
        usage = (r.usage.input_tokens, r.usage.output_tokens) if r.usage else None
        turn = [o.model_dump(exclude_none=True) for o in r.output]
        return Answer(r.output_text, stop, usage, calls, thinking, signature, turn)

    def tool_turn(self, first: Answer) -> list[Any]:
        return [*first.turn, {"type": "function_call_output", "call_id": first.calls[0][0], "output": RESULT}]

    def thinking_turn(self, first: Answer) -> list[Any]:
        return [*first.turn, {"role": "user", "content": FOLLOW_UP}]

    def fail(self, model: str, stream: bool = False) -> tuple[int, str, Any]:
        try:
            self.sdk.responses.create(model=model, input="hi", stream=stream)
        except openai.APIStatusError as exc:
            return exc.status_code, exc.message, exc.body
        raise AssertionError("no error")

    def broken_stream(self, model: str) -> Exception:
        events = list(self.sdk.responses.create(model=model, input="hi", stream=True))
        kinds = [e.type for e in events]
        assert kinds[-1] in ("error", "response.failed"), kinds  # either ends a failed stream
        messages = [e.message for e in events if e.type == "error"]
        messages += [e.response.error.message for e in events if e.type == "response.failed" and e.response.error]
        return RuntimeError(" / ".join(messages))


class Gemini:
    name = "gemini"
    stops: ClassVar[dict[str, str]] = {"end": "STOP", "tool": "STOP", "max": "MAX_TOKENS"}
    signs = True

    def __init__(self, url: str) -> None:
        self.sdk = genai.Client(api_key="x", http_options=gtypes.HttpOptions(base_url=url))

    def config(self, ask: Ask) -> gtypes.GenerateContentConfig:
        config = gtypes.GenerateContentConfig(max_output_tokens=ask.max_tokens)
        if ask.tools:
            decl = gtypes.FunctionDeclaration(name="get_weather", description=DESCRIPTION,
                                              parameters_json_schema=SCHEMA)
            config.tools = [gtypes.Tool(function_declarations=[decl])]
            config.automatic_function_calling = gtypes.AutomaticFunctionCallingConfig(disable=True)
        if ask.thinking:
            config.thinking_config = gtypes.ThinkingConfig(include_thoughts=True, thinking_budget=1024)
        return config

    def ask(self, model: str, ask: Ask, history: list[Any] | None = None) -> Answer:
        contents = [gtypes.Content(role="user", parts=[gtypes.Part(text=QUESTION)]), *(history or [])]
        if not ask.stream:
            r = self.sdk.models.generate_content(model=model, contents=contents, config=self.config(ask))
            return self.read(r.candidates[0].content.parts, r.candidates[0].finish_reason, r.usage_metadata)
        chunks = list(self.sdk.models.generate_content_stream(model=model, contents=contents, config=self.config(ask)))
        parts = [p for c in chunks if c.candidates and c.candidates[0].content
                 for p in c.candidates[0].content.parts or []]
        finish = next(c.candidates[0].finish_reason for c in reversed(chunks) if c.candidates)
        return self.read(parts, finish, chunks[-1].usage_metadata)

    @staticmethod
    def read(parts: list[gtypes.Part], finish: Any, meta: Any) -> Answer:
        text = "".join(p.text or "" for p in parts if not p.thought)
        thinking = "".join(p.text or "" for p in parts if p.thought)
        calls = [(p.function_call.id, p.function_call.name, p.function_call.args) for p in parts if p.function_call]
        sig = next((p.thought_signature for p in parts if p.thought_signature), None)
        usage = (meta.prompt_token_count, meta.candidates_token_count) if meta else None
        turn = gtypes.Content(role="model", parts=parts)
        signature = base64.b64encode(sig).decode() if sig else None
        return Answer(text, finish.value if finish else "", usage, calls, thinking, signature, turn)

    def tool_turn(self, first: Answer) -> list[Any]:
        call_id, name, _ = first.calls[0]
        response = gtypes.FunctionResponse(id=call_id, name=name, response={"result": RESULT})
        return [first.turn, gtypes.Content(role="user", parts=[gtypes.Part(function_response=response)])]

    def thinking_turn(self, first: Answer) -> list[Any]:
        return [first.turn, gtypes.Content(role="user", parts=[gtypes.Part(text=FOLLOW_UP)])]

    def fail(self, model: str, stream: bool = False) -> tuple[int, str, Any]:
        try:
            if stream:
                list(self.sdk.models.generate_content_stream(model=model, contents="hi"))
            else:
                self.sdk.models.generate_content(model=model, contents="hi")
        except genai.errors.APIError as exc:
            return exc.code, exc.message or "", exc.status
        raise AssertionError("no error")

    def broken_stream(self, model: str) -> Exception:
        try:
            for _ in self.sdk.models.generate_content_stream(model=model, contents="hi"):
                pass
        except genai.errors.APIError as exc:
            return exc
        raise AssertionError("the stream ended without an error")


class Ollama:
    name = "ollama"
    stops: ClassVar[dict[str, str]] = {"end": "stop", "tool": "stop", "max": "length"}
    signs = False

    def __init__(self, url: str) -> None:
        self.sdk = ollama.Client(host=url)

    def kwargs(self, ask: Ask) -> dict[str, Any]:
        kw: dict[str, Any] = {"stream": ask.stream}
        if ask.tools:
            kw["tools"] = [{"type": "function", "function": {"name": "get_weather", "description": DESCRIPTION,
                                                            "parameters": SCHEMA}}]
        if ask.thinking:
            kw["think"] = True
        if ask.max_tokens:
            kw["options"] = {"num_predict": ask.max_tokens}
        return kw

    def ask(self, model: str, ask: Ask, history: list[Any] | None = None) -> Answer:
        messages = [{"role": "user", "content": QUESTION}, *(history or [])]
        reply = self.sdk.chat(model=model, messages=messages, **self.kwargs(ask))
        parts = list(reply) if ask.stream else [reply]
        last = parts[-1]
        assert last.done and all(not p.done for p in parts[:-1])
        text = "".join(p.message.content or "" for p in parts)
        thinking = "".join(p.message.thinking or "" for p in parts)
        tool_calls = [c for p in parts for c in p.message.tool_calls or []]
        calls = [(None, c.function.name, dict(c.function.arguments)) for c in tool_calls]
        turn = {"role": "assistant", "content": text, "tool_calls": tool_calls} if tool_calls else None
        usage = (last.prompt_eval_count, last.eval_count)
        return Answer(text, last.done_reason, usage, calls, thinking, None,
                      turn or {"role": "assistant", "content": text})

    def tool_turn(self, first: Answer) -> list[Any]:
        return [first.turn, {"role": "tool", "content": RESULT, "tool_name": first.calls[0][1]}]

    def thinking_turn(self, first: Answer) -> list[Any]:
        return [first.turn, {"role": "user", "content": FOLLOW_UP}]

    def fail(self, model: str, stream: bool = False) -> tuple[int, str, Any]:
        try:
            reply = self.sdk.chat(model=model, messages=[{"role": "user", "content": "hi"}], stream=stream)
            if stream:
                list(reply)
        except ollama.ResponseError as exc:
            return exc.status_code, exc.error, None
        raise AssertionError("no error")

    def broken_stream(self, model: str) -> Exception:
        try:
            for _ in self.sdk.chat(model=model, messages=[{"role": "user", "content": "hi"}], stream=True):
                pass
        except ollama.ResponseError as exc:
            return exc
        raise AssertionError("the stream ended without an error")


CLIENTS: dict[str, type] = {c.name: c for c in (OpenAIChat, Anthropic, Responses, Gemini, Ollama)}
