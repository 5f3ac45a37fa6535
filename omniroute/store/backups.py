"""Backups of the durable store: consistent LMDB snapshots in ``<data_dir>/backups/<id>/``.

A backup directory holds::

    data.mdb       the store, copied with LMDB's hot copy (``Store.snapshot``: compacted, one
                   read transaction — workers keep serving and writing meanwhile)
    spend.msgpack  the runtime environment's spend totals (budgets), {key: USD}
    backup.json    {"id", "createdAt", "kind"}

The runtime environment (``data_dir/runtime``: cooldowns, breakers, rate windows, spend) is
*not* copied: health and windows describe the present, not the backup's moment. Spend is the
exception — it is saved beside the store, and a restore keeps, per budget period, the higher
of the backup's total and the current one: what was spent stays spent (a restore never
reopens a budget).

=================  ==================================================================
kind               made by
=================  ==================================================================
``manual``         ``PUT /api/db-backups``; never deleted by rotation
``auto``           the daily schedule (``backup_interval``); the newest ``backup_keep`` kept
``pre-restore``    a restore or an import, just before it replaces anything; newest
                   ``backup_keep`` kept
=================  ==================================================================

Restore (``restore``): the snapshot is read and every record decoded first (a damaged one is
refused before anything changes), a ``pre-restore`` backup is made, then one write
transaction replaces every table but login sessions, sets the password hash and sync token
hash as the backup has them, and moves the store version — every worker rebuilds its
routing snapshot on its next request (one read, as for any management write). The
environment file itself is never swapped, so no worker has to reopen it. OAuth tokens are
merged, per connection of the backup: the more recently refreshed of the backup's and the
current one (refresh tokens rotate; an old one may no longer work).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from pathlib import Path

import msgspec

from omniroute.errors import ErrorKind, GatewayError
from omniroute.store.lmdb_store import REPLACED, RESTORED_META, Store, read_snapshot
from omniroute.store.records import OAuthToken
from omniroute.store.runtime import Runtime

KINDS = ("manual", "auto", "pre-restore")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_INFO = "backup.json"
_SPEND = "spend.msgpack"


class BackupInfo(msgspec.Struct, rename="camel"):
    id: str
    created_at: float
    bytes: int
    kind: str


class Backups:
    """The backups of one data directory (any worker may use it: files are written under a
    temporary name and renamed into place)."""

    def __init__(self, store: Store, runtime: Runtime, root: Path) -> None:
        self.store = store
        self.runtime = runtime
        self.root = root

    def list(self) -> list[BackupInfo]:
        """Newest first; directories without a readable ``backup.json`` are not backups."""
        found = []
        if self.root.is_dir():
            for entry in self.root.iterdir():
                info = _read_info(entry)
                if info is not None:
                    found.append(info)
        return sorted(found, key=lambda b: (b.created_at, b.id), reverse=True)

    def create(self, kind: str = "manual") -> BackupInfo:
        now = time.time()
        backup_id = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now))}-{kind}-{secrets.token_hex(3)}"
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.root / f".{backup_id}.tmp"
        try:
            self.store.snapshot(tmp)
            (tmp / _SPEND).write_bytes(msgspec.msgpack.encode(self.runtime.spend_totals()))
            (tmp / _INFO).write_text(json.dumps({"id": backup_id, "createdAt": now, "kind": kind}))
            tmp.rename(self.root / backup_id)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return BackupInfo(backup_id, now, _size(self.root / backup_id), kind)

    def find(self, backup_id: object) -> Path:
        if not isinstance(backup_id, str) or not ID_RE.match(backup_id):
            raise GatewayError(ErrorKind.INVALID_REQUEST, "'id' must be a backup id from GET /api/db-backups",
                               param="id")
        path = self.root / backup_id
        if _read_info(path) is None:
            raise GatewayError(ErrorKind.NOT_FOUND, f"no backup with id '{backup_id}'", param="id")
        return path

    def restore(self, backup_id: object, keep: int) -> BackupInfo:
        """Replace the store's contents with the backup's (module docstring); answers the
        ``pre-restore`` backup made first."""
        path = self.find(backup_id)
        try:
            tables, meta = read_snapshot(path)
            spend = msgspec.msgpack.decode((path / _SPEND).read_bytes(), type=dict[str, float]) \
                if (path / _SPEND).exists() else {}
        except Exception as exc:  # lmdb, msgspec or OS errors: a damaged backup
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"backup '{backup_id}' cannot be read: {exc}",
                               param="id") from None
        before = self.create("pre-restore")
        replaced = {name: tables.get(name, []) for name in REPLACED}
        replaced["oauth"] = merge_tokens(tables.get("oauth", []), self.store.scan("oauth"))
        self.store.replace(replaced, {key: meta.get(key) for key in RESTORED_META})
        self.runtime.keep_spend(spend)
        self.rotate(keep)
        return before

    def rotate(self, keep: int) -> list[str]:
        """Delete all but the newest ``keep`` backups of each automatic kind; answers the ids."""
        gone = []
        for kind in ("auto", "pre-restore"):
            for info in [b for b in self.list() if b.kind == kind][keep:]:
                shutil.rmtree(self.root / info.id, ignore_errors=True)
                gone.append(info.id)
        return gone

    def due(self, interval: float, now: float) -> bool:
        """An automatic backup is due: none is younger than ``interval`` seconds."""
        newest = next((b.created_at for b in self.list() if b.kind == "auto"), 0.0)
        return now - newest >= interval


def merge_tokens(restored: list[tuple[str, msgspec.Struct]], current: object) -> list[tuple[str, msgspec.Struct]]:
    """Per connection of ``restored``: its token, or the current one when that was refreshed later."""
    held = {t.connection_id: t for t in current if isinstance(t, OAuthToken)}  # type: ignore[attr-defined]
    merged = []
    for key, token in restored:
        now = held.get(key)
        merged.append((key, now if now is not None and now.refreshed_at > token.refreshed_at else token))
    return merged


def _read_info(path: Path) -> BackupInfo | None:
    try:
        raw = json.loads((path / _INFO).read_text())
        if raw.get("kind") not in KINDS or not (path / "data.mdb").exists():  # its id is its directory's name
            return None
        return BackupInfo(path.name, float(raw["createdAt"]), _size(path), raw["kind"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir() if f.is_file())
