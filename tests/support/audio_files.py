"""Small real audio files made in the test: a WAV from the standard library, and files of the
other types that start with their format's real header (the bytes a decoder checks first).

==========  ================================================================
``wav``     ``wave``: a 440 Hz tone, 16-bit mono at 8 kHz
``mp3``     an ID3v2.4 tag, then MPEG-1 Layer III frame headers (128 kb/s, 44.1 kHz)
``flac``    ``fLaC`` + a STREAMINFO metadata block
``ogg``     an ``OggS`` page header with an Opus ``OpusHead`` packet
``webm``    an EBML header whose DocType is ``webm``, then a Segment id
``m4a``     an ISO base media ``ftyp`` box of brand ``M4A ``
==========  ================================================================
"""

from __future__ import annotations

import math
import struct
import wave
from io import BytesIO


def wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    out = BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = int(seconds * rate)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                               for i in range(frames)))
    return out.getvalue()


def mp3(frames: int = 20) -> bytes:
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x00"
    frame = b"\xff\xfb\x90\x64" + b"\x00" * 413  # 128 kb/s at 44.1 kHz: 417-byte frames
    return tag + frame * frames


def flac() -> bytes:
    info = struct.pack(">HH", 4096, 4096) + b"\x00" * 6 + bytes([0x0A, 0xC4, 0x42, 0xF0]) + b"\x00" * 4 + b"\x00" * 16
    return b"fLaC" + b"\x80" + len(info).to_bytes(3, "big") + info + b"\x00" * 512


def ogg() -> bytes:
    head = b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00"
    page = b"OggS\x00\x02" + b"\x00" * 8 + b"\x01\x00\x00\x00" + b"\x00" * 8 + b"\x01" + bytes([len(head)])
    return page + head + b"\x00" * 512


def webm() -> bytes:
    doctype = b"\x42\x82\x84webm"
    body = b"\x42\x86\x81\x01" + b"\x42\xf7\x81\x01" + doctype
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + b"\x18\x53\x80\x67" + b"\x00" * 512


def m4a() -> bytes:
    ftyp = b"ftypM4A \x00\x00\x00\x00M4A mp42isom"
    return struct.pack(">I", len(ftyp) + 4) + ftyp + b"\x00\x00\x00\x08free" + b"\x00" * 512


FILES = {"wav": wav, "mp3": mp3, "flac": flac, "ogg": ogg, "webm": webm, "m4a": m4a}
