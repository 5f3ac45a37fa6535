"""Model resolution against a real LMDB store."""

from __future__ import annotations

from pathlib import Path

import pytest

from omniroute.errors import ErrorKind, GatewayError
from omniroute.routing.registry import Registry
from omniroute.store import Alias, Connection, ProviderNode, Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path)
    s.put("connections", "c1", Connection("c1", "openai", "one", "sk-1", priority=1))
    s.put("connections", "c0", Connection("c0", "openai", "zero", "sk-0", base_url="http://x/v1/", priority=0))
    s.put("connections", "t", Connection("t", "together", "tg", "tk"))
    s.put("nodes", "node-1", ProviderNode("node-1", "vllm", "myvllm", "http://gpu:8000/v1"))
    s.put("connections", "n", Connection("n", "node-1", "vllm", ""))
    s.put("aliases", "fast", Alias("fast", "openai/gpt-4o-mini"))
    return s


def test_prefix_routes_and_orders_accounts(store: Store) -> None:
    route = Registry(store).resolve("openai/gpt-4o-mini")
    assert route.model == "gpt-4o-mini"
    assert [t.connection_id for t in route.targets] == ["c0", "c1"]
    assert route.targets[0].chat_url("gpt-4o-mini", False) == "http://x/v1/chat/completions"
    assert route.targets[0].headers["Authorization"] == "Bearer sk-0"


def test_model_ids_with_slashes_and_nodes_and_aliases(store: Store) -> None:
    reg = Registry(store)
    assert (
        reg.resolve("together/meta-llama/Llama-3.3-70B-Instruct-Turbo").model
        == "meta-llama/Llama-3.3-70B-Instruct-Turbo"
    )
    assert reg.resolve("meta-llama/Llama-3.3-70B-Instruct-Turbo").spec.id == "together"  # listed model, bare
    assert reg.resolve("myvllm/llama-3-8b").targets[0].base_url == "http://gpu:8000/v1"
    assert "Authorization" not in reg.resolve("myvllm/llama-3-8b").targets[0].headers  # no key, no header
    assert reg.resolve("fast").model == "gpt-4o-mini"
    assert reg.resolve("gpt-4o").spec.id == "openai"


def test_errors_say_which(store: Store) -> None:
    reg = Registry(store)
    with pytest.raises(GatewayError) as missing:
        reg.resolve("groq/llama")
    assert missing.value.kind is ErrorKind.INVALID_REQUEST and "groq" in missing.value.message
    with pytest.raises(GatewayError) as unknown:
        reg.resolve("who/knows")
    assert unknown.value.status == 404 and "who/knows" in unknown.value.message


def test_snapshot_follows_store_version(store: Store) -> None:
    reg = Registry(store)
    store.put("connections", "g", Connection("g", "groq", "groq", "gk"))
    reg.refresh()
    assert reg.resolve("groq/llama").targets[0].connection_id == "g"
    store.put("connections", "g", Connection("g", "groq", "groq", "gk", enabled=False))
    reg.refresh()
    with pytest.raises(GatewayError):
        reg.resolve("groq/llama")
