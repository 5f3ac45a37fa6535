"""Management API input Structs (camelCase on the wire) and their validation.

``parse(payload, Type)`` converts a decoded JSON body and turns msgspec's validation error
into a 400 whose ``param`` is the field path (``baseUrl``, ``models[2]``).
"""

from __future__ import annotations

import re
from typing import Any, TypeVar
from urllib.parse import urlsplit

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.openai_chat_view import invalid

T = TypeVar("T")

PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")


class ConnectionInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    provider: str
    name: str = ""
    api_key: str = ""
    base_url: str | None = None
    enabled: bool = True
    priority: int = 0
    models: list[str] = msgspec.field(default_factory=list)


class ConnectionPatch(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    name: str | None = None
    api_key: str | None = None
    base_url: str | None = None
    enabled: bool | None = None
    priority: int | None = None
    models: list[str] | None = None


class NodeInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    prefix: str
    base_url: str
    name: str = ""
    type: str = "openai-compatible"
    api_type: str = "chat"


class NodePatch(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    name: str | None = None
    base_url: str | None = None
    api_type: str | None = None


class KeyInput(msgspec.Struct, forbid_unknown_fields=True):
    name: str = ""


class AliasInput(msgspec.Struct, forbid_unknown_fields=True):
    alias: str
    model: str


def parse(payload: Any, kind: type[T]) -> T:
    if not isinstance(payload, dict):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "request body must be a JSON object")
    try:
        return msgspec.convert(payload, kind)
    except msgspec.ValidationError as exc:
        raise invalid(exc) from None


def check_url(url: str, field: str = "baseUrl") -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"'{field}' must be an http(s) URL, got {url!r}", param=field)
    return url.rstrip("/")


def require(ok: bool, field: str, message: str) -> None:
    if not ok:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"'{field}' {message}", param=field)


def mask(secret: str) -> str:
    if not secret:
        return ""
    return secret[:4] + "…" + secret[-4:] if len(secret) > 12 else "****"
