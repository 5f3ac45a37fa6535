"""Backups of the store (``omniroute.store.backups``): snapshot, restore, rotation, spend."""

from __future__ import annotations

from pathlib import Path

import pytest

from omniroute.errors import GatewayError
from omniroute.store import Alias, Connection, OAuthToken, Runtime, Session, Store
from omniroute.store.backups import Backups


@pytest.fixture
def parts(tmp_path: Path) -> tuple[Store, Runtime, Backups]:
    store, runtime = Store(tmp_path), Runtime(tmp_path / "runtime")
    return store, runtime, Backups(store, runtime, tmp_path / "backups")


def test_restore_replaces_tables_keeps_sessions_and_merges(parts: tuple[Store, Runtime, Backups]) -> None:
    store, runtime, backups = parts
    store.put("aliases", "a", Alias("a", "openai/gpt-4o"))
    store.put("connections", "c", Connection("c", "claude-code", "cc", oauth="claude"))
    store.put("oauth", "c", OAuthToken("c", "claude", "old", "rt-old", refreshed_at=1.0), bump=False)
    runtime.spend("k:1", 5.0)
    made = backups.create()
    store.delete("aliases", "a")
    store.put("aliases", "b", Alias("b", "openai/gpt-4o"))
    store.put("sessions", "s", Session(1.0, 2.0), bump=False)
    store.put("oauth", "c", OAuthToken("c", "claude", "new", "rt-new", refreshed_at=2.0), bump=False)
    runtime.spend("k:1", -4.0)  # (a lower total now)
    version = store.version()
    before = backups.restore(made.id, keep=5)
    assert [a.alias for a in store.scan("aliases")] == ["a"] and store.version() > version
    assert store.get("sessions", "s") is not None  # whoever restores stays logged in
    assert store.get("oauth", "c").refresh_token == "rt-new"  # the later refresh wins
    assert runtime.spent("k:1") == 5.0  # what was spent stays spent
    assert before.kind == "pre-restore" and {b.kind for b in backups.list()} == {"manual", "pre-restore"}


def test_rotation_and_due(parts: tuple[Store, Runtime, Backups]) -> None:
    _store, _runtime, backups = parts
    assert backups.due(3600, 0.0 + 10**10)
    for _ in range(4):
        backups.create("auto")
    manual = backups.create("manual")
    assert len(backups.rotate(2)) == 2
    assert [b.kind for b in backups.list()].count("auto") == 2 and manual.id in [b.id for b in backups.list()]
    newest = backups.list()[1].created_at
    assert not backups.due(3600, newest + 10) and backups.due(3600, newest + 3601)


def test_refusals(parts: tuple[Store, Runtime, Backups], tmp_path: Path) -> None:
    _store, _runtime, backups = parts
    for bad in ("../x", "", 7, None):
        with pytest.raises(GatewayError) as err:
            backups.find(bad)
        assert err.value.status == 400
    with pytest.raises(GatewayError) as err:
        backups.find("missing")
    assert err.value.status == 404
    broken = backups.root / "broken"
    broken.mkdir(parents=True)
    (broken / "backup.json").write_text('{"kind": "manual", "createdAt": 1}')
    (broken / "data.mdb").write_bytes(b"not lmdb at all" * 100)
    with pytest.raises(GatewayError) as err:
        backups.restore("broken", 3)
    assert err.value.status == 400 and "cannot be read" in err.value.message
    assert all(b.kind != "pre-restore" for b in backups.list())  # refused before anything was done
