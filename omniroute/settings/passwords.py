"""The management password (hashed in the store) and the login lockout (runtime environment).

Password: PBKDF2-SHA256, 200,000 rounds, a random 16-byte salt, kept in ``meta/password_hash``
as ``salt-hex$digest-hex``; before one is stored, ``INITIAL_PASSWORD`` is the password. A new
password needs at least ``MIN_LENGTH`` characters. ``reset`` (the CLI's ``reset-password``)
stores one and ends every session.

Lockout: ``MAX_FAILURES`` wrong passwords from one client address within ``WINDOW`` seconds
lock that address out of ``POST /api/auth/login`` (429 with ``Retry-After``, even with the
right password) until the oldest of those failures is ``WINDOW`` seconds old. Failures live
in the runtime environment (``marks``, key ``login-fail:<address>``: little-endian f64
times), so every worker counts the same; a successful login clears them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct

from omniroute.store import Runtime, Store

MIN_LENGTH = 8
MAX_FAILURES = 5
WINDOW = 300.0
_ROUNDS = 200_000
_KEY = "password_hash"


def password_stored(store: Store) -> bool:
    return store.get_meta(_KEY) is not None


def verify(store: Store, password: str, initial: str | None) -> bool:
    stored = store.get_meta(_KEY)
    if stored is not None:
        salt, _, digest = stored.partition(b"$")
        candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt.decode()), _ROUNDS)
        return hmac.compare_digest(candidate.hex().encode(), digest)
    return bool(initial) and hmac.compare_digest(password.encode(), initial.encode())  # type: ignore[union-attr]


def store_password(store: Store, password: str) -> None:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _ROUNDS)
    store.put_meta(_KEY, salt.hex().encode() + b"$" + digest.hex().encode())


def weak(password: str) -> str | None:
    """Why ``password`` cannot be a new password, or ``None``."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    return None


def reset(store: Store, password: str) -> int:
    """Store ``password`` and end every session; answers how many sessions ended."""
    store_password(store, password)
    return end_sessions(store)


def end_sessions(store: Store, keep: str | None = None) -> int:
    """Delete every session but ``keep`` (a token hash); answers how many."""
    ended = 0
    for key in store.keys("sessions"):
        if key != keep:
            ended += store.delete("sessions", key, bump=False)
    return ended


# -- lockout ------------------------------------------------------------------------------------
def _key(ip: str) -> str:
    return f"login-fail:{ip}"


def _times(raw: bytes | None) -> list[float]:
    return list(struct.unpack(f"<{len(raw) // 8}d", raw)) if raw else []


def locked_for(runtime: Runtime, ip: str, now: float) -> float:
    """Seconds ``ip`` stays locked out (0: it may try)."""
    recent = [t for t in _times(runtime.get("marks", _key(ip))) if now - t < WINDOW]
    if len(recent) < MAX_FAILURES:
        return 0.0
    return max(0.0, recent[-MAX_FAILURES] + WINDOW - now)


def record_failure(runtime: Runtime, ip: str, now: float) -> None:
    def add(_key: str, raw: bytes | None) -> bytes:
        recent = [t for t in _times(raw) if now - t < WINDOW][-(MAX_FAILURES - 1):]
        return struct.pack(f"<{len(recent) + 1}d", *recent, now)

    runtime.update_many("marks", [_key(ip)], add)


def clear_failures(runtime: Runtime, ip: str) -> None:
    runtime.delete_many("marks", [_key(ip)])
