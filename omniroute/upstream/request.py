"""HTTP/1.1 request heads, written by hand: the easy direction of the wire format.

``encode_target`` parses a URL once into the request line + ``Host`` prefix (the pool caches
it per method and URL); ``encode_request`` adds ``Content-Length``, the caller's headers and
the body, ready for one write; ``encode_head`` writes the head alone for a streamed body
(``Content-Length`` when its size is known, else ``Transfer-Encoding: chunked`` with
``encode_chunk`` framing each piece). Callers never pass ``Host``, ``Content-Length`` or
``Transfer-Encoding``; a CR or LF in a header name or value raises ``ValueError`` (no header
injection). Responses are the hard direction: ``upstream.parser``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def encode_target(method: str, url: str) -> tuple[str, str, int, bytes]:
    """An http(s) URL → (scheme, host, port, ``"METHOD /path?query HTTP/1.1\\r\\nHost: …\\r\\n"``)."""
    parts = urlsplit(url)
    scheme, host = parts.scheme, parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        raise ValueError(f"unsupported upstream URL {url!r}")
    port = parts.port or _DEFAULT_PORTS[scheme]
    authority = f"[{host}]" if ":" in host else host
    if port != _DEFAULT_PORTS[scheme]:
        authority = f"{authority}:{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port, f"{method} {path} HTTP/1.1\r\nHost: {authority}\r\n".encode()


def encode_request(prefix: bytes, headers: dict[str, str], body: bytes) -> bytes:
    """The whole request, ready for one write; CR/LF in a header is refused (no injection)."""
    return b"".join((encode_head(prefix, headers, len(body)), body))


def encode_head(prefix: bytes, headers: dict[str, str], length: int | None) -> bytes:
    """The request head with ``Content-Length: length``, or ``Transfer-Encoding: chunked``
    when the length is not known (``None``: a streamed body, ``encode_chunk`` frames it)."""
    block = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
    if block.count("\n") != len(headers) or block.count("\r") != len(headers):
        raise ValueError("header names and values must not contain CR or LF")
    framing = "Transfer-Encoding: chunked" if length is None else f"Content-Length: {length}"
    return b"".join((prefix, f"{framing}\r\n{block}\r\n".encode("latin-1")))


def encode_chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (``b""`` gives the last chunk, ending the body)."""
    return b"%x\r\n%s\r\n" % (len(data), data) if data else b"0\r\n\r\n"
