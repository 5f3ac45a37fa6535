"""``omniroute.cache.vectors`` and ``groups`` on a real LMDB environment: lookups stay inside an
exact part, a part grows from flat into an hnswlib graph, removals, the index file saved and
loaded, and rebuilt from LMDB when it is missing or corrupt."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from omniroute.cache.db import CacheDB, Prompt
from omniroute.cache.groups import FLAT_MAX, Flat, Graph
from omniroute.cache.vectors import SemanticIndex

DIM = 16


def unit(rng: np.random.Generator) -> np.ndarray:
    v = rng.standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def fill(db: CacheDB, index: SemanticIndex, vectors: list[tuple[int, np.ndarray]]) -> None:
    with db.write() as txn:
        for part, v in vectors:
            index.store(txn, Prompt(part, bytes(16), 1e12, v.tobytes(), "test"), 1_000_000)


def test_lookups_stay_in_their_part_and_parts_grow_into_graphs(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    db = CacheDB(tmp_path)
    index = SemanticIndex(db, "test", 0)
    index.build(DIM)
    big = [(1, unit(rng)) for _ in range(FLAT_MAX + 40)]
    fill(db, index, [*big, (2, big[0][1])])
    index.catch_up()
    assert isinstance(index.groups[1], Graph) and isinstance(index.groups[2], Flat)
    label, similarity = index.nearest(big[5][1], 1)
    assert label == 6 and similarity == pytest.approx(1.0, abs=1e-4)
    assert index.nearest(big[5][1], 2)[0] == len(big) + 1  # part 2 has only its own prompt
    assert index.nearest(big[5][1], 3) is None
    index.forget(6)
    assert index.nearest(big[5][1], 1)[0] != 6


def test_prompts_of_another_embedder_stay_out(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    db = CacheDB(tmp_path)
    v = unit(rng)
    with db.write() as txn:
        SemanticIndex(db, "old", 0).store(txn, Prompt(1, bytes(16), 1e12, v.tobytes(), "old"), 100)
    index = SemanticIndex(db, "test", 0)
    index.build(DIM)
    assert index.nearest(v, 1) is None and index.size == 0


@pytest.mark.parametrize("damage", [None, "delete", "corrupt"])
def test_the_file_loads_or_is_rebuilt(tmp_path: Path, damage: str | None) -> None:
    rng = np.random.default_rng(2)
    db = CacheDB(tmp_path)
    index = SemanticIndex(db, "test", 0)
    index.build(DIM)
    vectors = [(1, unit(rng)) for _ in range(FLAT_MAX + 10)] + [(2, unit(rng)) for _ in range(3)]
    fill(db, index, vectors)
    index.catch_up()
    index.save()
    if damage == "delete":
        index.path.unlink()
    elif damage == "corrupt":
        index.path.write_bytes(b"\\0" * 100)
    again = SemanticIndex(db, "test", 0)
    again.build(DIM)
    assert again.source == ("loaded" if damage is None else "rebuilt")
    assert again.size == len(vectors)
    for label, (part, v) in enumerate(vectors, start=1):
        assert again.nearest(v, part)[0] == label
