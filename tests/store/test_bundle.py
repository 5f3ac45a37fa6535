"""The sync bundle (``omniroute.store.bundle``): no secret in it, ETags, apply rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from omniroute.errors import GatewayError
from omniroute.store import Alias, Connection, SettingValue, Store, bundle


def test_bundle_carries_no_secret_and_applies_by_rule(tmp_path: Path) -> None:
    a, b = Store(tmp_path / "a"), Store(tmp_path / "b")
    a.put("connections", "c", Connection("c", "openai", "n", "sk-secret-key-123"))
    a.put("connections", "s", Connection("s", "claude-code", "sub", oauth="claude"))
    a.put("aliases", "x", Alias("x", "openai/gpt-4o"))
    a.put("settings", "pricing", SettingValue({"openai/gpt-4o": {"input": 1.0}}))
    b.put("aliases", "gone", Alias("gone", "openai/gpt-4o"))
    b.put("connections", "local", Connection("local", "openai", "mine", "sk-local"))
    doc = bundle.build(a)
    assert "sk-secret" not in str(doc) and doc["pricing"] == {"openai/gpt-4o": {"input": 1.0}}
    changes = bundle.apply(b, doc)
    assert changes["aliases"] == {"added": ["x"], "removed": ["gone"]}
    assert sorted(changes["connections"]["added"]) == ["c", "s"]
    assert b.get("connections", "c").api_key == "" and b.get("connections", "s").expired
    assert b.get("connections", "local").api_key == "sk-local"  # never removed
    assert bundle.apply(b, doc) == {}
    assert bundle.etag(bundle.build(a)) == bundle.etag(doc) and bundle.etag(doc).startswith('"')


def test_bad_bundles(tmp_path: Path) -> None:
    store = Store(tmp_path)
    for bad, words in (({"schemaVersion": 2}, "schemaVersion"), ([], "schemaVersion"),
                       ({"schemaVersion": 1, "combos": [{"id": 1}]}, "bundle combos")):
        with pytest.raises(GatewayError, match=words):
            bundle.apply(store, bad)
