"""Bodies as they are stored when body logging is on: capped, and with secrets redacted.

=================================================  =========================================
what                                               stored as
=================================================  =========================================
headers ``authorization``, ``proxy-authorization``,  ``[redacted]``
``x-api-key``, ``x-goog-api-key``, ``cookie``,
``set-cookie``
any other header                                   as sent
every occurrence of a secret the request carried   ``[redacted]``, in headers and bodies
(the client's key, however it was sent)
a JSON string member named like a secret           its value ``[redacted]``
(``api_key``, ``apiKey``, ``authorization``,
``password``, ``secret``, ``token``, …)
a body longer than ``maxBodyBytes``                its first ``maxBodyBytes`` bytes
                                                   (``…Truncated: true``)
=================================================  =========================================

Bodies are decoded as UTF-8 with replacement (a cut may split a character).
"""

from __future__ import annotations

import re

from omniroute.telemetry.records import BodyLog

REDACTED = "[redacted]"
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "x-goog-api-key", "cookie",
                            "set-cookie"})
_SECRET_MEMBER = re.compile(
    rb'("(?:[A-Za-z0-9_-]*(?:api[_-]?key|apikey|secret|password|passwd|token)[A-Za-z0-9_-]*|authorization|key)"'
    rb'\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE)
_MIN_SECRET = 8  # shorter values are not searched for (they would match ordinary text)


def redact_bytes(data: bytes, secrets: list[bytes]) -> bytes:
    for secret in secrets:
        if len(secret) >= _MIN_SECRET and secret in data:
            data = data.replace(secret, REDACTED.encode())
    return _SECRET_MEMBER.sub(rb'\1"' + REDACTED.encode() + b'"', data)


def body_log(headers: list[tuple[bytes, bytes]], request: bytes, response: bytes, limit: int,
             secrets: list[bytes]) -> BodyLog:
    """The stored form of one request's bodies (module table)."""
    kept = {}
    for name, value in headers:
        key = name.decode("latin-1").lower()
        if key in SECRET_HEADERS:
            kept[key] = REDACTED
        else:
            kept[key] = redact_bytes(value, secrets).decode("latin-1")
    request_text, request_cut = _text(request, limit, secrets)
    response_text, response_cut = _text(response, limit, secrets)
    return BodyLog(kept, request_text, response_text, request_cut, response_cut)


def secrets_of(headers: list[tuple[bytes, bytes]], query: bytes) -> list[bytes]:
    """The secrets a request carried: its key headers' values (bearer tokens without the
    scheme) and a ``key=`` query parameter."""
    found = []
    for name, value in headers:
        if name.lower() in (b"authorization", b"proxy-authorization", b"x-api-key", b"x-goog-api-key"):
            scheme, _, token = value.partition(b" ")
            found.append(token.strip() if token and scheme.isalpha() else value.strip())
    for part in query.split(b"&"):
        name, _, value = part.partition(b"=")
        if name == b"key" and value:
            found.append(value)
    return found


def _text(data: bytes, limit: int, secrets: list[bytes]) -> tuple[str, bool]:
    data = redact_bytes(data, secrets)  # redacted before the cut: no half secret is kept
    return data[:limit].decode("utf-8", "replace"), len(data) > limit
