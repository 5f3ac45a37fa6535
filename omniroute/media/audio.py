"""Transcription: the form's fields checked, and Deepgram / AssemblyAI transcripts turned
into OpenAI's answers.

A Whisper-style upstream (OpenAI, Groq, Together, DeepInfra, Mistral) gets the same form
(model renamed) and its answer passes through. The others:

==========================  =====================================  ==============================
OpenAI                      Deepgram ``POST /v1/listen``            AssemblyAI (upload, create,
                            (the audio is the body)                 poll ``/v2/transcript/{id}``)
==========================  =====================================  ==============================
``model``                   ``?model=``                            ``speech_model``
``language``                ``?language=`` (else                   ``language_code`` (else
                            ``detect_language=true``)              ``language_detection: true``)
``prompt``                  (not taken)                            ``word_boost``: its words
``text``                    ``results.channels[0]                  ``text``
                            .alternatives[0].transcript``
``language``                ``channels[0].detected_language``      ``language_code`` (``en_us``
                                                                   → ``en``)
``duration``                ``metadata.duration``                  ``audio_duration``
``segments``                ``results.utterances`` (s)             ``words`` (ms) in sentences
==========================  =====================================  ==============================

Answers by ``response_format``: ``json`` → ``{"text", "task": "transcribe", "language",
"duration"}``; ``verbose_json`` adds ``segments``; ``text`` the text; ``srt`` and ``vtt``
subtitles of the segments.
"""

from __future__ import annotations

import struct
from typing import Any
from urllib.parse import urlencode

import msgspec

from omniroute.errors import ErrorKind, GatewayError

RESPONSE_FORMATS = ("json", "text", "verbose_json", "srt", "vtt")
_encode = msgspec.json.Encoder()
_decode = msgspec.json.Decoder()


class Segment(msgspec.Struct):
    start: float
    end: float
    text: str


class Transcript(msgspec.Struct):
    text: str
    language: str
    duration: float
    segments: list[Segment]


def check_fields(fields: dict[str, str], has_file: bool) -> str:
    """The answer format asked for; 400 naming a missing ``file``/``model`` or a bad value."""
    if not has_file:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'file' is required (the audio, as a form file)", param="file")
    if not fields.get("model"):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'model' is required", param="model")
    fmt = fields.get("response_format") or "json"
    if fmt not in RESPONSE_FORMATS:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"'response_format' must be one of {', '.join(RESPONSE_FORMATS)}"
                           f", not {fmt!r}", param="response_format")
    return fmt


# -- Deepgram ----------------------------------------------------------------------------------
def deepgram_query(model: str, fields: dict[str, str]) -> str:
    params = {"model": model, "smart_format": "true", "punctuate": "true", "utterances": "true"}
    if fields.get("language"):
        params["language"] = fields["language"]
    else:
        params["detect_language"] = "true"
    return "?" + urlencode(params)


def deepgram_transcript(body: bytes, asked: str | None) -> Transcript:
    data = _decode.decode(body)
    results, duration = data.get("results") or {}, float((data.get("metadata") or {}).get("duration") or 0.0)
    channel = (results.get("channels") or [{}])[0]
    alternative = (channel.get("alternatives") or [{}])[0]
    text = alternative.get("transcript") or ""
    segments = [Segment(float(u["start"]), float(u["end"]), u.get("transcript", ""))
                for u in results.get("utterances") or []]
    language = channel.get("detected_language") or asked or "en"
    return Transcript(text, language, duration, segments or ([Segment(0.0, duration, text)] if text else []))


# -- AssemblyAI --------------------------------------------------------------------------------
def assemblyai_create(upload_url: str, model: str, fields: dict[str, str]) -> bytes:
    body: dict[str, Any] = {"audio_url": upload_url, "speech_model": model}
    if fields.get("language"):
        body["language_code"] = fields["language"]
    else:
        body["language_detection"] = True
    if fields.get("prompt"):
        body["word_boost"] = [w.strip(".,;:!?\"'") for w in fields["prompt"].split() if len(w) > 2][:100]
    return _encode.encode(body)


