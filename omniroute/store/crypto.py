"""Secrets at rest: OAuth tokens encrypted with ``OMNIROUTE_ENCRYPTION_KEY`` when it is set.

=======================  ==================================================================
stored value             meaning
=======================  ==================================================================
``enc:v1:<fernet>``      encrypted (AES-128-CBC + HMAC-SHA256, the ``cryptography``
                         package's Fernet); readable only with the same key
anything else            clear text (written while no key was set); encrypted at its next
                         write once a key is set
=======================  ==================================================================

The key may be a Fernet key (44 url-safe base64 characters) or any passphrase, which is
stretched with PBKDF2-SHA256 (a fixed salt: the same passphrase must open the same data on
every worker and after a restore). An encrypted value without a key, or with another key,
raises ``GatewayError(INTERNAL)`` saying so — a clear message, never a silent empty token.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from omniroute.errors import ErrorKind, GatewayError

PREFIX = "enc:v1:"
_SALT = b"omniroute-secrets-v1"
_ROUNDS = 100_000


def mask(secret: str) -> str:
    """A secret as answers and exports show it: its ends at most, never the whole."""
    if not secret:
        return ""
    return secret[:4] + "…" + secret[-4:] if len(secret) > 12 else "****"


def is_masked(value: str) -> bool:
    return value == "****" or "…" in value


def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.encode())
    except ValueError:
        derived = hashlib.pbkdf2_hmac("sha256", key.encode(), _SALT, _ROUNDS)
        return Fernet(base64.urlsafe_b64encode(derived))


class Cipher:
    """Encrypts with the key when there is one; reads clear and encrypted values."""

    def __init__(self, key: str | None) -> None:
        self._fernet = _fernet(key) if key else None

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    def seal(self, value: str) -> str:
        if not value or self._fernet is None:
            return value
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def open(self, value: str) -> str:
        if not value.startswith(PREFIX):
            return value
        if self._fernet is None:
            raise GatewayError(ErrorKind.INTERNAL, "stored tokens are encrypted: set OMNIROUTE_ENCRYPTION_KEY to "
                               "the key they were written with")
        try:
            return self._fernet.decrypt(value[len(PREFIX):].encode()).decode()
        except InvalidToken:
            raise GatewayError(ErrorKind.INTERNAL, "stored tokens were encrypted with another "
                               "OMNIROUTE_ENCRYPTION_KEY") from None
