"""Locust scenarios against a running OmniRoute (loopback only).

    locust -f loadtests/locustfile.py --headless -u 32 -r 8 --run-time 30s \
        --host http://127.0.0.1:20128

Environment: ``OMNIROUTE_MODEL`` (default ``mock/gpt-4o-mini``), ``OMNIROUTE_STREAM_MODEL``
(default ``mockstream/gpt-4o-mini``), ``OMNIROUTE_KEY`` (client key when ``require_api_key``).
Wire the mock upstream first (``bench/overhead.py`` does it for its own run; by hand:
``POST /api/provider-nodes`` + ``POST /api/providers``, see README). Three tasks, weighted
3:2:1 — non-streaming chat, streaming chat (the whole stream is read and must end in
``[DONE]``), and an Anthropic ``/v1/messages`` call translated to the same upstream.
Locust's own client adds milliseconds per request: use it for behaviour under sustained
mixed load; use ``bench/overhead.py`` for the gateway's added latency.
"""

from __future__ import annotations

import os

from locust import FastHttpUser, between, task

MODEL = os.environ.get("OMNIROUTE_MODEL", "mock/gpt-4o-mini")
STREAM_MODEL = os.environ.get("OMNIROUTE_STREAM_MODEL", "mockstream/gpt-4o-mini")
HEADERS = {"Authorization": f"Bearer {os.environ.get('OMNIROUTE_KEY', 'unused')}"}
MESSAGES = [
    {"role": "system", "content": "You are a concise assistant."},
    {"role": "user", "content": "What does a reverse proxy do in front of inference servers?"},
]


class GatewayUser(FastHttpUser):
    wait_time = between(0, 0.01)

    @task(3)
    def chat(self) -> None:
        body = {"model": MODEL, "messages": MESSAGES, "max_tokens": 64}
        with self.client.post("/v1/chat/completions", json=body, headers=HEADERS, catch_response=True) as resp:
            if resp.status_code != 200 or b'"chat.completion"' not in (resp.content or b""):
                resp.failure(f"status {resp.status_code}: {(resp.content or b'')[:200]!r}")

    @task(2)
    def chat_stream(self) -> None:
        body = {"model": STREAM_MODEL, "messages": MESSAGES, "stream": True}
        with self.client.post("/v1/chat/completions", json=body, headers=HEADERS, catch_response=True) as resp:
            if resp.status_code != 200 or not (resp.content or b"").endswith(b"data: [DONE]\n\n"):
                resp.failure(f"stream incomplete: status {resp.status_code}")

    @task(1)
    def anthropic_messages(self) -> None:
        body = {"model": MODEL, "max_tokens": 64, "messages": MESSAGES[1:], "system": MESSAGES[0]["content"]}
        with self.client.post("/v1/messages", json=body, headers=HEADERS, catch_response=True) as resp:
            if resp.status_code != 200 or b'"type":"message"' not in (resp.content or b"").replace(b" ", b""):
                resp.failure(f"status {resp.status_code}: {(resp.content or b'')[:200]!r}")
