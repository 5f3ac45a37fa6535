"""``/api/db-backups*`` through real gateways: snapshots while serving, restore seen by both
workers, a backup restored into a fresh instance, the SQLite export read with ``sqlite3`` and
imported back, corrupt or foreign files refused with nothing changed, automatic backups."""

from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.gateway import RunningGateway
from tests.support.openai_upstream import OpenAIUpstream


@pytest.fixture(scope="module")
def gw2(tmp_path_factory: pytest.TempPathFactory, upstream: OpenAIUpstream) -> Iterator[RunningGateway]:
    gateway = RunningGateway(tmp_path_factory.mktemp("gw-backups"), "--workers", "2", "--max-import-bytes", "200000")
    gateway.add_openai_upstream(upstream.base_url, prefix="bk")
    yield gateway
    gateway.stop()


def aliases(gw: RunningGateway) -> dict[str, str]:
    return gw.api("GET", "/api/models/alias").json()["aliases"]


def ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json()


def backups(gw: RunningGateway) -> list[dict[str, Any]]:
    return ok(gw.api("GET", "/api/db-backups"))["backups"]


def test_backup_and_restore_on_both_workers(gw2: RunningGateway) -> None:
    ok(gw2.api("POST", "/api/models/alias", {"alias": "keep", "model": "bk/gpt-4o-mini"}), 201)
    made = ok(gw2.api("PUT", "/api/db-backups"), 201)["backup"]
    assert made["kind"] == "manual" and made["bytes"] > 0 and set(made) == {"id", "createdAt", "bytes", "kind"}
    assert made["id"] in [b["id"] for b in backups(gw2)]
    gw2.api("DELETE", "/api/models/alias/keep")
    ok(gw2.api("POST", "/api/models/alias", {"alias": "later", "model": "bk/gpt-4o"}), 201)
    restored = ok(gw2.api("POST", "/api/db-backups", {"id": made["id"]}))
    assert restored["preRestore"]["kind"] == "pre-restore"
    for _ in range(6):  # either worker answers: both serve the restored state
        assert set(aliases(gw2)) >= {"keep"} and "later" not in aliases(gw2)
    chat = gw2.http.post("/v1/chat/completions", json={"model": "keep", "messages": [{"role": "user", "content": "x"}]})
    assert chat.status_code == 200, chat.text
    kinds = {b["kind"] for b in backups(gw2)}
    assert {"manual", "pre-restore"} <= kinds


