"""Raw requests to a running gateway in each client format (below the SDKs, so a test controls
every byte of the body and every header), and the gateway's answers read back in that
format's own dialect.

=========  ===============================================  ==========================================
client     endpoint                                         error body (``error_of`` checks the shape)
=========  ===============================================  ==========================================
openai     ``POST /v1/chat/completions``                    ``{"error": {message, type, param, code}}``
anthropic  ``POST /v1/messages``                            ``{"type": "error", "error": {type,
                                                            message}}``
responses  ``POST /v1/responses``                           ``{"error": {message, type, param, code}}``
gemini     ``POST /v1beta/models/{model}:generateContent``  ``{"error": {code, message, status}}``
           (``:streamGenerateContent?alt=sse`` streamed)
ollama     ``POST /api/chat``                               ``{"error": "message"}``
=========  ===============================================  ==========================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.support.gateway import RunningGateway
from tests.support.stream_ends import anthropic_end, chat_end, gemini_end, ollama_end, responses_end

CLIENT_FORMATS = ("openai", "anthropic", "responses", "gemini", "ollama")
#: client → the format module name the gateway's code uses for it
FORMAT_OF = {"openai": "openai_chat", "anthropic": "anthropic", "responses": "openai_responses", "gemini": "gemini",
             "ollama": "ollama"}
PATHS = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages", "responses": "/v1/responses",
         "ollama": "/api/chat"}
#: client → the check that a whole streamed answer ended as that format ends a stream
STREAM_ENDS: dict[str, Callable[[bytes], None]] = {"openai": chat_end, "anthropic": anthropic_end,
                                                   "responses": responses_end, "gemini": gemini_end,
                                                   "ollama": ollama_end}


def post(gw: RunningGateway, client: str, model: str, body: dict[str, Any],
         headers: dict[str, str] | None = None) -> httpx.Response:
    """``body`` sent as ``client`` would send it, asking for ``model`` (in the body, or in the
    URL for Gemini, whose body's own ``stream`` key — not a Gemini field — picks the method)."""
    if client == "gemini":
        body = dict(body)
        action = "streamGenerateContent?alt=sse" if body.pop("stream", False) else "generateContent"
        return gw.http.post(f"/v1beta/models/{model}:{action}", json=body, headers=headers)
    return gw.http.post(PATHS[client], json={**body, "model": model}, headers=headers)


def error_of(client: str, resp: httpx.Response) -> dict[str, Any]:
    """The error an answer carries, after checking it has ``client``'s dialect: a dict with at
    least ``message`` (and ``type``/``param``/``code`` or ``status`` where the dialect has them)."""
    body = resp.json()
    if client in ("openai", "responses"):
        assert set(body) == {"error"} and {"message", "type", "param", "code"} <= set(body["error"]), body
        return body["error"]
    if client == "anthropic":
        assert body["type"] == "error" and {"type", "message"} <= set(body["error"]), body
        return body["error"]
    if client == "gemini":
        assert set(body) == {"error"} and {"code", "message", "status"} <= set(body["error"]), body
        assert body["error"]["code"] == resp.status_code, body
        return body["error"]
    assert set(body) == {"error"} and isinstance(body["error"], str), body
    return {"message": body["error"]}
