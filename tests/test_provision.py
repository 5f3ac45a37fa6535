"""Config-file provisioning validates entries like the management API and names the config path."""

from __future__ import annotations

from pathlib import Path

import pytest

from omniroute.errors import GatewayError
from omniroute.provision import provision
from omniroute.store import Store


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"providers": [{"provider": "openai", "name": "x", "api_key": "k", "base_url": "ftp://nope"}]},
         "providers[0].baseUrl"),
        ({"providers": [{"provider": "openai", "name": "x"}]}, "providers[0].apiKey"),
        ({"providers": [{"provider": "nosuch", "api_key": "k"}]}, "providers[0].provider"),
        ({"providers": [{"provider": "openai", "api_key": "k", "colour": "red"}]}, "providers[0].colour"),
        ({"provider_nodes": [{"prefix": "Bad Prefix", "base_url": "http://x"}]}, "provider_nodes[0].prefix"),
        ({"provider_nodes": [{"prefix": "openai", "base_url": "http://x"}]}, "provider_nodes[0].prefix"),
        ({"provider_nodes": [{"prefix": "ok", "base_url": "gpu-box:8000"}]}, "provider_nodes[0].baseUrl"),
    ],
)
def test_invalid_entries_name_the_config_path(tmp_path: Path, data: dict, where: str) -> None:
    with pytest.raises(GatewayError) as info:
        provision(Store(tmp_path), data)
    assert info.value.message.startswith(f"config {where}:")


def test_reprovisioning_updates_in_place(tmp_path: Path) -> None:
    store = Store(tmp_path)
    data = {
        "provider_nodes": [{"prefix": "gpu", "base_url": "http://gpu:8000/v1/"}],
        "providers": [{"provider": "gpu", "name": "box"}, {"provider": "openai", "name": "main", "apiKey": "k"}],
        "aliases": {"fast": "gpu/llama"},
    }
    assert provision(store, data) == {"providers": 2, "provider_nodes": 1, "aliases": 1}
    provision(store, data)
    conns = list(store.scan("connections"))
    assert len(conns) == 2 and {c.source for c in conns} == {"config"}
    node = next(iter(store.scan("nodes")))
    assert node.base_url == "http://gpu:8000/v1" and any(c.provider == node.id for c in conns)