def test_restore_refusals(gw2: RunningGateway) -> None:
    assert gw2.api("POST", "/api/db-backups", {"id": "nope"}).status_code == 404
    bad = gw2.api("POST", "/api/db-backups", {"id": "../../etc"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "id"
    assert gw2.api("POST", "/api/db-backups", {}).status_code == 400


def test_archive_restored_into_a_fresh_instance(gw2: RunningGateway, tmp_path: Path) -> None:
    ok(gw2.api("POST", "/api/combos", {"name": "fresh-combo", "models": ["bk/gpt-4o-mini"]}), 201)
    resp = gw2.api("GET", "/api/db-backups/exportAll")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(resp.content)) as tar:
        names = set(tar.getnames())
        assert {"metadata.json", "store/data.mdb", "providers.json", "combos.json", "keys.json"} <= names
        assert b"sk-upstream" not in tar.extractfile("providers.json").read()  # type: ignore[union-attr]
        tar.extractall(tmp_path / "x", filter="data")
    fresh_dir = tmp_path / "fresh"
    shutil.copytree(tmp_path / "x" / "store", fresh_dir / "backups" / "from-archive")
    fresh = RunningGateway(fresh_dir)
    try:
        assert ok(fresh.api("GET", "/api/combos"))["combos"] == []
        ok(fresh.api("POST", "/api/db-backups", {"id": "from-archive"}))
        assert [c["name"] for c in ok(fresh.api("GET", "/api/combos"))["combos"]] == ["fresh-combo"]
        conn = ok(fresh.api("GET", "/api/providers"))["connections"][0]
        assert ok(fresh.api("POST", f"/api/providers/{conn['id']}/test"))["ok"]  # the real key came along
        chat = fresh.http.post("/v1/chat/completions",
                               json={"model": "fresh-combo", "messages": [{"role": "user", "content": "x"}]})
        assert chat.status_code == 200, chat.text
    finally:
        fresh.stop()


def _export(gw: RunningGateway, path: Path) -> Path:
    resp = gw.api("GET", "/api/db-backups/export")
    assert resp.status_code == 200 and resp.content.startswith(b"SQLite format 3\x00")
    assert resp.headers["content-disposition"].endswith('.sqlite"')
    path.write_bytes(resp.content)
    return path


def test_export_is_readable_with_sqlite3(gw2: RunningGateway, tmp_path: Path) -> None:
    ok(gw2.api("POST", "/api/keys", {"name": "reader"}), 201)
    path = _export(gw2, tmp_path / "e.sqlite")
    con = sqlite3.connect(path)
    try:
        assert dict(con.execute("SELECT key, value FROM omniroute_meta"))["schema_version"] == "1"
        keys = [row[0] for row in con.execute("SELECT api_key FROM connections")]
        assert keys and all("sk-upstream" not in k for k in keys)
        hashes = [row[0] for row in con.execute("SELECT key_hash FROM keys")]
        assert hashes and all(len(h) == 64 for h in hashes)
    finally:
        con.close()
    if shutil.which("sqlite3"):
        out = subprocess.run(["sqlite3", str(path), "SELECT count(*) FROM connections"], capture_output=True,
                             text=True, check=True)
        assert int(out.stdout) >= 1


def test_import_replaces_atomically_and_keeps_secrets(gw2: RunningGateway, tmp_path: Path) -> None:
    path = _export(gw2, tmp_path / "e.sqlite")
    con = sqlite3.connect(path)
    con.execute("INSERT INTO aliases (key, alias, model, created_at) VALUES ('imported', 'imported', "
                "'bk/gpt-4o', 1.0)")
    con.commit()
    con.close()
    before = len(backups(gw2))
    files = {"file": ("e.sqlite", path.read_bytes(), "application/vnd.sqlite3")}
    answer = ok(gw2.http.post("/api/db-backups/import", files=files))
    assert answer["imported"]["aliases"] >= 1 and answer["preRestore"]["kind"] == "pre-restore"
    assert aliases(gw2)["imported"] == "bk/gpt-4o" and len(backups(gw2)) >= before + 1
    conn = ok(gw2.api("GET", "/api/providers"))["connections"][0]
    assert ok(gw2.api("POST", f"/api/providers/{conn['id']}/test"))["ok"]  # its key was kept, not masked


def _edited(src: Path, dst: Path, sql: str) -> bytes:
    shutil.copy(src, dst)
    con = sqlite3.connect(dst)
    con.executescript(sql)
    con.close()
    return dst.read_bytes()


def test_bad_imports_change_nothing(gw2: RunningGateway, tmp_path: Path) -> None:
    good = _export(gw2, tmp_path / "good.sqlite")
    state = (aliases(gw2), len(backups(gw2)), gw2.api("GET", "/api/monitoring/health").json()["store"]["version"])
    cases = {
        "not sqlite": (b"hello, this is not a database", "no SQLite header"),
        "truncated": (good.read_bytes()[:300] + b"\0" * 700, "damaged"),
        "old schema": (_edited(good, tmp_path / "v.sqlite", "UPDATE omniroute_meta SET value = '99' "
                                                           "WHERE key = 'schema_version';"), "schema_version"),
        "no table": (_edited(good, tmp_path / "t.sqlite", "DROP TABLE combos;"), "'combos' is missing"),
        "bad row": (_edited(good, tmp_path / "r.sqlite", "UPDATE connections SET priority = 'high';"),
                    "connections[0]"),
    }
    for name, (data, words) in cases.items():
        resp = gw2.http.post("/api/db-backups/import", content=data)
        assert resp.status_code == 400 and words in resp.json()["error"]["message"], (name, resp.text)
    too_big = gw2.http.post("/api/db-backups/import", content=b"SQLite format 3\x00" + b"\0" * 300_000)
    assert too_big.status_code == 413
    after = (aliases(gw2), len(backups(gw2)), gw2.api("GET", "/api/monitoring/health").json()["store"]["version"])
    assert after == state


def test_automatic_backups_rotate(tmp_path_factory: pytest.TempPathFactory) -> None:
    gw = RunningGateway(tmp_path_factory.mktemp("gw-auto"), "--workers", "2", "--backup-interval", "0.0004",
                        "--backup-keep", "2")
    try:
        ok(gw.api("POST", "/api/models/alias", {"alias": "a", "model": "openai/gpt-4o"}), 201)
        deadline = time.time() + 20
        while time.time() < deadline and len([b for b in backups(gw) if b["kind"] == "auto"]) < 2:
            time.sleep(0.3)
        time.sleep(3.5)  # a few more turns: rotation keeps two
        autos = [b for b in backups(gw) if b["kind"] == "auto"]
        assert len(autos) == 2, backups(gw)
        assert autos[0]["createdAt"] - autos[1]["createdAt"] >= 1.0  # one per interval, not one per worker
    finally:
        gw.stop()
