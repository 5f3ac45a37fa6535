"""The access log: one line per request, written by a thread, never by the request.

On when the log level is ``info`` or ``debug`` (``--log-level info``); at the default
(``warning``) the app holds no access log and a request does no work for it. When on, the
request path only measures (status and bytes, as it sends) and appends one tuple to a
deque (no lock, no thread wake-up); a daemon thread wakes every ``FLUSH_SECONDS``, formats
what piled up and writes it to stderr in one call, so a slow terminal or pipe never delays
an answer. Lines still queued at shutdown are written before the worker exits.

``--log-format plain`` (the default)::

    2026-12-02T22:50:01.532Z POST /v1/chat/completions 200 openai_chat openai/gpt-4o-mini upstream=200 \
12.41ms 912B id=5f1c-2a

    2026-12-02T22:50:02.101Z POST /v1/messages 404 anthropic - upstream=- 0.35ms 131B id=5f1c-2b \
error=not_found "unknown model 'claude-x'"

``--log-format json``: one object per line with the same facts, ``null`` where absent::

    {"ts": "...", "method": "POST", "path": "/v1/messages", "status": 404, "clientFormat": "anthropic",
     "servedModel": null, "upstreamStatus": null, "latencyMs": 0.35, "bytes": 131, "requestId": "5f1c-2b",
     "errorKind": "not_found", "error": "unknown model 'claude-x'"}

=================  ========================================================================
field              meaning
=================  ========================================================================
method, path       of the request (no query string: Gemini clients put keys there)
status             the status the client got (a stream that failed midway keeps its 200;
                   its ``error`` says what happened)
clientFormat       the endpoint's format (``-``/``null`` off the model endpoints)
servedModel        ``provider/model`` of the account that answered or failed last
upstreamStatus     that account's HTTP status (``0``: it never answered; ``-``: none asked)
latencyMs          arrival to the last byte sent
bytes              response body bytes sent
requestId          the client's ``X-Request-Id``, else ``<worker pid hex>-<counter hex>``
errorKind, error   for a 4xx/5xx answer or a failed stream: the reason
=================  ========================================================================
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from typing import IO, Any

import msgspec

from omniroute.context import RequestContext

FORMATS = ("plain", "json")
FLUSH_SECONDS = 0.1


class AccessLog:
    """A queue and the thread that drains it into ``stream`` (stderr by default)."""

    def __init__(self, log_format: str = "plain", stream: IO[str] | None = None) -> None:
        self.json = log_format == "json"
        self.stream = stream
        self.pending: deque[tuple[Any, ...]] = deque()
        self.stopping = threading.Event()
        self.prefix = f"{os.getpid():x}-"
        self.count = 0
        self.thread = threading.Thread(target=self._drain, name="omniroute-access-log", daemon=True)
        self.thread.start()

    def request_id(self, given: bytes | None) -> str:
        if given:
            return given.decode("latin-1")[:128]
        self.count += 1
        return f"{self.prefix}{self.count:x}"

    def record(self, method: str, path: str, status: int, sent: int, ctx: RequestContext, request_id: str) -> None:
        """Queue one line (the request path's only cost besides measuring)."""
        err = ctx.error
        self.pending.append((time.time(), method, path, status, ctx.client_format, ctx.served_model,
                        ctx.upstream_status, (time.perf_counter() - ctx.started) * 1000, sent, request_id,
                        err.kind.value if err is not None else None, err.message if err is not None else None))

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        self.stopping.set()
        self.thread.join(timeout=5)

    def _drain(self) -> None:
        while not self.stopping.wait(FLUSH_SECONDS):
            self._write()
        self._write()

    def _write(self) -> None:
        lines = []
        while self.pending:
            lines.append(self.format(self.pending.popleft()))
        if not lines:
            return
        stream = self.stream or sys.stderr
        try:
            stream.write("".join(lines))
            stream.flush()
        except (OSError, ValueError):  # the stream went away; the gateway keeps serving
            pass

    def format(self, item: tuple[Any, ...]) -> str:
        ts, method, path, status, fmt, model, upstream, ms, sent, rid, kind, message = item
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"
        if self.json:
            return msgspec.json.encode({
                "ts": stamp, "method": method, "path": path, "status": status, "clientFormat": fmt,
                "servedModel": model, "upstreamStatus": upstream, "latencyMs": round(ms, 2), "bytes": sent,
                "requestId": rid, "errorKind": kind, "error": message,
            }).decode() + "\n"
        line = (f"{stamp} {method} {path} {status} {fmt or '-'} {model or '-'} "
                f"upstream={'-' if upstream is None else upstream} {ms:.2f}ms {sent}B id={rid}")
        if kind is not None:
            line += f" error={kind} {msgspec.json.encode(message).decode()}"
        return line + "\n"
