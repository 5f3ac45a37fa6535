"""``/api/db-backups*``: backups, restore, SQLite export and import, the full archive.

=====================================  ====================================================
request                                answer
=====================================  ====================================================
GET    /api/db-backups                 ``{"backups": [{"id", "createdAt", "bytes", "kind"}]}``
PUT    /api/db-backups                 201 ``{"backup"}``: a consistent snapshot now
POST   /api/db-backups ``{"id"}``      ``{"restored", "preRestore"}`` (``store.backups``)
GET    /api/db-backups/export          the store as ``.sqlite`` (``store.sqlite_export``)
POST   /api/db-backups/import          body: such a file (raw, or multipart field ``file``)
                                       → ``{"imported": {table: rows}, "preRestore"}``
GET    /api/db-backups/exportAll       ``.tar.gz``: ``metadata.json``, ``store/`` (a backup
                                       directory), ``settings.json``, ``providers.json``
                                       (no secrets), ``combos.json``, ``aliases.json``,
                                       ``policies.json``, ``keys.json`` (masked)
=====================================  ====================================================

An import is checked whole before anything changes (400 naming the problem, 413 over
``max_import_bytes``); then a ``pre-restore`` backup, then one write transaction. Imported
connections keep the API key this instance holds for their id (the file has masked keys
only); OAuth tokens of connections that remain are kept.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import io
import json
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec

from omniroute import __version__
from omniroute.errors import ErrorKind, GatewayError
from omniroute.gateway import Gateway
from omniroute.server.api_providers import present
from omniroute.server.api_routing import present_combo, present_policy
from omniroute.server.http import HttpRequest, send_bytes, send_json
from omniroute.store.backups import BackupInfo, Backups
from omniroute.store.crypto import is_masked
from omniroute.store.sqlite_export import SCHEMA_VERSION, export_sqlite, read_export

_encode = msgspec.to_builtins


async def list_backups(gw: Gateway, req: HttpRequest, send: Any) -> None:
    await send_json(send, 200, {"backups": _encode(gw.backups.list())})


async def create_backup(gw: Gateway, req: HttpRequest, send: Any) -> None:
    info = await asyncio.to_thread(gw.backups.create, "manual")
    await send_json(send, 201, {"backup": _encode(info)})


async def restore_backup(gw: Gateway, req: HttpRequest, send: Any) -> None:
    payload = await req.read_json(gw.settings.max_body_bytes)
    backup_id = payload.get("id") if isinstance(payload, dict) else None
    before = await asyncio.to_thread(gw.backups.restore, backup_id, gw.settings.backup_keep)
    gw.refresh()
    await send_json(send, 200, {"restored": backup_id, "preRestore": _encode(before)})


def _stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


async def export(gw: Gateway, req: HttpRequest, send: Any) -> None:
    with tempfile.TemporaryDirectory(prefix="omniroute-export-") as tmp:
        path = Path(tmp) / "export.sqlite"
        await asyncio.to_thread(export_sqlite, gw.store, gw.runtime, path)
        data = path.read_bytes()
    await send_bytes(send, 200, data, _attachment(f"omniroute-{_stamp()}.sqlite", b"application/vnd.sqlite3"))


def _attachment(filename: str, content_type: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", content_type),
            (b"content-disposition", f'attachment; filename="{filename}"'.encode())]


async def import_file(gw: Gateway, req: HttpRequest, send: Any) -> None:
    limit = gw.settings.max_import_bytes
    body = _file_part(await req.read_body(limit + 64 * 1024), req.header(b"content-type") or "")
    tables = read_export(body, limit)  # every check before anything changes
    before = await asyncio.to_thread(gw.backups.create, "pre-restore")
    current = {c.id: c for c in gw.store.scan("connections")}
    tables["connections"] = [(key, _keep_key(conn, current.get(key))) for key, conn in tables["connections"]]
    kept = {key for key, _c in tables["connections"]}
    tables["oauth"] = [(t.connection_id, t) for t in gw.store.scan("oauth") if t.connection_id in kept]
    gw.store.replace(tables, {})
    gw.backups.rotate(gw.settings.backup_keep)
    gw.refresh()
    counts = {table: len(rows) for table, rows in tables.items() if table != "oauth"}
    await send_json(send, 200, {"imported": counts, "preRestore": _encode(before)})


def _keep_key(conn: Any, local: Any) -> Any:
    if conn.api_key and not is_masked(conn.api_key):
        return conn
    return msgspec.structs.replace(conn, api_key=local.api_key if local is not None else "")


def _file_part(body: bytes, content_type: str) -> bytes:
    """The uploaded file: the body itself, or a multipart form's ``file`` field."""
    if not content_type.lower().startswith("multipart/form-data"):
        return body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            return part.get_payload(decode=True) or b""
    raise GatewayError(ErrorKind.INVALID_REQUEST, "the multipart body has no 'file' field", param="file")


async def export_all(gw: Gateway, req: HttpRequest, send: Any) -> None:
    data = await asyncio.to_thread(_archive, gw)
    await send_bytes(send, 200, data, _attachment(f"omniroute-{_stamp()}.tar.gz", b"application/gzip"))


def _archive(gw: Gateway) -> bytes:
    store = gw.store
    docs = {
        "settings.json": {key: record.value for key, record in store.items("settings")},
        "providers.json": {"nodes": _encode(list(store.scan("nodes"))),
                           "connections": [present(c) for c in store.scan("connections")]},
        "combos.json": [present_combo(c) for c in store.scan("combos")],
        "aliases.json": {a.alias: a.model for a in store.scan("aliases")},
        "policies.json": [present_policy(p) for p in store.scan("policies")],
        "keys.json": [{"id": k.id, "name": k.name, "key": k.prefix + "…", "revoked": k.revoked,
                       "createdAt": k.created_at} for k in store.scan("keys")],
    }
    out = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="omniroute-archive-") as tmp, \
            tarfile.open(fileobj=out, mode="w:gz") as tar:
        snapshot: BackupInfo = Backups(store, gw.runtime, Path(tmp)).create("manual")
        tar.add(Path(tmp) / snapshot.id, arcname="store")
        meta = {"app": "omniroute", "version": __version__, "schemaVersion": SCHEMA_VERSION,
                "createdAt": time.time(), "storeVersion": store.version(), "backupId": snapshot.id,
                "files": ["store/", *docs]}
        for name, doc in {"metadata.json": meta, **docs}.items():
            raw = json.dumps(doc, indent=2, ensure_ascii=False).encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(raw), int(time.time()), 0o600
            tar.addfile(info, io.BytesIO(raw))
    return out.getvalue()
