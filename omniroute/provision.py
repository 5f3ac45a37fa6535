"""Provision the store from the config file's ``[[providers]]``, ``[[provider_nodes]]``,
``[aliases]`` and ``[cache]`` (run once by ``omniroute serve`` before the workers start).

``[cache]`` (sections ``exact``, ``semantic``, ``idempotency``, keys snake_case or camelCase)
is merged into the stored cache settings (``PUT /api/cache/config``'s document): the keys the
file names win at each start, the others keep what the API stored.

Entries are validated exactly like the management API's bodies (``omniroute.inputs``), and
errors name the config path (``config providers[1].baseUrl: ...``). Records from the file
get stable ids derived from their names (``cfg-…``) and ``source = "config"``, so restarting
with the same file updates them in place instead of adding duplicates; records created
through the API are never touched. A ``[[providers]]`` entry may name a provider row id or
the prefix of a ``[[provider_nodes]]`` entry.
"""

from __future__ import annotations

import hashlib
from typing import Any, TypeVar

from omniroute.cache.config import merge
from omniroute.errors import ErrorKind, GatewayError
from omniroute.inputs import ConnectionInput, NodeInput, connection_record, node_record, parse
from omniroute.providers.specs import SPECS, node_spec
from omniroute.store import Alias, Store

T = TypeVar("T")


def _stable_id(kind: str, *parts: str) -> str:
    return f"cfg-{kind}-" + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12]


def _camel(raw: Any) -> Any:
    """Config keys may be snake_case (TOML style) or camelCase (API style)."""
    if not isinstance(raw, dict):
        return raw
    return {k.split("_")[0] + "".join(w.title() for w in k.split("_")[1:]): v for k, v in raw.items()}


def _at(section: str, index: int, err: GatewayError) -> GatewayError:
    where = f"{section}[{index}]" + (f".{err.param}" if err.param else "")
    return GatewayError(ErrorKind.INVALID_REQUEST, f"config {where}: {err.message}", param=where)


def provision(store: Store, data: dict[str, Any]) -> dict[str, int]:
    specs = dict(SPECS)
    prefixes = {p: spec.id for spec in SPECS.values() for p in spec.prefixes}
    node_ids: dict[str, str] = {}
    nodes = data.get("provider_nodes", [])
    for i, raw in enumerate(nodes):
        try:
            entry = parse(_camel(raw), NodeInput)
            node = node_record(entry, prefixes, _stable_id("node", entry.prefix), source="config")
        except GatewayError as err:
            raise _at("provider_nodes", i, err) from None
        store.put("nodes", node.id, node)
        prefixes[node.prefix] = node_ids[node.prefix] = node.id
        specs[node.id] = node_spec(node.id, node.name, node.prefix, node.base_url, (node.type, node.api_type))
    conns = data.get("providers", [])
    for i, raw in enumerate(conns):
        try:
            entry = parse(_camel(raw), ConnectionInput)
            entry.provider = node_ids.get(entry.provider, entry.provider)
            conn_id = _stable_id("conn", entry.provider, entry.name)
            conn = connection_record(entry, specs, conn_id, source="config")
        except GatewayError as err:
            raise _at("providers", i, err) from None
        store.put("connections", conn.id, conn)
    aliases = data.get("aliases", {})
    for i, (alias, model) in enumerate(aliases.items()):  # globs apply in file order, before the API's
        store.put("aliases", alias, Alias(alias, str(model), float(i)))
    if "cache" in data:
        cache = {section: _camel(values) for section, values in data["cache"].items()}
        try:
            store.put_setting("cache", merge(store.setting("cache"), cache))
        except GatewayError as err:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"config cache.{err.message}", param=err.param) from None
    return {"providers": len(conns), "provider_nodes": len(nodes), "aliases": len(aliases)}
