"""``media.embeddings``, ``media.images`` and ``media.audio`` translations on their own."""

from __future__ import annotations

import base64
import struct

import msgspec
import pytest

from omniroute.media import audio, embeddings, images


def test_base64_vectors_are_little_endian_float32() -> None:
    body = msgspec.json.decode(embeddings.encode_answer([[0.5, -1.25]], "m", 3, "base64"))
    assert struct.unpack("<2f", base64.b64decode(body["data"][0]["embedding"])) == (0.5, -1.25)
    assert body["usage"] == {"prompt_tokens": 3, "total_tokens": 3}


def test_prompt_tokens_from_the_tail_or_a_view() -> None:
    tail = b'{"data": [], "usage": {"prompt_tokens": 41, "total_tokens": 41}}'
    assert embeddings.prompt_tokens(tail) == 41
    head = b'{"usage": {"total_tokens": 9}, "data": [' + b'"x",' * 300 + b'"y"]}'
    assert embeddings.prompt_tokens(head) == 9
    assert embeddings.prompt_tokens(b"not json") == 0


def test_input_count() -> None:
    assert embeddings.input_count("a") == 1
    assert embeddings.input_count([1, 2, 3]) == 1
    assert embeddings.input_count([[1], [2]]) == 2
    assert embeddings.input_count(["a", "b"]) == 2


@pytest.mark.parametrize(("size", "ratio"), [(None, "1:1"), ("1024x1024", "1:1"), ("1792x1024", "16:9"),
                                             ("1024x1792", "9:16"), ("1536x1024", "3:2")])
def test_fireworks_aspect_ratio(size: str | None, ratio: str) -> None:
    assert images.aspect_ratio(size) == ratio


def test_subtitles() -> None:
    segments = [audio.Segment(0.0, 1.5, "One."), audio.Segment(61.25, 3725.5, " Two. ")]
    assert audio.subtitles(segments, "srt") == ("1\n00:00:00,000 --> 00:00:01,500\nOne.\n\n"
                                                "2\n00:01:01,250 --> 01:02:05,500\nTwo.\n")
    assert audio.subtitles(segments, "vtt").startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nOne.\n\n00:01:01.250")


def test_deepgram_without_utterances_and_assemblyai_sentences() -> None:
    body = msgspec.json.encode({"metadata": {"duration": 2.0}, "results": {"channels": [
        {"alternatives": [{"transcript": "hi there"}]}]}})
    t = audio.deepgram_transcript(body, "fr")
    assert (t.text, t.language, t.duration) == ("hi there", "fr", 2.0)
    assert t.segments == [audio.Segment(0.0, 2.0, "hi there")]
    words = [{"text": w, "start": i * 100, "end": i * 100 + 90} for i, w in enumerate(["Hi.", "How", "are", "you?"])]
    t = audio.assemblyai_transcript({"text": "Hi. How are you?", "words": words, "audio_duration": 1,
                                     "language_code": "en_us"}, None)
    assert t.language == "en" and [(s.start, s.end, s.text) for s in t.segments] == [
        (0.0, 0.09, "Hi."), (0.1, 0.39, "How are you?")]
