"""Wire formats: one package per format, each translating to and from ``omniroute.canonical``.

Every format package (``openai_chat``, ``openai_responses``, ``anthropic``, ``gemini``,
``ollama``) has the same modules for the same roles:

==============  ==============================================================================
module          holds
==============  ==============================================================================
``wire``        msgspec Structs of the wire format and small wire helpers (usage, stop
                reasons, validation); imports no sibling
``request``     ``decode_request`` / ``encode_request``
``response``    ``decode_response`` / ``encode_response`` (non-streaming answers)
``stream``      ``StreamDecoder`` (upstream stream → canonical events)
``encode``      ``StreamEncoder`` (canonical events → client stream)
``errors``      ``encode_error``, ``encode_stream_error``, ``decode_error``, ``OVERLOADED_STATUS``
                and the format's error wording
``__init__``    the mapping tables (docstring) and the contract below, re-exported
==============  ==============================================================================

What only one format has gets a name of its own (``content``: content blocks or parts ↔
canonical blocks; ``gemini.schema``; ``openai_chat.view``; ``openai_responses.input`` /
``output``; ``models``: model lists; ``anthropic.count_tokens``, ``anthropic.mid_conversation``).
Beside the packages: ``framing`` (the one SSE/NDJSON framer), ``error_words`` (the errors
clients act on, recognised and worded across formats) and ``registry`` (name → package).

Every format package exposes the same contract (STYLE.md guideline 2)::

    NAME: str                                   "openai_chat", "anthropic", ...
    FRAMING: str                                "sse" or "ndjson" (its stream framing)
    decode_request(body: bytes) -> Request      client body → canonical; bad input raises
                                                GatewayError(INVALID_REQUEST, param=<dotted path>)
    encode_request(req: Request, model: str) -> bytes
                                                canonical → upstream body, with the upstream's
                                                model name (Gemini: model lives in the URL)
    decode_response(body: bytes) -> Response    upstream non-streaming answer → canonical
    encode_response(resp: Response) -> bytes    canonical → client answer
    StreamDecoder()                             .feed(frame) -> list[Event]; .close() -> list[Event]
                                                frame: SSEFrame (sse) or a line of bytes (ndjson)
    StreamEncoder(model: str, include_usage: bool)
                                                .encode(event) -> bytes (possibly b"")
    encode_error(err: GatewayError) -> bytes    the format's error body
    encode_stream_error(err) -> bytes           what ends a stream that failed after it started
    decode_error(status, body, provider) -> GatewayError
                                                an upstream error body → GatewayError
"""
