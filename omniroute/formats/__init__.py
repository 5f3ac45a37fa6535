"""Wire formats: one module per format, each translating to and from ``omniroute.canonical``.

Every format module exposes the same contract (STYLE.md guideline 2)::

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
