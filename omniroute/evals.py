"""Eval suites: prompts run through the gateway's own pipeline, answers checked.

A case is ``{"input", "expect"}``: ``input`` is a user prompt (or OpenAI Chat
``messages``); each case is sent as a non-streaming OpenAI Chat request for the suite's
``model`` through ``pipeline.serve`` — the same routing, fallback, hooks (system prompt,
thinking budget, limits, budgets) and translation as a client's request, with no HTTP hop —
and the answer's text is checked. Every expectation given must hold:

==============  =========================================================================
expectation     the answer's text …
==============  =========================================================================
``contains``    contains the string (or every string of a list)
``equals``      equals it, surrounding whitespace ignored
``regex``       matches it somewhere (Python ``re.search``)
``jsonSchema``  is JSON (a fenced ```json block is unwrapped) valid against the schema
                (``jsonschema``, the draft the schema names, else 2020-12)
==============  =========================================================================

A case whose request fails (unknown model, upstream error) fails with the error's message.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import jsonschema
import msgspec

from omniroute.answers import collect_answer
from omniroute.context import RequestContext
from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats import openai_chat
from omniroute.gateway import Gateway
from omniroute.pipeline import serve
from omniroute.store import EvalCase, EvalSuite

EXPECTATIONS = ("contains", "equals", "regex", "jsonSchema")
MAX_CASES = 1000
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)


def bad(field: str, why: str) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, f"'{field}' {why}", param=field)


def check_case(case: Any, i: int) -> EvalCase:
    """A case from the API, or a 400 naming ``cases[i]…``."""
    at = f"cases[{i}]"
    if not isinstance(case, dict) or set(case) - {"input", "expect"}:
        raise bad(at, "must be {\"input\", \"expect\"}")
    given = case.get("input")
    if not (isinstance(given, str) and given.strip()) and not (
            isinstance(given, list) and given and all(isinstance(m, dict) and "role" in m for m in given)):
        raise bad(f"{at}.input", "must be a prompt or a list of chat messages with roles")
    expect = case.get("expect")
    if not isinstance(expect, dict) or not expect or set(expect) - set(EXPECTATIONS):
        raise bad(f"{at}.expect", f"must be an object with one or more of {', '.join(EXPECTATIONS)}")
    _check_expect(expect, f"{at}.expect")
    return EvalCase(given, expect)


def _check_expect(expect: dict[str, Any], at: str) -> None:
    contains = expect.get("contains")
    if contains is not None and not (isinstance(contains, str) or (
            isinstance(contains, list) and contains and all(isinstance(c, str) for c in contains))):
        raise bad(f"{at}.contains", "must be a string or a list of strings")
    if "equals" in expect and not isinstance(expect["equals"], str):
        raise bad(f"{at}.equals", "must be a string")
    if "regex" in expect:
        try:
            re.compile(expect["regex"])
        except (re.error, TypeError) as exc:
            raise bad(f"{at}.regex", f"is not a valid regular expression: {exc}") from None
    if "jsonSchema" in expect:
        schema = expect["jsonSchema"]
        try:
            jsonschema.validators.validator_for(schema).check_schema(schema)
        except (jsonschema.SchemaError, TypeError, AttributeError) as exc:
            raise bad(f"{at}.jsonSchema", f"is not a valid JSON Schema: {getattr(exc, 'message', exc)}") from None


def judge(expect: dict[str, Any], text: str) -> str | None:
    """Why ``text`` fails ``expect``, or ``None`` when it passes."""
    contains = expect.get("contains")
    for part in [contains] if isinstance(contains, str) else contains or []:
        if part not in text:
            return f"does not contain {part!r}"
    if "equals" in expect and text.strip() != expect["equals"].strip():
        return f"is not equal to {expect['equals']!r}"
    if "regex" in expect and re.search(expect["regex"], text) is None:
        return f"does not match /{expect['regex']}/"
    if "jsonSchema" in expect:
        fenced = _FENCE.match(text.strip())
        try:
            value = json.loads(fenced.group(1) if fenced else text)
        except ValueError:
            return "is not JSON"
        errors = sorted(jsonschema.validators.validator_for(expect["jsonSchema"])(expect["jsonSchema"])
                        .iter_errors(value), key=lambda e: list(e.path))
        if errors:
            where = "/".join(str(p) for p in errors[0].path) or "(root)"
            return f"does not match the schema at {where}: {errors[0].message}"
    return None


async def run_suite(gw: Gateway, suite: EvalSuite) -> dict[str, Any]:
    """Run every case in order; the scorecard (also stored as the suite's ``last_run``)."""
    began = time.time()
    cases = [await run_case(gw, suite, i, case) for i, case in enumerate(suite.cases)]
    passed = sum(c["passed"] for c in cases)
    return {"suiteId": suite.id, "name": suite.name, "model": suite.model, "passed": passed,
            "failed": len(cases) - passed, "total": len(cases), "ranAt": began,
            "durationMs": round((time.time() - began) * 1000, 1), "cases": cases}


async def run_case(gw: Gateway, suite: EvalSuite, index: int, case: EvalCase) -> dict[str, Any]:
    started = time.perf_counter()
    messages = [{"role": "user", "content": case.input}] if isinstance(case.input, str) else case.input
    ctx = RequestContext(started, openai_chat.NAME)
    ctx.client, ctx.model, ctx.stream = openai_chat, suite.model, False
    ctx.body = msgspec.json.encode({"model": suite.model, "messages": messages})
    answer = _Answer()
    output, reason = "", None
    try:
        openai_chat.decode_request(ctx.body)  # a bad messages list is this case's failure, named
        await serve(gw, ctx, answer.send, answer.receive)
        output = answer.text()
        reason = judge(case.expect, output)
    except GatewayError as err:
        ctx.error = err
        reason = f"request failed ({err.status}): {err.message}"
    if gw.hooks.posts:
        gw.hooks.schedule_post(ctx, collect_answer)
    latency = round((time.perf_counter() - started) * 1000, 1)
    return {"index": index, "input": case.input, "expect": case.expect, "output": output, "passed": reason is None,
            "reason": reason, "servedBy": ctx.served_model, "latencyMs": latency}


class _Answer:
    """The ASGI side of an in-process request: collects what is sent; never disconnects."""

    def __init__(self) -> None:
        self.status = 0
        self.parts: list[bytes] = []

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        else:
            self.parts.append(message.get("body", b""))

    async def receive(self) -> dict[str, Any]:
        await asyncio.get_running_loop().create_future()  # no client to leave
        return {"type": "http.disconnect"}

    def text(self) -> str:
        body = msgspec.json.decode(b"".join(self.parts))
        if self.status >= 400:
            raise GatewayError(ErrorKind.UPSTREAM_ERROR, str(body.get("error", body)), status=self.status)
        message = (body.get("choices") or [{}])[0].get("message") or {}
        return message.get("content") or ""
