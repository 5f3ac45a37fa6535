"""Below the SDKs (some skip what follows their end marker): what a complete answer stream
of each client format ends with, checked on the raw bytes.

Each checker takes a whole response body and fails (``AssertionError``) unless the stream ends
with its format's end event and carries no error event: Chat ``data: [DONE]``, Anthropic
``message_stop`` after exactly one ``message_delta``, Responses ``response.completed`` with
gap-free ``sequence_number``s, Gemini a last chunk with ``finishReason: STOP`` (SSE or one JSON
array), Ollama a last record with ``done: true``.
"""

from __future__ import annotations

import json


def sse(body: bytes) -> list[tuple[str | None, str]]:
    frames = []
    for block in body.replace(b"\r\n", b"\n").decode().split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        event = next((line[7:] for line in lines if line.startswith("event: ")), None)
        data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
        if lines:
            frames.append((event, data))
    return frames


def chat_end(body: bytes) -> None:
    frames = sse(body)
    assert frames[-1][1] == "[DONE]" and not any('"error"' in d for _, d in frames[:-1]), frames[-3:]


def anthropic_end(body: bytes) -> None:
    frames = sse(body)
    assert frames[-1][0] == "message_stop" and all(e != "error" for e, _ in frames), frames[-3:]
    assert [e for e, _ in frames if e == "message_delta"] == ["message_delta"]


def responses_end(body: bytes) -> None:
    events = [json.loads(d) for _, d in sse(body)]
    assert events[-1]["type"] == "response.completed" and all(e["type"] != "error" for e in events), events[-2:]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))


def gemini_end(body: bytes) -> None:
    chunks = [json.loads(d) for _, d in sse(body)] if body.startswith(b"data:") else json.loads(body)
    assert all("error" not in c for c in chunks) and chunks[-1]["candidates"][0]["finishReason"] == "STOP"


def ollama_end(body: bytes) -> None:
    records = [json.loads(line) for line in body.splitlines() if line.strip()]
    assert records[-1]["done"] is True and all("error" not in r for r in records), records[-2:]
    assert all(r["done"] is False for r in records[:-1])
