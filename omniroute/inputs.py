"""Inputs that create connections and nodes — from the management API or the config file —
parsed and validated the same way, into the stored records.

``parse(payload, Type)`` converts decoded JSON (or a TOML table) and turns msgspec's
validation error into a 400 whose ``param`` is the field path (``baseUrl``, ``models[2]``);
``connection_record`` and ``node_record`` check the input against the provider table and
build the record. Wire names are camelCase.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.formats.openai_chat.view import invalid
from omniroute.providers.specs import NODE_KINDS, AuthStyle, ProviderSpec
from omniroute.store import Connection, ProviderNode
from omniroute.store.crypto import mask as mask  # answers mask secrets as exports do

T = TypeVar("T")

PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
FIELD_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$")  # one URL host label or path segment


class ConnectionInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    provider: str
    name: str = ""
    api_key: str = ""
    base_url: str | None = None
    enabled: bool = True
    priority: int = 0
    models: list[str] = msgspec.field(default_factory=list)
    passthrough_models: bool = False
    rpm: int = 0
    tpm: int = 0
    fields: dict[str, str] = msgspec.field(default_factory=dict)


class ConnectionPatch(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    name: str | None = None
    api_key: str | None = None
    base_url: str | None = None
    enabled: bool | None = None
    priority: int | None = None
    models: list[str] | None = None
    passthrough_models: bool | None = None
    rpm: int | None = None
    tpm: int | None = None
    fields: dict[str, str] | None = None


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
    rpm: int = 0  # requests per minute (0: no limit)
    tpm: int = 0  # tokens per minute


class KeyPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: str | None = None
    rpm: int | None = None
    tpm: int | None = None


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


def connection_record(
    data: ConnectionInput, specs: Mapping[str, ProviderSpec], conn_id: str | None = None, source: str = "api",
    oauth: str = "",
) -> Connection:
    """Validate ``data`` against the provider rows ``specs``; the record to store. A
    subscription row's connection comes only from its OAuth login (``oauth``: its provider)."""
    spec = specs.get(data.provider)
    if spec is None:
        known = ", ".join(sorted(p for p in specs if not p.startswith(("node-", "cfg-"))))
        raise GatewayError(
            ErrorKind.INVALID_REQUEST, f"unknown provider '{data.provider}' (known: {known})", param="provider"
        )
    if spec.auth is AuthStyle.OAUTH:
        require(bool(oauth), "provider", f"'{spec.id}' is a subscription: connect it with "
                f"GET /api/oauth/{spec.oauth}/authorize (or /device), not an API key")
        require(not data.api_key, "apiKey", "is not used by subscription accounts (they hold OAuth tokens)")
    require(not spec.needs_key or bool(data.api_key), "apiKey", f"is required for provider '{spec.id}'")
    base_url = check_url(data.base_url) if data.base_url else None
    require(all(m.strip() for m in data.models), "models", "must not contain empty model names")
    require(data.rpm >= 0, "rpm", "must be >= 0 (0: no limit)")
    require(data.tpm >= 0, "tpm", "must be >= 0 (0: no limit)")
    check_fields(spec, data.fields)
    return Connection(
        id=conn_id or "conn-" + secrets.token_hex(6),
        provider=spec.id,
        name=data.name or spec.name,
        api_key=data.api_key,
        base_url=base_url,
        enabled=data.enabled,
        priority=data.priority,
        models=data.models,
        passthrough_models=data.passthrough_models,
        rpm=data.rpm,
        tpm=data.tpm,
        source=source,
        created_at=time.time(),
        oauth=oauth,
        fields=data.fields,
    )


def check_fields(spec: ProviderSpec, fields: dict[str, str]) -> None:
    """Each of the row's URL fields given, as one host label or path segment; no others."""
    for name in spec.fields:
        value = fields.get(name, "")
        require(bool(value), f"fields.{name}", f"is required for provider '{spec.id}' (its URL is {spec.base_url})")
        require(bool(FIELD_RE.match(value)), f"fields.{name}", "must be letters, digits, '.', '_' or '-' only")
    extra = sorted(set(fields) - set(spec.fields))
    if extra:
        takes = ", ".join(spec.fields) or "none"
        require(False, f"fields.{extra[0]}", f"is not a field of provider '{spec.id}' (it takes: {takes})")


def node_record(
    data: NodeInput, prefixes: Mapping[str, str], node_id: str | None = None, source: str = "api"
) -> ProviderNode:
    """Validate ``data`` (``prefixes``: prefix → owning provider id, for collisions); the record to store."""
    require(bool(PREFIX_RE.match(data.prefix)), "prefix", "must be 1-40 of a-z 0-9 _ . - starting alphanumeric")
    require((data.type, data.api_type) in NODE_KINDS, "type", f"and apiType {(data.type, data.api_type)} not supported")
    owner = prefixes.get(data.prefix)
    if owner is not None and owner != node_id:
        raise GatewayError(
            ErrorKind.INVALID_REQUEST, f"prefix '{data.prefix}' is already used by '{owner}'", param="prefix"
        )
    return ProviderNode(
        id=node_id or "node-" + secrets.token_hex(6),
        name=data.name or data.prefix,
        prefix=data.prefix,
        base_url=check_url(data.base_url),
        type=data.type,
        api_type=data.api_type,
        source=source,
        created_at=time.time(),
    )
