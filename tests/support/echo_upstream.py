"""A mock that answers any provider's chat path in that provider's format, recording the path,
headers and body of every request: the provider-table test sends one request per row and
alias through the gateway and checks what arrived here.

==========================================  ======================================
path ends with                              answer
==========================================  ======================================
``/messages``                               an Anthropic message
``:generateContent``                        a Gemini ``GenerateContentResponse``
``/api/chat``                               an Ollama chat answer
``/responses``                              an OpenAI Responses answer
anything else (``/chat/completions``,       an OpenAI chat completion
Pollinations' ``/openai``)
==========================================  ======================================
"""

from __future__ import annotations

from aiohttp import web

from tests.support.mock_server import MockServer

TEXT = "echo"


class EchoUpstream(MockServer):
    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self.answer)

    async def answer(self, request: web.Request) -> web.Response:
        await self.record(request)
        path = request.path
        if path.endswith("/messages"):
            return web.json_response({"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                                      "content": [{"type": "text", "text": TEXT}], "stop_reason": "end_turn",
                                      "usage": {"input_tokens": 1, "output_tokens": 1}})
        if path.endswith(":generateContent"):
            return web.json_response({"candidates": [{"content": {"role": "model", "parts": [{"text": TEXT}]},
                                                      "finishReason": "STOP"}],
                                      "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1}})
        if path.endswith("/responses"):
            return web.json_response({"id": "resp_1", "object": "response", "created_at": 1, "status": "completed",
                                      "model": "m", "output": [{"type": "message", "id": "msg_1", "role": "assistant",
                                                                "status": "completed", "content": [
                                                                    {"type": "output_text", "text": TEXT,
                                                                     "annotations": []}]}],
                                      "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}})
        if path.endswith("/api/chat"):
            return web.json_response({"model": "m", "message": {"role": "assistant", "content": TEXT}, "done": True,
                                      "done_reason": "stop", "prompt_eval_count": 1, "eval_count": 1})
        return web.json_response({"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
                                  "choices": [{"index": 0, "message": {"role": "assistant", "content": TEXT},
                                               "finish_reason": "stop"}],
                                  "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
