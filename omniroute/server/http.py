"""Request reading and response sending on raw ASGI, with prebuilt messages.

``HttpRequest`` wraps the scope lazily (headers become a dict only when asked for);
``read_body`` enforces the body limit from ``Content-Length`` before reading and again while
reading (chunked uploads). Response helpers send prebuilt header lists.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import msgspec

from omniroute.context import RequestContext
from omniroute.errors import ErrorKind, GatewayError
from omniroute.relay import JSON_HEADERS, NDJSON_HEADERS, SSE_HEADERS

__all__ = ["JSON_HEADERS", "NDJSON_HEADERS", "SSE_HEADERS", "HttpRequest", "send_bytes", "send_json"]

Scope = dict[str, Any]

_json = msgspec.json.Encoder()
_OPTION_HEADERS = (b"idempotency-key", b"x-request-id")


class HttpRequest:
    __slots__ = ("_headers", "ctx", "path_params", "receive", "scope")

    def __init__(self, scope: Scope, receive: Any, ctx: RequestContext) -> None:
        self.scope = scope
        self.receive = receive
        self.ctx = ctx
        self._headers: dict[bytes, bytes] | None = None
        self.path_params: dict[str, str] = {}

    @property
    def method(self) -> str:
        return self.scope["method"]

    @property
    def path(self) -> str:
        return self.scope["path"]

    @property
    def headers(self) -> dict[bytes, bytes]:
        if self._headers is None:
            self._headers = dict(self.scope["headers"])
        return self._headers

    def header(self, name: bytes) -> str | None:
        value = self.headers.get(name)
        return value.decode("latin-1") if value is not None else None

    def pick_headers(self, names: tuple[bytes, ...]) -> dict[str, str] | None:
        """The request's headers named in ``names`` (lower-case), or ``None`` when it has none."""
        if not names:
            return None
        picked = {k.decode("latin-1"): v.decode("latin-1") for k, v in self.scope["headers"] if k in names}
        return picked or None

    def client_headers(self, forward: tuple[bytes, ...]) -> tuple[dict[str, str] | None, dict[bytes, bytes] | None]:
        """One pass over the headers of a model request: (those to forward to a same-format
        upstream — ``forward`` — or ``None``; the gateway's own options — ``x-omniroute-*``,
        ``idempotency-key`` and ``x-request-id`` — or ``None``)."""
        picked: dict[str, str] | None = None
        options: dict[bytes, bytes] | None = None
        for name, value in self.scope["headers"]:
            if name in forward:
                if picked is None:
                    picked = {}
                picked[name.decode("latin-1")] = value.decode("latin-1")
            elif name.startswith(b"x-omniroute-") or name in _OPTION_HEADERS:
                if options is None:
                    options = {}
                options[name] = value
        return picked, options

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.scope.get("query_string", b"").decode("latin-1")))

    @property
    def client_host(self) -> str:
        client = self.scope.get("client")
        return client[0] if client else ""

    async def read_body(self, limit: int) -> bytes:
        """The whole body (413 over ``limit``). With ``Content-Length`` it ends at that many
        bytes: Granian follows the last piece with an empty ``http.request`` message, and
        waiting for it cost ~90 µs a request at one connection (bench/overhead.py --floor)."""
        expected = self._declared(limit)
        message = await self.receive()
        body = message.get("body", b"")
        if not message.get("more_body", False) or len(body) == expected:
            if len(body) > limit:
                raise _too_large(limit)
            return body
        parts = [body]
        size = len(body)
        while message.get("more_body", False) and size != expected:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise GatewayError(ErrorKind.INVALID_REQUEST, "client disconnected while sending the body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            parts.append(chunk)
        return b"".join(parts)

    def _declared(self, limit: int) -> int | None:
        """``Content-Length`` (None without one); 413 when it is over ``limit``."""
        declared = self.headers.get(b"content-length")
        if declared is None or not declared.isdigit():
            return None
        length = int(declared)
        if length > limit:
            raise _too_large(limit)
        return length

    async def stream_body(self, limit: int) -> AsyncIterator[bytes]:
        """The body's pieces as they arrive, never more than ``limit`` bytes in all (413, from
        ``Content-Length`` before reading and again while reading): uploads read this way
        are never held whole."""
        expected = self._declared(limit)
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise GatewayError(ErrorKind.INVALID_REQUEST, "client disconnected while sending the body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            if chunk:
                yield chunk
            if not message.get("more_body", False) or size == expected:
                return

    async def read_json(self, limit: int) -> Any:
        body = await self.read_body(limit)
        if not body.strip():
            return {}
        try:
            return msgspec.json.decode(body)
        except msgspec.DecodeError as exc:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"request body is not valid JSON: {exc}") from None


def _too_large(limit: int) -> GatewayError:
    return GatewayError(ErrorKind.PAYLOAD_TOO_LARGE, f"request body exceeds the limit of {limit} bytes")


async def send_bytes(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]] = JSON_HEADERS) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Any, status: int, payload: Any, headers: list[tuple[bytes, bytes]] = JSON_HEADERS) -> None:
    await send_bytes(send, status, _json.encode(payload), headers)
