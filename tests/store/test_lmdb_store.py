"""The LMDB store: typed records, version counter, shared across processes."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from omniroute.store import ApiKey, Connection, Store


def _writer(path: str) -> None:
    s = Store(path)
    s.put("keys", "h", ApiKey("k1", "from-child", "h", "sk-omni-ab"))
    s.close()


def test_round_trip_and_version(tmp_path: Path) -> None:
    s = Store(tmp_path)
    assert s.version() == 0
    s.put("connections", "a", Connection("a", "openai", "n", "k"))
    assert s.version() == 1 and s.get("connections", "a").api_key == "k"
    assert [c.id for c in s.scan("connections")] == ["a"] and s.count("connections") == 1
    assert s.delete("connections", "a") and not s.delete("connections", "a")
    assert s.version() == 2 and s.get("connections", "a") is None
    s.put_meta("x", b"1")
    assert s.get_meta("x") == b"1" and s.version() == 2


def test_other_process_writes_are_seen(tmp_path: Path) -> None:
    s = Store(tmp_path)
    before = s.version()
    p = multiprocessing.get_context("spawn").Process(target=_writer, args=(str(tmp_path),))
    p.start()
    p.join(20)
    assert p.exitcode == 0
    assert s.version() == before + 1 and s.get("keys", "h").name == "from-child"
