"""Provision the store from the config file's ``[[providers]]``, ``[[provider_nodes]]`` and
``[aliases]`` (run once by ``omniroute serve`` before the workers start).

Records from the file get stable ids derived from their names (``cfg-…``) and
``source = "config"``, so restarting with the same file updates them in place instead of
adding duplicates; records created through the API are never touched. Errors name the
config path (``providers[1].apiKey``).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.providers.specs import NODE_KINDS, SPECS
from omniroute.store import Alias, Connection, ProviderNode, Store


class ProviderEntry(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    provider: str
    name: str
    api_key: str = ""
    base_url: str | None = None
    enabled: bool = True
    priority: int = 0
    models: list[str] = msgspec.field(default_factory=list)


class NodeEntry(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    prefix: str
    base_url: str
    name: str = ""
    type: str = "openai-compatible"
    api_type: str = "chat"


def _stable_id(kind: str, *parts: str) -> str:
    return f"cfg-{kind}-" + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12]


def _entries(data: dict[str, Any], section: str, kind: type) -> list[Any]:
    out = []
    for i, raw in enumerate(data.get(section, [])):
        try:
            out.append(msgspec.convert(_camel(raw), kind))
        except msgspec.ValidationError as exc:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"config {section}[{i}]: {exc}") from None
    return out


def _camel(raw: Any) -> Any:
    """Config keys may be snake_case (TOML style) or camelCase (API style)."""
    if not isinstance(raw, dict):
        return raw
    return {k.split("_")[0] + "".join(w.title() for w in k.split("_")[1:]): v for k, v in raw.items()}


def provision(store: Store, data: dict[str, Any]) -> dict[str, int]:
    now = time.time()
    nodes = _entries(data, "provider_nodes", NodeEntry)
    node_ids: dict[str, str] = {}
    for i, n in enumerate(nodes):
        if (n.type, n.api_type) not in NODE_KINDS:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"config provider_nodes[{i}].type: unsupported {n.type}")
        node = ProviderNode(_stable_id("node", n.prefix), n.name or n.prefix, n.prefix, n.base_url.rstrip("/"),
                            n.type, n.api_type, source="config", created_at=now)
        store.put("nodes", node.id, node)
        node_ids[n.prefix] = node.id
    conns = _entries(data, "providers", ProviderEntry)
    for i, p in enumerate(conns):
        provider = node_ids.get(p.provider, p.provider)
        if provider not in SPECS and provider not in node_ids.values():
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"config providers[{i}].provider: unknown '{p.provider}'")
        conn = Connection(_stable_id("conn", provider, p.name), provider, p.name, p.api_key, p.base_url, p.enabled,
                          p.priority, p.models, source="config", created_at=now)
        store.put("connections", conn.id, conn)
    aliases = data.get("aliases", {})
    for alias, model in aliases.items():
        store.put("aliases", alias, Alias(alias, str(model)))
    return {"providers": len(conns), "provider_nodes": len(nodes), "aliases": len(aliases)}