def assemblyai_state(body: bytes) -> tuple[str, dict[str, Any]]:
    """(status, transcript) of a poll answer: ``queued``, ``processing``, ``completed``, ``error``."""
    data = _decode.decode(body)
    return str(data.get("status") or ""), data


def assemblyai_transcript(data: dict[str, Any], asked: str | None) -> Transcript:
    text = data.get("text") or ""
    duration = float(data.get("audio_duration") or 0.0)
    language = (data.get("language_code") or asked or "en").split("_")[0]
    return Transcript(text, language, duration, _sentences(data.get("words") or [], text, duration))


def _sentences(words: list[dict[str, Any]], text: str, duration: float) -> list[Segment]:
    """Words (times in ms) grouped into segments that end at a sentence's end."""
    segments, current, start = [], [], 0.0
    for word in words:
        if not current:
            start = word["start"] / 1000
        current.append(word["text"])
        if word["text"].endswith((".", "?", "!")):
            segments.append(Segment(start, word["end"] / 1000, " ".join(current)))
            current = []
    if current:
        segments.append(Segment(start, words[-1]["end"] / 1000, " ".join(current)))
    return segments or ([Segment(0.0, duration, text)] if text else [])


# -- OpenAI answers ----------------------------------------------------------------------------
def encode_answer(t: Transcript, fmt: str) -> tuple[bytes, bytes]:
    """(body, content type) of the transcript in ``fmt`` (``RESPONSE_FORMATS``)."""
    if fmt == "text":
        return t.text.encode() + b"\n", b"text/plain; charset=utf-8"
    if fmt in ("srt", "vtt"):
        return subtitles(t.segments, fmt).encode(), b"text/plain; charset=utf-8"
    answer: dict[str, Any] = {"task": "transcribe", "language": t.language, "duration": t.duration, "text": t.text}
    if fmt == "verbose_json":
        answer["segments"] = [{"id": i, "seek": 0, "start": s.start, "end": s.end, "text": s.text, "tokens": [],
                               "temperature": 0.0, "avg_logprob": 0.0, "compression_ratio": 0.0,
                               "no_speech_prob": 0.0} for i, s in enumerate(t.segments)]
    return _encode.encode(answer), b"application/json"


def _stamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def subtitles(segments: list[Segment], fmt: str) -> str:
    """SubRip (``srt``) or WebVTT (``vtt``) cues, one per segment."""
    if fmt == "vtt":
        cues = [f"{_stamp(s.start, '.')} --> {_stamp(s.end, '.')}\n{s.text.strip()}\n" for s in segments]
        return "WEBVTT\n\n" + "\n".join(cues)
    cues = [f"{i}\n{_stamp(s.start, ',')} --> {_stamp(s.end, ',')}\n{s.text.strip()}\n"
            for i, s in enumerate(segments, 1)]
    return "\n".join(cues)


def answer_seconds(body: bytes) -> float | None:
    """The audio seconds a Whisper-style JSON answer states (``duration``, or ``usage.seconds``)."""
    try:
        data = _decode.decode(body)
    except msgspec.DecodeError:
        return None
    if not isinstance(data, dict):
        return None
    usage = data.get("usage")
    seconds = data.get("duration") or (usage.get("seconds") if isinstance(usage, dict) else None)
    return float(seconds) if isinstance(seconds, int | float) else None


def wav_seconds(head: bytes) -> float | None:
    """A canonical WAV's length from its header (``fmt `` then ``data`` chunk), else None."""
    if head[:4] != b"RIFF" or head[12:16] != b"fmt " or len(head) < 44 or head[36:40] != b"data":
        return None
    byte_rate = struct.unpack_from("<I", head, 28)[0]
    size = struct.unpack_from("<I", head, 40)[0]
    return size / byte_rate if byte_rate else None


def decode_error(status: int, body: bytes, provider: str | None, fallback: Any) -> GatewayError:
    """An audio service's error answer: Deepgram's ``err_msg``, AssemblyAI's ``error``
    string, else the row format's own decoder (``fallback``)."""
    try:
        data = _decode.decode(body)
    except msgspec.DecodeError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("err_msg"), str):
        return GatewayError.from_status(status, data["err_msg"], provider)
    return fallback(status, body, provider)
