"""Hooks the tests load into a real gateway with ``--hooks tests.support.hooks:<factory>``.

=============  ===================================================================
factory        what the hook does
=============  ===================================================================
``answering``  pre: answers a request whose last user text is ``ANSWER_ME`` with a
               canonical ``Response`` (text ``ANSWER``, usage 7 in / 3 out); no
               upstream is asked
``recorder``   post, ``needs_answer``: appends one JSON line per model request to
               the file named by ``$HOOK_LOG`` (served model, status of the last
               attempt, usage, text, error kind, whether the client left, the cache
               outcome)
``failing``    post: raises (the answer and the other post-hooks must not suffer)
=============  ===================================================================
"""

from __future__ import annotations

import json
import os
from typing import Any

from omniroute.canonical import Response, StopReason, TextBlock, Usage, text_of
from omniroute.context import RequestContext
from omniroute.hooks import Hook

ANSWER_ME = "hook, answer this yourself"
ANSWER = "Answered by a pre-hook."


class Answering(Hook):
    name = "answering"
    needs_request = True

    async def pre(self, ctx: RequestContext) -> Response | None:
        req = ctx.request
        assert req is not None  # needs_request: decoded before pre()
        last = req.messages[-1] if req.messages else None
        if last is None or last.role != "user" or text_of(last.content) != ANSWER_ME:
            return None
        return Response(id="hook-1", model="ignored", content=[TextBlock(ANSWER)], stop_reason=StopReason.END_TURN,
                        usage=Usage(input_tokens=7, output_tokens=3))


class Recorder(Hook):
    name = "recorder"
    needs_answer = True

    def __init__(self) -> None:
        self.path = os.environ["HOOK_LOG"]

    async def post(self, ctx: RequestContext) -> None:
        usage = ctx.usage
        record = {
            "model": ctx.model, "served": ctx.served_model, "stream": ctx.stream, "answeredBy": ctx.answered_by,
            "upstreamFormat": ctx.upstream_format, "status": ctx.upstream_status,
            "usage": [usage.input_tokens, usage.output_tokens] if usage else None,
            "text": text_of(ctx.response.content) if ctx.response else None,
            "error": ctx.error.kind.value if ctx.error else None, "disconnected": ctx.disconnected,
            "firstByte": ctx.first_byte > 0, "upstreamMs": ctx.upstream_ms, "cache": ctx.cache,
            "operation": ctx.operation, "units": ctx.units,
        }
        with open(self.path, "a") as out:
            out.write(json.dumps(record) + "\n")


class Failing(Hook):
    name = "failing"

    async def post(self, ctx: RequestContext) -> None:
        raise RuntimeError("this post-hook always fails")


def answering(gateway: Any) -> Answering:
    return Answering()


def recorder(gateway: Any) -> Recorder:
    return Recorder()


def failing(gateway: Any) -> Failing:
    return Failing()
