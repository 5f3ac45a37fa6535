"""Secrets at rest (``omniroute.store.crypto``)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from omniroute.errors import GatewayError
from omniroute.store.crypto import PREFIX, Cipher, is_masked, mask


def test_sealed_values_open_with_the_same_key_only() -> None:
    sealed = Cipher("a passphrase").seal("rt-secret")
    assert sealed.startswith(PREFIX) and "rt-secret" not in sealed
    assert Cipher("a passphrase").open(sealed) == "rt-secret"
    with pytest.raises(GatewayError, match="another"):
        Cipher("other").open(sealed)
    with pytest.raises(GatewayError, match="OMNIROUTE_ENCRYPTION_KEY"):
        Cipher(None).open(sealed)


def test_fernet_keys_clear_text_and_empty_values() -> None:
    key = Fernet.generate_key().decode()
    assert Cipher(key).open(Fernet(key.encode()).encrypt(b"x").decode().join([PREFIX, ""])) == "x"
    assert Cipher(None).seal("plain") == "plain" and Cipher("k").open("plain") == "plain"
    assert Cipher("k").seal("") == ""


def test_mask() -> None:
    assert mask("sk-1234567890abcdef") == "sk-1…cdef" and mask("short") == "****" and mask("") == ""
    assert is_masked(mask("sk-1234567890abcdef")) and not is_masked("sk-real")
