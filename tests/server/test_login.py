"""Login through a real two-worker gateway: the lockout (shared by the workers), changing the
password, the cookie's attributes and its sliding expiry, and ``omniroute reset-password``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import lmdb
import msgspec
import pytest

from omniroute.cli import main
from omniroute.server.auth import SESSION_SECONDS, hash_key
from tests.support.gateway import RunningGateway

PASSWORD = "first-password-1"
ATTACKER = "203.0.113.50"
NEIGHBOUR = "203.0.113.51"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    gateway = RunningGateway(tmp_path_factory.mktemp("login-gw"), "--workers", "2",
                             env={"INITIAL_PASSWORD": PASSWORD})
    try:
        assert gateway.api("POST", "/api/auth/login", {"password": PASSWORD}).status_code == 200
        assert gateway.api("PUT", "/api/settings", {"trustedProxies": ["127.0.0.0/8"]}).status_code == 200
        yield gateway
    finally:
        gateway.stop()


def login(gw: RunningGateway, password: str, ip: str | None = None, **headers: str) -> httpx.Response:
    """A login on a new connection (so both workers take some)."""
    if ip:
        headers["x-forwarded-for"] = ip
    return httpx.post(gw.url + "/api/auth/login", json={"password": password}, headers=headers)


def test_five_failures_lock_one_address_out(gw: RunningGateway) -> None:
    for _ in range(5):
        assert login(gw, "wrong", ATTACKER).status_code == 401
    locked = login(gw, PASSWORD, ATTACKER)  # even the right password
    assert locked.status_code == 429, locked.text
    assert locked.json()["error"]["code"] == "login_locked"
    assert 290 <= int(locked.headers["retry-after"]) <= 300
    assert login(gw, "wrong", ATTACKER).status_code == 429  # not counted, still locked
    assert login(gw, PASSWORD, NEIGHBOUR).status_code == 200  # other addresses are not affected
    assert login(gw, PASSWORD).status_code == 200


def test_a_success_clears_the_failures(gw: RunningGateway) -> None:
    ip = "203.0.113.60"
    for _ in range(4):
        assert login(gw, "wrong", ip).status_code == 401
    assert login(gw, PASSWORD, ip).status_code == 200
    for _ in range(4):
        assert login(gw, "wrong", ip).status_code == 401
    assert login(gw, PASSWORD, ip).status_code == 200


def test_cookie_attributes(gw: RunningGateway) -> None:
    plain = login(gw, PASSWORD).headers["set-cookie"]
    parts = [p.strip() for p in plain.split(";")]
    assert parts[0].startswith("auth_token=") and {"HttpOnly", "SameSite=Lax", "Path=/"} <= set(parts)
    assert f"Max-Age={SESSION_SECONDS}" in parts and any(p.startswith("Expires=") for p in parts)
    assert "Secure" not in parts
    assert "Secure" in login(gw, PASSWORD, **{"x-forwarded-proto": "https"}).headers["set-cookie"]
    # the header counts only from a trusted proxy
    assert gw.api("PUT", "/api/settings", {"trustedProxies": []}).status_code == 200
    try:
        assert "Secure" not in login(gw, PASSWORD, **{"x-forwarded-proto": "https"}).headers["set-cookie"]
    finally:
        assert gw.api("PUT", "/api/settings", {"trustedProxies": ["127.0.0.0/8"]}).status_code == 200


def _age_session(data_dir: Path, token: str, seconds_left: float) -> None:
    """Make a stored session look old: it expires in ``seconds_left``."""
    env = lmdb.open(str(data_dir), max_dbs=32, subdir=True)
    try:
        with env.begin(write=True) as txn:
            db = env.open_db(b"sessions", txn=txn)
            key = hash_key(token).encode()
            session = msgspec.msgpack.decode(txn.get(key, db=db))
            txn.put(key, msgspec.msgpack.encode({**session, "expires_at": time.time() + seconds_left}), db=db)
    finally:
        env.close()


def test_sessions_slide(gw: RunningGateway) -> None:
    token = login(gw, PASSWORD).json()["token"]
    auth = {"authorization": f"Bearer {token}"}
    fresh = httpx.get(gw.url + "/api/keys", headers=auth)
    assert fresh.status_code == 200 and "set-cookie" not in fresh.headers  # used within the hour: no write
    _age_session(gw.data_dir, token, 3600)
    slid = httpx.get(gw.url + "/api/keys", headers=auth)
    assert slid.status_code == 200 and slid.headers["set-cookie"].startswith(f"auth_token={token};")
    assert "set-cookie" not in httpx.get(gw.url + "/api/keys", headers=auth).headers
    _age_session(gw.data_dir, token, -1)
    assert httpx.get(gw.url + "/api/keys", headers=auth).status_code == 401


def test_changing_the_password(gw: RunningGateway) -> None:
    other = login(gw, PASSWORD).json()["token"]
    me = httpx.Client(base_url=gw.url)
    assert me.post("/api/auth/login", json={"password": PASSWORD}).status_code == 200
    for body, status, param in (({"current": "nope", "new": "second-password-2"}, 401, "current"),
                                ({"current": PASSWORD, "new": "short"}, 400, "new"),
                                ({"new": "second-password-2"}, 400, "current"), ({"current": PASSWORD}, 400, "new")):
        resp = me.post("/api/auth/password", json=body)
        assert resp.status_code == status and resp.json()["error"]["param"] == param, resp.text
    done = me.post("/api/auth/password", json={"current": PASSWORD, "new": "second-password-2"})
    assert done.status_code == 200 and done.json()["sessionsEnded"] >= 1, done.text
    assert me.get("/api/keys").status_code == 200  # the caller's session stays
    assert httpx.get(gw.url + "/api/keys", headers={"authorization": f"Bearer {other}"}).status_code == 401
    assert login(gw, PASSWORD).status_code == 401  # INITIAL_PASSWORD no longer applies
    assert login(gw, "second-password-2").status_code == 200
    me.close()
    gw.http.cookies.clear()
    assert gw.api("POST", "/api/auth/login", {"password": "second-password-2"}).status_code == 200


def test_reset_password_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    assert main(["reset-password", "--password", "short", "--data-dir", str(data)]) == 2
    assert "at least 8" in capsys.readouterr().err
    assert main(["reset-password", "--password", "offline-pass-1", "--data-dir", str(data)]) == 0
    assert "password set" in capsys.readouterr().out
    gw = RunningGateway(data)
    try:
        anon = httpx.Client(base_url=gw.url)
        assert anon.get("/api/providers").status_code == 401  # a password exists: login required
        token = anon.post("/api/auth/login", json={"password": "offline-pass-1"}).json()["token"]
        assert anon.get("/api/providers").status_code == 200
        anon.close()
    finally:
        gw.stop()
    assert main(["reset-password", "--password", "offline-pass-2", "--data-dir", str(data)]) == 0
    assert "1 session(s) ended" in capsys.readouterr().out
    gw = RunningGateway(data)
    try:
        assert gw.http.get("/api/providers", headers={"authorization": f"Bearer {token}"}).status_code == 401
        assert gw.api("POST", "/api/auth/login", {"password": "offline-pass-2"}).status_code == 200
    finally:
        gw.stop()
