"""Audio types by content: the first bytes of a file, checked against its name.

==========  ===================================  ==============  =====================
type        first bytes                          extensions      MIME type sent on
==========  ===================================  ==============  =====================
``wav``     ``RIFF`` ···· ``WAVE``               .wav            ``audio/wav``
``mp3``     ``ID3``, or an MPEG audio frame      .mp3 .mpga      ``audio/mpeg``
            sync (11 set bits)                   .mpeg
``m4a``     ···· ``ftyp`` (ISO base media)       .m4a .mp4       ``audio/mp4``
``flac``    ``fLaC``                             .flac           ``audio/flac``
``ogg``     ``OggS``                             .ogg .oga .opus ``audio/ogg``
``webm``    EBML ``1A 45 DF A3`` with doc type   .webm           ``audio/webm``
            ``webm``
==========  ===================================  ==============  =====================

A name whose extension names another type than the content is *mislabelled* (a 400 naming
both); an unknown extension (or none) goes by the content alone.
"""

from __future__ import annotations

from omniroute.errors import ErrorKind, GatewayError

HEAD_BYTES = 64  # enough for every signature above

MIME = {"wav": "audio/wav", "mp3": "audio/mpeg", "m4a": "audio/mp4", "flac": "audio/flac", "ogg": "audio/ogg",
        "webm": "audio/webm"}
EXTENSIONS = {"wav": "wav", "mp3": "mp3", "mpga": "mp3", "mpeg": "mp3", "m4a": "m4a", "mp4": "m4a",
              "flac": "flac", "ogg": "ogg", "oga": "ogg", "opus": "ogg", "webm": "webm"}
SUPPORTED = ", ".join(MIME)


def audio_type(head: bytes) -> str | None:
    """The audio type whose signature ``head`` starts with, else ``None``."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"\x1a\x45\xdf\xa3" and b"webm" in head[:HEAD_BYTES]:
        return "webm"
    return None


def check_audio(filename: str, head: bytes, size: int) -> str:
    """The file's audio type; a 400 naming the problem when it is empty, not audio of a
    supported type, or named as another type than it holds."""
    if size == 0:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"file '{filename}' is empty", param="file")
    found = audio_type(head)
    ext = filename.rpartition(".")[2].lower() if "." in filename else ""
    named = EXTENSIONS.get(ext)
    if found is None:
        what = f"'.{ext}' " if ext else ""
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"file '{filename}' is not {what}audio of a supported type "
                           f"(its content is none of: {SUPPORTED})", param="file", code="unsupported_audio")
    if named is not None and named != found:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"file '{filename}' is named as {named} but holds {found} audio",
                           param="file", code="mislabelled_audio")
    return found
