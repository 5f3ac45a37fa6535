"""The Code Assist envelope around Gemini bodies, both ways (see the package docstring)."""

from __future__ import annotations

import msgspec

from omniroute.canonical import Event, Request, Response
from omniroute.formats import gemini
from omniroute.formats.framing import SSEFrame


class _Envelope(msgspec.Struct):
    response: msgspec.Raw = msgspec.Raw()  # (msgspec takes no ``Raw | None``): empty when absent


_decoder = msgspec.json.Decoder(_Envelope)
_json = msgspec.json.Encoder()


def encode_request(req: Request, model: str) -> bytes:
    """``{"model", "request"}`` around Gemini's body (the project is added by ``with_project``)."""
    return b'{"model":' + _json.encode(model) + b',"request":' + gemini.encode_request(req, model) + b"}"


def with_project(body: bytes, project: str) -> bytes:
    """The envelope with the account's Cloud ``project`` as its first field."""
    return b'{"project":' + _json.encode(project) + b"," + body[1:] if project else body


def _inner(data: bytes) -> bytes:
    """The Gemini body inside an envelope (a body without one is taken as it is)."""
    try:
        envelope = _decoder.decode(data)
    except msgspec.DecodeError:
        return data
    return bytes(envelope.response) if len(envelope.response) else data


def decode_response(body: bytes) -> Response:
    return gemini.decode_response(_inner(body))


class StreamDecoder:
    """Gemini's stream decoder over the unwrapped events."""

    __slots__ = ("_inner",)

    def __init__(self) -> None:
        self._inner = gemini.StreamDecoder()

    def feed(self, frame: SSEFrame) -> list[Event]:
        return self._inner.feed(SSEFrame(frame.event, _inner(frame.data)))

    def close(self) -> list[Event]:
        return self._inner.close()
