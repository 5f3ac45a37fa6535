"""The store as an SQLite file (``GET /api/db-backups/export``) and back (``.../import``).

The file is written with the standard library's ``sqlite3`` and readable with the ``sqlite3``
shell. One table per record type, one row per record; the first column ``key`` is the
record's LMDB key, the others are the record's fields by their stored names. Lists, objects
and nested records are JSON text; strings, numbers and booleans are SQLite values.

===================  =============================================================
table                what it holds
===================  =============================================================
``omniroute_meta``   ``key``/``value``: ``schema_version`` (``SCHEMA_VERSION``), ``app``
                     (``omniroute``), ``exported_at``, ``store_version``
``connections``      accounts; ``api_key`` masked (``abcd…wxyz``) — never the secret
``nodes``            user-defined providers
``keys``             client keys: sha256 hashes only (as stored)
``aliases``, ``combos``, ``models``, ``policies``, ``budgets``, ``settings``
                     as stored
``spend``            ``key``/``usd``: budget spend per key and period (export only)
===================  =============================================================

Not exported: login sessions, the password hash, OAuth tokens.

Import (``read_export``) checks before anything changes, each failure a 400 naming it: the
size (``max_import_bytes``, else 413), the SQLite header, ``PRAGMA quick_check``, the
schema version, every table present, and every row converted into its record type
(``connections[2].priority: Expected `int`…``). Applying it (``server.api_backups``) is one
write transaction after a ``pre-restore`` backup.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
import types
import typing
from pathlib import Path
from typing import Any

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.store.crypto import mask
from omniroute.store.lmdb_store import REPLACED, TABLES, Store
from omniroute.store.runtime import Runtime

SCHEMA_VERSION = 1
HEADER = b"SQLite format 3\x00"
Rows = dict[str, list[tuple[str, msgspec.Struct]]]


def _json_fields(cls: type[msgspec.Struct]) -> frozenset[str]:
    """Fields whose values are containers or records (stored as JSON text)."""
    out = set()
    for field in msgspec.structs.fields(cls):
        hint = field.type
        parts = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        if any(typing.get_origin(p) in (list, dict) or p in (list, dict)
               or (isinstance(p, type) and issubclass(p, msgspec.Struct)) for p in parts):
            out.add(field.encode_name)
    return frozenset(out)


JSON_FIELDS = {name: _json_fields(cls) for name, cls in TABLES.items()}
BOOL_FIELDS = {name: frozenset(f.encode_name for f in msgspec.structs.fields(cls) if f.type is bool)
               for name, cls in TABLES.items()}


def export_sqlite(store: Store, runtime: Runtime, path: Path) -> None:
    """Write the store's records (module table) to a new SQLite file at ``path``."""
    con = sqlite3.connect(path)
    try:
        con.execute("CREATE TABLE omniroute_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        con.executemany("INSERT INTO omniroute_meta VALUES (?, ?)", [
            ("schema_version", str(SCHEMA_VERSION)), ("app", "omniroute"), ("exported_at", str(time.time())),
            ("store_version", str(store.version()))])
        for table in REPLACED:
            _export_table(con, table, store.items(table))
        con.execute("CREATE TABLE spend (key TEXT PRIMARY KEY, usd REAL NOT NULL)")
        con.executemany("INSERT INTO spend VALUES (?, ?)", sorted(runtime.spend_totals().items()))
        con.commit()
    finally:
        con.close()


def _export_table(con: sqlite3.Connection, table: str, items: list[tuple[str, msgspec.Struct]]) -> None:
    fields = msgspec.structs.fields(TABLES[table])
    columns = [f.encode_name for f in fields]
    con.execute(f'CREATE TABLE "{table}" (key TEXT PRIMARY KEY, {", ".join(f"{c!r}" for c in columns)})')
    as_json = JSON_FIELDS[table]
    rows = []
    for key, record in items:
        values = msgspec.to_builtins({f.encode_name: getattr(record, f.name) for f in fields})
        if table == "connections":
            values["api_key"] = mask(values.get("api_key", ""))
        rows.append((key, *(msgspec.json.encode(values.get(c)).decode() if c in as_json else values.get(c)
                            for c in columns)))
    marks = ", ".join("?" * (len(columns) + 1))
    con.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)


def read_export(data: bytes, limit: int) -> Rows:
    """The records of an exported file, every one checked (module docstring); nothing is
    written anywhere but a temporary file."""
    if len(data) > limit:
        raise GatewayError(ErrorKind.PAYLOAD_TOO_LARGE, f"the file is {len(data)} bytes; the import limit is {limit} "
                           "(max_import_bytes)")
    if not data.startswith(HEADER):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "the file is not an SQLite database (no SQLite header)",
                           param="file")
    with tempfile.TemporaryDirectory(prefix="omniroute-import-") as tmp:
        path = Path(tmp) / "import.sqlite"
        path.write_bytes(data)
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return _read(con)
        except sqlite3.DatabaseError as exc:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"the SQLite file is damaged: {exc}", param="file") from None
        finally:
            con.close()


def _read(con: sqlite3.Connection) -> Rows:
    check = con.execute("PRAGMA quick_check").fetchone()
    if not check or check[0] != "ok":
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"the SQLite file is damaged: {check}", param="file")
    names = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "omniroute_meta" not in names:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "not an OmniRoute export: no omniroute_meta table",
                           param="file")
    meta = dict(con.execute("SELECT key, value FROM omniroute_meta").fetchall())
    if meta.get("schema_version") != str(SCHEMA_VERSION):
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"schema_version {meta.get('schema_version')!r} is not "
                           f"supported (this version reads {SCHEMA_VERSION})", param="schema_version")
    missing = [t for t in REPLACED if t not in names]
    if missing:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"table '{missing[0]}' is missing", param=missing[0])
    return {table: _read_table(con, table) for table in REPLACED}


def _read_table(con: sqlite3.Connection, table: str) -> list[tuple[str, msgspec.Struct]]:
    cursor = con.execute(f'SELECT * FROM "{table}"')
    columns = [d[0] for d in cursor.description]
    if not columns or columns[0] != "key":
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"table '{table}' has no key column", param=table)
    known = {f.encode_name for f in msgspec.structs.fields(TABLES[table])}
    unknown = [c for c in columns[1:] if c not in known]
    if unknown:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"{table}: unknown column '{unknown[0]}'",
                           param=f"{table}.{unknown[0]}")
    out = []
    for i, row in enumerate(cursor):
        out.append((_key(row[0], table, i), _record(table, i, dict(zip(columns[1:], row[1:], strict=True)))))
    return out


def _key(key: Any, table: str, i: int) -> str:
    if not isinstance(key, str) or not key:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"{table}[{i}].key must be a non-empty text",
                           param=f"{table}[{i}].key")
    return key


def _record(table: str, i: int, values: dict[str, Any]) -> msgspec.Struct:
    where = f"{table}[{i}]"
    as_json = JSON_FIELDS[table]
    try:
        for column in as_json & values.keys():
            if values[column] is not None:
                values[column] = msgspec.json.decode(values[column])
        values = {k: v for k, v in values.items() if v is not None}  # NULL: the field's default
        for name in BOOL_FIELDS[table] & values.keys():  # SQLite has no booleans: 0/1 come back
            if values[name] in (0, 1):
                values[name] = bool(values[name])
        return msgspec.convert(values, TABLES[table])
    except (msgspec.ValidationError, msgspec.DecodeError, TypeError) as exc:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"{where}: {exc}", param=where) from None
