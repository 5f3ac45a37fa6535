"""The server's floor: an ASGI app that does nothing but read the request and answer a fixed
body, served by Granian with the gateway's own settings (``start_floor``). Measured beside
the gateway in the same run, it shows what any ASGI app under Granian adds over the direct
mock on this machine — the part of the gateway's added latency that no gateway code can
remove.

``FLOOR_BODY``: the file answered (JSON); ``FLOOR_STREAM``: a file answered as
``text/event-stream`` to requests whose body asks for ``"stream": true``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def _answer(env: str, ctype: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    path = os.environ.get(env)
    body = Path(path).read_bytes() if path else b"{}"
    return [(b"content-type", ctype), (b"content-length", str(len(body)).encode())], body


JSON = _answer("FLOOR_BODY", b"application/json")
STREAM = _answer("FLOOR_STREAM", b"text/event-stream")


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "http":
        return
    expected = next((int(v) for k, v in scope["headers"] if k == b"content-length"), None)
    parts, size = [], 0
    while True:  # as the gateway reads (server.http.read_body): up to Content-Length
        message = await receive()
        parts.append(message.get("body", b""))
        size += len(parts[-1])
        if not message.get("more_body", False) or size == expected:
            break
    body = b"".join(parts)
    headers, answer = STREAM if b'"stream": true' in body or b'"stream":true' in body else JSON
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})
