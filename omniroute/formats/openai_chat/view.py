"""A validating *view* of an OpenAI Chat request: the pass-through path's only decode.

It checks what a gateway must reject itself (missing ``model``/``messages``, wrong types of
the common top-level fields, unknown roles) and reads ``model``/``stream``; message contents
stay undecoded (``msgspec.Raw``). Costs well under a microsecond on a 1 KB body.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.error_words import unsupported_role

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]


class MessageView(msgspec.Struct):
    role: Role
    content: str | list[msgspec.Raw] | None = None


class StreamOptionsView(msgspec.Struct):
    include_usage: bool | None = None


class ChatRequestView(msgspec.Struct):
    model: str
    messages: list[MessageView]
    stream: bool | None = False
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    n: int | None = None
    stream_options: StreamOptionsView | None = None


_decoder = msgspec.json.Decoder(ChatRequestView)


def decode_chat_view(body: bytes) -> ChatRequestView:
    """Validate and view a chat body; bad input raises ``INVALID_REQUEST`` naming the field."""
    try:
        view = _decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise invalid(exc) from None
    except msgspec.DecodeError as exc:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"request body is not valid JSON: {exc}") from None
    if not view.messages:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'messages' must contain at least one message", param="messages")
    if not view.model:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'model' must not be empty", param="model")
    return view


def invalid(exc: msgspec.ValidationError) -> GatewayError:
    """A msgspec validation error → INVALID_REQUEST with the dotted field path as ``param``."""
    text = str(exc)
    for lead, what in (("Object missing required field", "missing required field"),
                       ("Object contains unknown field", "unknown field")):
        if text.startswith(lead):
            field = text.split("`")[1]
            at = text.find(" - at `$.")
            path = (text[at + 9 : -1] + "." if at >= 0 else "") + field
            return GatewayError(ErrorKind.INVALID_REQUEST, f"{what} '{path}'", param=path)
    at = text.rfind(" - at `$")
    path = text[at + 8 : -1].lstrip(".") if at >= 0 else None
    message = text[:at] if at >= 0 else text
    if path and path.endswith(".role") and message.startswith("Invalid enum value "):
        return unsupported_role("openai_chat", message[19:].strip("'"), path)
    return GatewayError(ErrorKind.INVALID_REQUEST, f"invalid '{path}': {message}" if path else message, param=path)
