"""A gateway whose Python cannot import the semantic extra (a shim on ``PYTHONPATH`` makes
``import sentence_transformers`` fail, as on a machine without ``omniroute[semantic]``): it
starts, says why the semantic cache is unavailable, and answers chat — the exact cache
included — with the semantic cache switched on."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.caching.conftest import chat, unique
from tests.support.gateway import RunningGateway

SHIM = '''
import importlib.abc
import sys


class _Missing(importlib.abc.MetaPathFinder):
    """Answers as if sentence_transformers were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "sentence_transformers" or name.startswith("sentence_transformers."):
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return None


sys.meta_path.insert(0, _Missing())
'''


def test_without_the_extra_chat_works_and_the_reason_is_given(tmp_path: Path, cache_mocks: dict[str, Any]) -> None:
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(SHIM)
    path = os.pathsep.join(p for p in (str(shim), os.environ.get("PYTHONPATH", "")) if p)
    gw = RunningGateway(tmp_path / "gw", "--workers", "2", env={"PYTHONPATH": path})
    try:
        gw.add_openai_upstream(cache_mocks["openai"].base_url)
        assert gw.api("PUT", "/api/cache/config", {"semantic": {"enabled": True}}).status_code == 200
        semantic = gw.api("GET", "/api/cache").json()["semanticCache"]
        assert semantic["enabled"] is True and semantic["available"] is False
        assert "sentence_transformers" in semantic["reason"] and "omniroute[semantic]" in semantic["reason"]
        q = unique()
        assert [chat(gw, q).headers["x-omniroute-cache"] for _ in range(3)] == ["MISS", "HIT", "HIT"]
        stream = chat(gw, unique(), stream=True)
        assert stream.status_code == 200 and stream.text.rstrip().endswith("data: [DONE]")
    finally:
        output = gw.stop()
    assert "Traceback" not in output, output


@pytest.mark.parametrize("doc", [{"semantic": {"threshold": 0}}, {"exact": {"ttlS": -1}}, {"bogus": {}},
                                 {"exact": {"maxEntriez": 3}}, [1, 2]])
def test_bad_cache_config_is_a_400_naming_the_key(doc: Any, cached: RunningGateway) -> None:
    r = cached.api("PUT", "/api/cache/config", doc)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] in ("semantic.threshold", "exact.ttlS", "bogus", "exact.maxEntriez", "cache")
