"""Gemini CLI's Code Assist API: Gemini's wire format inside an envelope (upstream only).

Google's Code Assist endpoint (``…/v1internal:generateContent``, ``:streamGenerateContent``)
takes and answers the ``generateContent`` bodies of ``omniroute.formats.gemini``, wrapped:

==========================  ===========================================================
direction                   envelope
==========================  ===========================================================
request                     ``{"model": <id>, "project": <Cloud project>, "request":
                            <generateContent body>}``
response (JSON, each SSE    ``{"response": <GenerateContentResponse>, "traceId"?: …}``
event of a stream)
error                       Google's ``{"error": {"code", "message", "status"}}``, as Gemini
==========================  ===========================================================

``encode_request`` writes ``model`` and ``request``; the account's ``project`` is set when
the request leaves (``routing.tokens``: it belongs to the account, not the request). All the
translation is Gemini's (``omniroute.formats.gemini``): this package only wraps and unwraps.
It is never a client format, so it has no stream encoder.
"""

from __future__ import annotations

from omniroute.formats.gemini import OVERLOADED_STATUS, decode_error, encode_error, encode_stream_error
from omniroute.formats.gemini_cli.envelope import StreamDecoder, decode_response, encode_request, with_project

NAME = "gemini_cli"
FRAMING = "sse"
#: where a request body holds its max output tokens (``pipeline.clamp_max_tokens``)
MAX_TOKENS_PATHS: tuple[tuple[str, ...], ...] = (("request", "generationConfig", "maxOutputTokens"),)
FORWARD_HEADERS: tuple[bytes, ...] = ()
REFUSED_ACROSS: dict = {}

__all__ = [
    "FORWARD_HEADERS",
    "FRAMING",
    "MAX_TOKENS_PATHS",
    "NAME",
    "OVERLOADED_STATUS",
    "REFUSED_ACROSS",
    "StreamDecoder",
    "decode_error",
    "decode_response",
    "encode_error",
    "encode_request",
    "encode_stream_error",
    "with_project",
]
