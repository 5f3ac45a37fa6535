"""The SQLite export and its checks on import (``omniroute.store.sqlite_export``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from omniroute.errors import GatewayError
from omniroute.store import Combo, ComboEntry, Connection, Runtime, Store
from omniroute.store.sqlite_export import export_sqlite, read_export


def test_round_trip_masks_keys(tmp_path: Path) -> None:
    store, runtime = Store(tmp_path), Runtime(tmp_path / "runtime")
    store.put("connections", "c", Connection("c", "openai", "n", "sk-1234567890abcdef", enabled=False, models=["m"]))
    store.put("combos", "x", Combo("x", "x", models=[ComboEntry("openai/m", 2.0)], config={"a": [1]}))
    runtime.spend("k:0", 1.25)
    path = tmp_path / "e.sqlite"
    export_sqlite(store, runtime, path)
    con = sqlite3.connect(path)
    assert con.execute("SELECT api_key, enabled FROM connections").fetchone() == ("sk-1…cdef", 0)
    assert con.execute("SELECT usd FROM spend").fetchone() == (1.25,)
    con.close()
    rows = read_export(path.read_bytes(), 1 << 20)
    conn = rows["connections"][0][1]
    assert conn.enabled is False and conn.models == ["m"] and conn.api_key == "sk-1…cdef"
    assert rows["combos"][0][1].models[0].weight == 2.0 and rows["combos"][0][1].config == {"a": [1]}


def test_refusals_name_the_problem(tmp_path: Path) -> None:
    store, runtime = Store(tmp_path), Runtime(tmp_path / "runtime")
    store.put("connections", "c", Connection("c", "openai", "n", "k"))
    path = tmp_path / "e.sqlite"
    export_sqlite(store, runtime, path)
    good = path.read_bytes()
    with pytest.raises(GatewayError) as err:
        read_export(good, 10)
    assert err.value.status == 413
    con = sqlite3.connect(path)
    con.execute("ALTER TABLE connections ADD COLUMN colour TEXT")
    con.commit()
    con.close()
    with pytest.raises(GatewayError, match="unknown column 'colour'"):
        read_export(path.read_bytes(), 1 << 20)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (a)").connection.commit()
    with pytest.raises(GatewayError, match="not an OmniRoute export"):
        read_export(other.read_bytes(), 1 << 20)
