"""The semantic cache's vector index: hnswlib (cosine) over prompt embeddings, one per worker.

LMDB's ``semantic`` database is the source of truth (exact-part hash, answer key, expiry and
the embedding itself, under an id that only grows); each worker holds an hnswlib index built
from it. The choice: every worker keeps its own copy and *catches up* instead of one worker
owning the index — a lookup reads the shared ``semId`` counter (one LMDB read) and adds the
prompts other workers stored since (ids above the last one it has), so no request waits on
another process. Removals (TTL, the ``maxEntries`` bound, ``DELETE /api/cache``) happen in
LMDB; a worker notices a removed prompt when a lookup finds it, marks it deleted in its copy
and looks again.

=========================  ============================================================
on disk                    ``semantic.hnsw`` next to the cache's LMDB files, with
                           ``semantic.json`` (dimension, last id, generation, embedder,
                           the file's xxh3 checksum); written atomically (temp file +
                           rename) by a worker whose copy changed, every minute and at
                           shutdown
at start                   the file is loaded when its checksum, dimension, embedder and
                           generation match and its last id is not ahead of LMDB; then the
                           prompts after it are added. A missing, corrupt or stale file is
                           rebuilt from LMDB (stored vectors: nothing is embedded again)
=========================  ============================================================

Loading and rebuilding run in the embedder's thread; lookups wait for them (``ready``).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
from typing import Any

import xxhash

from omniroute.cache.db import DECODE_PROMPT, ENCODE, CacheDB, Prompt, seq_key

log = logging.getLogger("omniroute.cache")
SPACE = "cosine"
M, EF_CONSTRUCTION, EF = 16, 100, 64


class SemanticIndex:
    __slots__ = (
        "changed",
        "db",
        "dim",
        "embedder",
        "generation",
        "index",
        "last_id",
        "np",
        "parts",
        "path",
        "size_hint",
        "source",
    )

    def __init__(self, db: CacheDB, embedder: str, generation: int) -> None:
        self.db = db
        self.embedder = embedder
        self.generation = generation
        self.path = db.path / "semantic.hnsw"
        self.index: Any = None
        self.dim = 0
        self.last_id = 0
        self.parts: dict[int, int] = {}  # label → exact-part hash
        self.source = "empty"  # how the copy came to be: loaded, rebuilt, empty
        self.changed = False
        self.size_hint = 1024
        self.np: Any = None

    # -- building -------------------------------------------------------------------------
    def build(self, dim: int) -> None:
        """Load the file or rebuild from LMDB (blocking: call it in a thread)."""
        self.np = importlib.import_module("numpy")
        self.dim = dim
        if not self._load():
            self._rebuild()
        self.catch_up()

    def _new(self, capacity: int) -> Any:
        hnswlib = importlib.import_module("hnswlib")
        index = hnswlib.Index(space=SPACE, dim=self.dim)
        index.init_index(max_elements=max(capacity, 1024), ef_construction=EF_CONSTRUCTION, M=M,
                         allow_replace_deleted=True)
        index.set_ef(EF)
        return index

    def _load(self) -> bool:
        meta_path = self.path.with_suffix(".json")
        try:
            meta = json.loads(meta_path.read_text())
            data = self.path.read_bytes()
        except (OSError, ValueError):
            return False
        expected = {"dim": self.dim, "embedder": self.embedder, "generation": self.generation,
                    "checksum": xxhash.xxh3_64_hexdigest(data)}
        if any(meta.get(k) != v for k, v in expected.items()) or meta.get("lastId", 0) > self.db.counter("semId"):
            log.info("semantic index %s does not match the cache: rebuilding it", self.path)
            return False
        try:
            index = self._new(1)
            capacity = max(meta.get("capacity", 0), 1024)
            index.load_index(str(self.path), max_elements=capacity, allow_replace_deleted=True)
            index.set_ef(EF)
        except (RuntimeError, ValueError) as exc:
            log.warning("semantic index %s did not load (%s): rebuilding it", self.path, exc)
            return False
        self.index, self.parts, self.last_id = index, {int(k): v for k, v in meta["parts"].items()}, meta["lastId"]
        for label in set(index.get_ids_list()) - set(self.parts):
            index.mark_deleted(label)
        self.source = "loaded"
        return True

    def _rebuild(self) -> None:
        with self.db.read() as txn:
            rows = [(seq_key.unpack(bytes(k))[0], DECODE_PROMPT(v)) for k, v in txn.cursor(db=self.db.semantic)]
            top = self.db.counter("semId", txn)
        self.index = self._new(len(rows) * 2)
        self.parts = {}
        if rows:
            vectors = self.np.stack([self.np.frombuffer(p.vector, dtype=self.np.float32) for _id, p in rows])
            self.index.add_items(vectors, [i for i, _p in rows])
            self.parts = {i: p.part for i, p in rows}
        self.last_id = top
        self.source = "rebuilt" if rows or self.path.exists() else "empty"
        self.changed = True

    def catch_up(self) -> None:
        """Add the prompts other workers stored since this copy's last id."""
        top = self.db.counter("semId")
        if top <= self.last_id or self.index is None:
            return
        with self.db.read() as txn:
            cursor = txn.cursor(db=self.db.semantic)
            rows = []
            if cursor.set_range(seq_key.pack(self.last_id + 1)):
                rows = [(seq_key.unpack(bytes(k))[0], DECODE_PROMPT(v)) for k, v in cursor]
        self.last_id = top
        for label, prompt in rows:
            self._add(label, prompt)

    def _add(self, label: int, prompt: Prompt) -> None:
        if len(prompt.vector) != self.dim * 4 or label in self.parts:
            return
        index = self.index
        if index.get_current_count() >= index.get_max_elements():
            index.resize_index(index.get_max_elements() * 2)
        index.add_items(self.np.frombuffer(prompt.vector, dtype=self.np.float32)[None, :], [label],
                        replace_deleted=True)
        self.parts[label] = prompt.part
        self.changed = True

    # -- lookups ----------------------------------------------------------------------------
    def nearest(self, vector: Any, part: int) -> tuple[int, float] | None:
        """(label, cosine similarity) of the closest stored prompt with the same exact part."""
        if self.index is None or not self.parts:
            return None
        parts = self.parts
        try:
            labels, distances = self.index.knn_query(vector, k=1, num_threads=1,
                                                     filter=lambda label: parts.get(label) == part)
        except RuntimeError:  # nothing with this exact part
            return None
        return int(labels[0][0]), 1.0 - float(distances[0][0])

    def answer_of(self, label: int, now: float) -> bytes | None:
        """The answer key of prompt ``label`` while it is stored and fresh; a prompt gone from
        LMDB is marked deleted in this copy."""
        with self.db.read() as txn:
            raw = txn.get(seq_key.pack(label), db=self.db.semantic)
        prompt = DECODE_PROMPT(raw) if raw is not None else None
        if prompt is not None and prompt.expires > now:
            return prompt.answer
        self.forget(label)
        return None

    def forget(self, label: int) -> None:
        if self.parts.pop(label, None) is not None:
            self.index.mark_deleted(label)
            self.changed = True

    # -- writes -----------------------------------------------------------------------------
    def store(self, txn: Any, prompt: Prompt, max_entries: int) -> int:
        """Keep ``prompt`` in ``txn``, removing the oldest past ``max_entries``; its id."""
        label = self.db.add(txn, "semId", 1)
        txn.put(seq_key.pack(label), ENCODE(prompt), db=self.db.semantic)
        count = txn.stat(self.db.semantic)["entries"]
        cursor = txn.cursor(db=self.db.semantic)
        while count > max_entries and cursor.first():
            cursor.delete()
            count -= 1
        return label

    def sweep(self, now: float) -> None:
        with self.db.write() as txn:
            cursor = txn.cursor(db=self.db.semantic)
            gone = [bytes(k) for k, v in cursor if DECODE_PROMPT(v).expires <= now]
            for key in gone:
                txn.delete(key, db=self.db.semantic)
        for key in gone:
            self.forget(seq_key.unpack(key)[0])

    def save(self) -> None:
        """Write the copy atomically when it changed (blocking: call it in a thread)."""
        if self.index is None or not self.changed:
            return
        self.changed = False
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        self.index.save_index(str(tmp))
        meta = {"dim": self.dim, "embedder": self.embedder, "generation": self.generation, "lastId": self.last_id,
                "capacity": self.index.get_max_elements(), "parts": {str(k): v for k, v in self.parts.items()},
                "checksum": xxhash.xxh3_64_hexdigest(tmp.read_bytes())}
        meta_tmp = self.path.with_name(f".semantic.json.{os.getpid()}")
        meta_tmp.write_text(json.dumps(meta))
        os.replace(tmp, self.path)
        os.replace(meta_tmp, self.path.with_suffix(".json"))

    @property
    def size(self) -> int:
        return len(self.parts)
