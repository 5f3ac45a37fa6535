"""The configuration bundle that cloud sync moves between instances (``/api/cloud/bundle``).

A bundle is JSON, records as they are stored (snake_case fields)::

    {"schemaVersion": 1,
     "providers": {"nodes": [...], "connections": [... no api_key ...]},
     "combos": [...], "aliases": [...], "policies": [...], "models": [...],
     "pricing": {...}, "settings": {"general": {...}, "resilience": {...}, ...}}

No secret ever leaves: connections go without their API key (OAuth tokens stay too), client
keys, budgets, sessions and the password are not in it. Its ``etag`` is a hash of its
canonical encoding (sorted keys), so two instances holding the same configuration agree.

Applying one (``apply``), in one write transaction:

================================  =========================================================
part                              rule
================================  =========================================================
nodes, connections                added or updated by id, never removed (an account may
                                  exist on this side only); a connection keeps this side's
                                  key and expiry; a new one arrives without a key (not
                                  routed until one is set, when its row needs one) or, a
                                  subscription account, ``expired`` until logged in here
combos, aliases, policies,        mirrored: added, updated and removed to match
models
settings documents, pricing       added or replaced by name, never removed
================================  =========================================================

``apply`` answers what changed: ``{part: {"added": [ids], "updated": [...], "removed": [...]}}``
for each part that changed.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.store.lmdb_store import TABLES, Store
from omniroute.store.records import Connection, SettingValue

SCHEMA_VERSION = 1
MIRRORED = ("combos", "aliases", "policies", "models")
UPSERTED = ("nodes", "connections")
Rows = list[tuple[str, msgspec.Struct]]


def build(store: Store) -> dict[str, Any]:
    def rows(table: str) -> list[Any]:
        return [msgspec.to_builtins(record) for _key, record in store.items(table)]

    connections = [{k: v for k, v in c.items() if k not in ("api_key", "expired")} for c in rows("connections")]
    settings = {key: record.value for key, record in store.items("settings")}
    return {"schemaVersion": SCHEMA_VERSION, "providers": {"nodes": rows("nodes"), "connections": connections},
            **{table: rows(table) for table in MIRRORED}, "pricing": settings.pop("pricing", {}),
            "settings": settings}


def etag(bundle: dict[str, Any]) -> str:
    return '"' + hashlib.sha256(msgspec.json.encode(bundle, order="sorted")).hexdigest()[:32] + '"'


def _decode(bundle: Any) -> dict[str, Rows]:
    """The bundle's records by table, each converted into its record type (400 naming the
    part when one does not convert)."""
    if not isinstance(bundle, dict) or bundle.get("schemaVersion") != SCHEMA_VERSION:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"not a bundle of schemaVersion {SCHEMA_VERSION}",
                           param="schemaVersion")
    providers = bundle.get("providers") or {}
    parts = {"nodes": providers.get("nodes"), "connections": providers.get("connections"),
             **{table: bundle.get(table) for table in MIRRORED}}
    out: dict[str, Rows] = {}
    for table, records in parts.items():
        out[table] = [(_key(table, r), r) for r in _convert(table, records or [])]
    docs = {**(bundle.get("settings") or {}), "pricing": bundle.get("pricing") or {}}
    out["settings"] = [(name, r) for name, r in zip(docs, _convert("settings", [{"value": v} for v in docs.values()]),
                                                    strict=True)]
    return out


def _convert(table: str, records: Any) -> list[Any]:
    try:
        return msgspec.convert(records, list[TABLES[table]])  # type: ignore[valid-type]
    except msgspec.ValidationError as exc:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"bundle {table}: {exc}", param=table) from None


def _key(table: str, record: Any) -> str:
    if table == "aliases":
        return record.alias
    if table == "models":
        return f"{record.provider}/{record.model}"
    return record.id


def apply(store: Store, bundle: Any) -> dict[str, dict[str, list[str]]]:
    """Apply ``bundle`` (module table) in one write transaction; answers what changed."""
    incoming = _decode(bundle)
    final: dict[str, Rows] = {}
    changes: dict[str, dict[str, list[str]]] = {}
    for table, rows in incoming.items():
        current = dict(store.items(table))
        if table == "connections":
            rows = [(k, _local_secret(r, current.get(k))) for k, r in rows]
        merged = dict(rows) if table in MIRRORED else {**current, **dict(rows)}
        change = _diff(current, merged)
        if change:
            changes[table] = change
        final[table] = list(merged.items())
    if changes:
        store.replace({t: final[t] for t in changes}, {})
    return changes


def _local_secret(record: Connection, local: Any) -> Connection:
    """This side's secret state for an incoming connection: its own key and expiry, or — new
    here — no key (not routed until one is set: ``routing.registry``) and, for a
    subscription account, ``expired`` until it is logged in here."""
    if isinstance(local, Connection):
        return msgspec.structs.replace(record, api_key=local.api_key, expired=local.expired)
    return msgspec.structs.replace(record, api_key="", expired=bool(record.oauth))


def _diff(current: dict[str, Any], merged: dict[str, Any]) -> dict[str, list[str]]:
    added = [k for k in merged if k not in current]
    removed = [k for k in current if k not in merged]
    updated = [k for k in merged if k in current and _raw(current[k]) != _raw(merged[k])]
    return {name: keys for name, keys in (("added", added), ("updated", updated), ("removed", removed)) if keys}


def _raw(record: Any) -> bytes:
    return msgspec.json.encode(record.value if isinstance(record, SettingValue) else record, order="sorted")
