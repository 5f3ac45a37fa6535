"""A mock upstream whose usage has every kind of count: prompt-cache reads and writes, and
reasoning tokens, in OpenAI Chat and Anthropic shapes, streamed and not.

==========================  =================================================================
route                       usage it reports (the same prompt in both dialects: 100 tokens)
==========================  =================================================================
POST /v1/chat/completions   ``prompt_tokens`` 100 (``cached_tokens`` 40), ``completion_tokens``
                            20 (``reasoning_tokens`` 5); streamed only in the final usage-only
                            chunk, and only when ``stream_options.include_usage`` is asked
POST /v1/messages           ``input_tokens`` 10, ``cache_read_input_tokens`` 40,
                            ``cache_creation_input_tokens`` 50, ``output_tokens`` 20; streamed:
                            the input side in ``message_start``, output 1 there and 20 in
                            ``message_delta``
==========================  =================================================================
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.support.mock_server import MockServer

PROMPT, CACHED, WRITTEN, OUTPUT, REASONING = 100, 40, 50, 20, 5
TEXT = "Cached hello."


def _sse(data: dict[str, Any], event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return (head + "data: " + json.dumps(data) + "\n\n").encode()


class UsageUpstream(MockServer):
    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_post("/v1/messages", self.messages)

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await self.record(request)
        usage = {"prompt_tokens": PROMPT, "completion_tokens": OUTPUT, "total_tokens": PROMPT + OUTPUT,
                 "prompt_tokens_details": {"cached_tokens": CACHED},
                 "completion_tokens_details": {"reasoning_tokens": REASONING}}
        base = {"id": "chatcmpl-u", "created": 1, "model": body["model"]}
        if not body.get("stream"):
            message = {"role": "assistant", "content": TEXT}
            return web.json_response({**base, "object": "chat.completion", "usage": usage,
                                      "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})
        resp = await self.sse(request)
        chunk = {**base, "object": "chat.completion.chunk"}
        await resp.write(_sse({**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": TEXT},
                                                     "finish_reason": None}]}))
        await resp.write(_sse({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
        if (body.get("stream_options") or {}).get("include_usage"):
            await resp.write(_sse({**chunk, "choices": [], "usage": usage}))
        await resp.write(b"data: [DONE]\n\n")
        return resp

    async def messages(self, request: web.Request) -> web.StreamResponse:
        body = await self.record(request)
        usage = {"input_tokens": PROMPT - CACHED - WRITTEN, "output_tokens": OUTPUT,
                 "cache_read_input_tokens": CACHED, "cache_creation_input_tokens": WRITTEN}
        message = {"id": "msg_u", "type": "message", "role": "assistant", "model": body["model"],
                   "stop_sequence": None}
        if not body.get("stream"):
            return web.json_response({**message, "content": [{"type": "text", "text": TEXT}],
                                      "stop_reason": "end_turn", "usage": usage})
        resp = await self.sse(request)
        start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
        await resp.write(_sse({"type": "message_start", "message": start}, "message_start"))
        await resp.write(_sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text",
                                                                                            "text": ""}},
                              "content_block_start"))
        await resp.write(_sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta",
                                                                                    "text": TEXT}},
                              "content_block_delta"))
        await resp.write(_sse({"type": "content_block_stop", "index": 0}, "content_block_stop"))
        await resp.write(_sse({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                               "usage": {"output_tokens": OUTPUT}}, "message_delta"))
        await resp.write(_sse({"type": "message_stop"}, "message_stop"))
        return resp
