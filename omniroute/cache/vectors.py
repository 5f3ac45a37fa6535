"""The semantic cache's vector index: prompt embeddings by exact part, one copy per worker.

LMDB's ``semantic`` database is the source of truth (exact-part hash, answer key, expiry and
the embedding itself, under an id that only grows); each worker holds an hnswlib index built
from it. The choice: every worker keeps its own copy and *catches up* instead of one worker
owning the index — a lookup reads the shared ``semId`` counter (one LMDB read) and adds the
prompts other workers stored since (ids above the last one it has), so no request waits on
another process. Removals (TTL, the ``maxEntries`` bound, ``DELETE /api/cache``) happen in
LMDB; a worker notices a removed prompt when a lookup finds it, marks it deleted in its copy
and looks again.

Each exact part is searched on its own (``groups``: a flat matrix while small, an hnswlib
graph once large), so a lookup never wades through other conversations' prompts.

=========================  ============================================================
on disk                    ``semantic.hnsw`` next to the cache's LMDB files — every
                           part's vectors (flat parts) or hnswlib index (graphs), one
                           after the other — with ``semantic.json`` (dimension, last
                           id, generation, embedder, each part's labels and place in
                           the file, the file's xxh3 checksum); written atomically
                           (temp file + rename) by a worker whose copy changed, every
                           minute and at shutdown
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
import tempfile
from pathlib import Path
from typing import Any

import xxhash

from omniroute.cache.db import DECODE_PROMPT, ENCODE, CacheDB, Prompt, seq_key
from omniroute.cache.groups import FLAT_MAX, Flat, Graph

log = logging.getLogger("omniroute.cache")


class SemanticIndex:
    __slots__ = ("changed", "db", "deferred", "dim", "embedder", "generation", "groups", "hnswlib", "last_id", "np",
                 "parts", "path", "saving", "source")

    def __init__(self, db: CacheDB, embedder: str, generation: int) -> None:
        self.db = db
        self.embedder = embedder
        self.generation = generation
        self.path = db.path / "semantic.hnsw"
        self.groups: dict[int, Flat | Graph] = {}  # exact part → its prompts
        self.parts: dict[int, int] = {}  # label → exact part
        self.dim = 0
        self.last_id = 0
        self.source = "empty"  # how the copy came to be: loaded, rebuilt, empty
        self.changed = False
        self.np: Any = None
        self.hnswlib: Any = None
        self.saving = False  # a save runs in a thread: changes wait for it (hnswlib reads meanwhile)
        self.deferred: list[int] = []  # labels to forget once it is done

    # -- building -------------------------------------------------------------------------
    def build(self, dim: int) -> None:
        """Load the file or rebuild from LMDB (blocking: call it in a thread)."""
        self.np = importlib.import_module("numpy")
        self.hnswlib = importlib.import_module("hnswlib")
        self.dim = dim
        if not self._load():
            self._rebuild()
        self.catch_up()

    def _load(self) -> bool:
        try:
            meta = json.loads(self.path.with_suffix(".json").read_text())
            data = self.path.read_bytes()
        except (OSError, ValueError):
            return False
        expected = {"dim": self.dim, "embedder": self.embedder, "generation": self.generation,
                    "checksum": xxhash.xxh3_64_hexdigest(data)}
        if any(meta.get(k) != v for k, v in expected.items()) or meta.get("lastId", 0) > self.db.counter("semId"):
            log.info("semantic index %s does not match the cache: rebuilding it", self.path)
            return False
        try:
            groups = {part: self._thaw(kind, labels, data[at : at + size], capacity)
                      for part, kind, labels, at, size, capacity in meta["groups"]}
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            log.warning("semantic index %s did not load (%s): rebuilding it", self.path, exc)
            return False
        self.groups, self.last_id = groups, meta["lastId"]
        self.parts = {label: part for part, group in groups.items() for label in group.labels}
        self.source = "loaded"
        return True

    def _thaw(self, kind: str, labels: list[int], blob: bytes, capacity: int) -> Flat | Graph:
        if kind == Flat.kind:
            matrix = self.np.frombuffer(blob, dtype=self.np.float32).reshape(len(labels), self.dim).copy()
            return Flat(self.np, self.dim, list(labels), matrix)
        graph = Graph.new(self.hnswlib, self.dim, 1)
        with tempfile.NamedTemporaryFile(dir=self.db.path, prefix=".thaw-") as tmp:
            tmp.write(blob)
            tmp.flush()
            graph.index.load_index(tmp.name, max_elements=capacity, allow_replace_deleted=True)
        graph.index.set_ef(64)
        graph.labels = set(labels)
        for label in set(graph.index.get_ids_list()) - graph.labels:
            graph.index.mark_deleted(label)
        return graph

    def _rebuild(self) -> None:
        with self.db.read() as txn:
            rows = [(seq_key.unpack(bytes(k))[0], DECODE_PROMPT(v)) for k, v in txn.cursor(db=self.db.semantic)]
            top = self.db.counter("semId", txn)
        by_part: dict[int, list[tuple[int, Prompt]]] = {}
        for label, prompt in rows:
            if self._usable(prompt):
                by_part.setdefault(prompt.part, []).append((label, prompt))
        self.groups, self.parts = {}, {}
        for part, members in by_part.items():
            labels = [label for label, _p in members]
            matrix = self.np.stack([self.np.frombuffer(p.vector, dtype=self.np.float32) for _l, p in members])
            flat = Flat(self.np, self.dim, labels, matrix)
            self.groups[part] = flat if len(flat) <= FLAT_MAX else Graph.of(self.hnswlib, flat, self.dim)
            self.parts.update(dict.fromkeys(labels, part))
        self.last_id = top
        self.source = "rebuilt" if rows or self.path.exists() else "empty"
        self.changed = True

    def catch_up(self) -> None:
        """Add the prompts other workers stored since this copy's last id."""
        top = self.db.counter("semId")
        if top <= self.last_id or self.np is None or self.saving:
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
        if not self._usable(prompt) or label in self.parts:
            return
        vector = self.np.frombuffer(prompt.vector, dtype=self.np.float32)
        group = self.groups.get(prompt.part)
        if group is None:
            group = self.groups[prompt.part] = Flat(self.np, self.dim)
        elif isinstance(group, Flat) and len(group) >= FLAT_MAX:
            group = self.groups[prompt.part] = Graph.of(self.hnswlib, group, self.dim)
        group.add(label, vector)
        self.parts[label] = prompt.part
        self.changed = True

    def _usable(self, prompt: Prompt) -> bool:
        """Embedded by this index's embedder, at its size (prompts another embedder stored
        before the setting changed stay out; they expire with their TTL)."""
        return prompt.embedder == self.embedder and len(prompt.vector) == self.dim * 4

    # -- lookups ----------------------------------------------------------------------------
    def nearest(self, vector: Any, part: int) -> tuple[int, float] | None:
        """(label, cosine similarity) of the closest stored prompt with the same exact part."""
        group = self.groups.get(part)
        return group.nearest(vector) if group is not None else None

    def answer_of(self, label: int, now: float) -> bytes | None:
        """The answer key of prompt ``label`` while it is stored and fresh; a prompt gone from
        LMDB is forgotten by this copy."""
        with self.db.read() as txn:
            raw = txn.get(seq_key.pack(label), db=self.db.semantic)
        prompt = DECODE_PROMPT(raw) if raw is not None else None
        if prompt is not None and prompt.expires > now:
            return prompt.answer
        self.forget(label)
        return None

    def forget(self, label: int) -> None:
        if self.saving:
            self.deferred.append(label)
            return
        part = self.parts.pop(label, None)
        if part is not None:
            group = self.groups[part]
            group.remove(label)
            if not len(group):
                del self.groups[part]
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

    def sweep(self, now: float, batch: int = 2000) -> None:
        """Remove expired prompts, oldest first, stopping at the first one still fresh or after
        ``batch`` (bounded work; a lookup never uses an expired prompt meanwhile)."""
        with self.db.write() as txn:
            cursor = txn.cursor(db=self.db.semantic)
            gone: list[bytes] = []
            found = cursor.first()
            while found and len(gone) < batch and DECODE_PROMPT(cursor.value()).expires <= now:
                gone.append(bytes(cursor.key()))
                found = cursor.next()
            for key in gone:
                txn.delete(key, db=self.db.semantic)
        for key in gone:
            self.forget(seq_key.unpack(key)[0])

    def save(self) -> None:
        """Write the copy atomically when it changed (blocking: call it in a thread)."""
        if self.np is None or not self.changed:
            return
        self.changed = False
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        groups, at = [], 0
        with tmp.open("wb") as out:
            for part, group in list(self.groups.items()):
                blob = group.dump() if isinstance(group, Flat) else self._freeze(group)
                out.write(blob)
                capacity = group.index.get_max_elements() if isinstance(group, Graph) else 0
                labels = group.labels if isinstance(group, Flat) else sorted(group.labels)
                groups.append([part, group.kind, labels, at, len(blob), capacity])
                at += len(blob)
        meta = {"dim": self.dim, "embedder": self.embedder, "generation": self.generation, "lastId": self.last_id,
                "groups": groups, "checksum": xxhash.xxh3_64_hexdigest(tmp.read_bytes())}
        meta_tmp = self.path.with_name(f".semantic.json.{os.getpid()}")
        meta_tmp.write_text(json.dumps(meta))
        os.replace(tmp, self.path)
        os.replace(meta_tmp, self.path.with_suffix(".json"))

    def saved(self) -> None:
        """A save in a thread ended (on the event loop): apply what waited for it."""
        self.saving = False
        deferred, self.deferred = self.deferred, []
        for label in deferred:
            self.forget(label)
        self.catch_up()

    def _freeze(self, graph: Graph) -> bytes:
        with tempfile.NamedTemporaryFile(dir=self.db.path, prefix=".freeze-") as tmp:
            graph.index.save_index(tmp.name)
            return Path(tmp.name).read_bytes()

    @property
    def size(self) -> int:
        return len(self.parts)
