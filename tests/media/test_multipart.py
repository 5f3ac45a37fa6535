"""``media.multipart``: the incremental reader over pieces split anywhere, its refusals, and
the writer's form read back by the reader."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest

from omniroute.errors import GatewayError
from omniroute.media.multipart import MAX_FIELD, boundary_of, form_body, read_form

AUDIO = os.urandom(300_000)
FORM = (b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ndeepgram/nova-3\r\n"
        b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a b.wav\"\r\nContent-Type: audio/wav"
        b"\r\n\r\n" + AUDIO + b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\nen"
        b"\r\n--XyZ--\r\n")


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


def read(data: bytes, size: int, boundary: bytes = b"XyZ"):  # type: ignore[no-untyped-def]
    return asyncio.run(read_form(pieces(data, size), boundary))


@pytest.mark.parametrize("size", [1, 7, 64, 4096, 1 << 20])
def test_any_split(size: int) -> None:
    form = read(FORM if size > 1 else FORM[:2000] + FORM[2000:], size)
    upload = form.files["file"]
    assert form.fields == {"model": "deepgram/nova-3", "language": "en"}
    assert (upload.filename, upload.content_type) == ("a b.wav", "audio/wav")
    assert (upload.size, upload.head) == (len(AUDIO), AUDIO[:64])
    assert os.pread(upload.spool.fileno(), len(AUDIO) + 1, 0) == AUDIO
    form.close()
    assert upload.spool.closed


@pytest.mark.parametrize(("data", "words"), [
    (FORM[:-10], "ended before its last part"),
    (b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--\r\n", "has no name"),
    (b"--XyZ\r\nContent-Disposition: form-data; name=\"p\"\r\n\r\n" + b"x" * (MAX_FIELD + 1) + b"\r\n--XyZ--",
     "longer than"),
    (b"".join(b"--XyZ\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nv\r\n" % i for i in range(40)),
     "too many multipart parts"),
])
def test_refusals(data: bytes, words: str) -> None:
    with pytest.raises(GatewayError, match=words) as caught:
        read(data, 1000)
    assert caught.value.status == 400


def test_boundary_of() -> None:
    assert boundary_of('multipart/form-data; charset=utf-8; boundary="a=b"') == b"a=b"
    for bad in (None, "application/json", "multipart/form-data"):
        with pytest.raises(GatewayError, match="multipart/form-data"):
            boundary_of(bad)


def test_written_form_reads_back() -> None:
    form = read(FORM, 5000)

    async def roundtrip() -> None:
        body, ctype = form_body({"model": "whisper-1", "prompt": 'say "hi"'}, form.files["file"], "audio/wav")
        data = b"".join([p async for p in body.chunks()])
        assert body.length == len(data)
        again = await read_form(pieces(data, 777), boundary_of(ctype))
        assert again.fields == {"model": "whisper-1", "prompt": 'say "hi"'}
        assert again.files["file"].size == len(AUDIO) and again.files["file"].filename == "a b.wav"
        again.close()

    asyncio.run(roundtrip())
    form.close()
