"""``omniroute.cache.config``: merging section by section, validation naming the dotted key,
per-combo overrides over the stored document."""

from __future__ import annotations

import pytest

from omniroute.cache.config import COMBO_SECTIONS, DEFAULTS, document, effective, merge
from omniroute.errors import GatewayError


def test_defaults_are_the_documented_ones() -> None:
    doc = document(effective({}))
    assert doc["exact"] == {"enabled": True, "ttlS": 3600, "maxEntries": 10000, "maxBytes": 268435456,
                            "memoryEntries": 1000, "onlyDeterministic": True}
    assert doc["semantic"] == {"enabled": False, "threshold": 0.92, "embedder": "local", "maxEntries": 100000}
    assert doc["idempotency"] == {"windowMs": 5000}
    assert set(doc) == set(DEFAULTS)


def test_put_merges_key_by_key() -> None:
    stored = merge({}, {"exact": {"ttlS": 60}})
    stored = merge(stored, {"exact": {"maxEntries": 5}, "semantic": {"enabled": True}})
    config = effective(stored)
    assert (config.exact.ttl_s, config.exact.max_entries, config.semantic.enabled) == (60, 5, True)
    assert config.exact.enabled is True  # untouched keys keep their defaults


@pytest.mark.parametrize(("patch", "param"), [
    ({"exact": {"ttlS": 0}}, "exact.ttlS"), ({"exact": {"enabled": "yes"}}, "exact.enabled"),
    ({"semantic": {"threshold": 1.5}}, "semantic.threshold"), ({"semantic": {"embedder": "nope"}}, "semantic.embedder"),
    ({"idempotency": {"windowMs": -1}}, "idempotency.windowMs"), ({"exact": {"maxEntries": True}}, "exact.maxEntries"),
    ({"exact": {"unknown": 1}}, "exact.unknown"), ({"other": {}}, "other"), ({"exact": 3}, "exact"),
])
def test_bad_values_name_their_key(patch: dict, param: str) -> None:
    with pytest.raises(GatewayError) as caught:
        merge({}, patch)
    assert caught.value.param == param and caught.value.status == 400


def test_combo_overrides_apply_over_the_document() -> None:
    over = merge({}, {"exact": {"onlyDeterministic": False}}, "config.cache.", COMBO_SECTIONS)
    config = effective({"exact": {"ttlS": 10}}, over)
    assert (config.exact.ttl_s, config.exact.only_deterministic) == (10, False)
    with pytest.raises(GatewayError, match=r"config\.cache\.idempotency"):
        merge({}, {"idempotency": {"windowMs": 1}}, "config.cache.", COMBO_SECTIONS)
