"""The prompts of one exact part, searchable by cosine similarity: flat while small, a graph
once large.

A semantic lookup only ever compares prompts with the same exact part (``keys``), so each
part is searched on its own — no search over everyone's prompts filtered afterwards, whose
cost grows with the number of *other* conversations:

==========  =====================================================================  =============
kind        how a lookup runs                                                      while
==========  =====================================================================  =============
``Flat``    one matrix product over the part's unit vectors (exact; ~µs)           ≤ ``FLAT_MAX``
``Graph``   an hnswlib (HNSW, cosine) index of its own (approximate; ~0.1 ms at    above
            100k vectors)
==========  =====================================================================  =============

A part grows from flat into a graph when it passes ``FLAT_MAX`` prompts. Removal: a flat part
drops the row; a graph marks the label deleted (its slot is reused by the next add).
``numpy`` and ``hnswlib`` come with the ``[semantic]`` extra; the caller passes them in.
"""

from __future__ import annotations

from typing import Any

FLAT_MAX = 256
M, EF_CONSTRUCTION, EF = 16, 100, 64


class Flat:
    kind = "flat"
    __slots__ = ("labels", "matrix", "np", "rows")

    def __init__(self, np: Any, dim: int, labels: list[int] | None = None, matrix: Any = None) -> None:
        self.np = np
        self.labels: list[int] = labels or []
        self.matrix = matrix if matrix is not None else np.empty((0, dim), dtype=np.float32)
        self.rows = {label: i for i, label in enumerate(self.labels)}

    def __len__(self) -> int:
        return len(self.labels)

    def add(self, label: int, vector: Any) -> None:
        self.rows[label] = len(self.labels)
        self.labels.append(label)
        self.matrix = self.np.vstack((self.matrix, vector[None, :]))

    def remove(self, label: int) -> None:
        row = self.rows.pop(label, None)
        if row is None:
            return
        last = len(self.labels) - 1
        if row != last:  # the last row takes the removed one's place
            self.matrix[row] = self.matrix[last]
            self.labels[row] = self.labels[last]
            self.rows[self.labels[row]] = row
        self.labels.pop()
        self.matrix = self.matrix[:last]

    def nearest(self, vector: Any) -> tuple[int, float] | None:
        if not self.labels:
            return None
        sims = self.matrix @ vector
        row = int(sims.argmax())
        return self.labels[row], float(sims[row])

    def dump(self) -> bytes:
        return self.matrix.astype(self.np.float32).tobytes()


class Graph:
    kind = "graph"
    __slots__ = ("index", "labels")

    def __init__(self, index: Any, labels: set[int]) -> None:
        self.index = index
        self.labels = labels

    @classmethod
    def new(cls, hnswlib: Any, dim: int, capacity: int) -> Graph:
        index = hnswlib.Index(space="cosine", dim=dim)
        index.init_index(max_elements=max(capacity, 2 * FLAT_MAX), ef_construction=EF_CONSTRUCTION, M=M,
                         allow_replace_deleted=True)
        index.set_ef(EF)
        return cls(index, set())

    @classmethod
    def of(cls, hnswlib: Any, flat: Flat, dim: int) -> Graph:
        graph = cls.new(hnswlib, dim, 2 * len(flat) + FLAT_MAX)
        if len(flat):
            graph.index.add_items(flat.matrix, flat.labels, num_threads=1)
            graph.labels.update(flat.labels)
        return graph

    def __len__(self) -> int:
        return len(self.labels)

    def add(self, label: int, vector: Any) -> None:
        index = self.index
        if index.get_current_count() >= index.get_max_elements():
            index.resize_index(index.get_max_elements() * 2)
        index.add_items(vector[None, :], [label], num_threads=1, replace_deleted=True)
        self.labels.add(label)

    def remove(self, label: int) -> None:
        if label in self.labels:
            self.labels.discard(label)
            self.index.mark_deleted(label)

    def nearest(self, vector: Any) -> tuple[int, float] | None:
        if not self.labels:
            return None
        try:
            labels, distances = self.index.knn_query(vector, k=1, num_threads=1)
        except RuntimeError:
            return None
        return int(labels[0][0]), 1.0 - float(distances[0][0])
