"""``/v1/audio/transcriptions`` through the real gateway with the openai SDK: Deepgram's
pre-recorded API, AssemblyAI's upload/transcript/poll cycle, Whisper-style upstreams, real
small audio files, and every bad input."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.media_pipeline.conftest import hook_records
from tests.support import audio_files
from tests.support.gateway import RunningGateway
from tests.support.media_upstream import TRANSCRIPT, MediaUpstream

WAV = audio_files.wav(1.0)


def transcribe(client: openai.OpenAI, model: str, data: bytes = WAV, name: str = "clip.wav", **kw: object) -> object:
    return client.audio.transcriptions.create(model=model, file=(name, data), **kw)  # type: ignore[call-overload]


def test_deepgram_json(gw: RunningGateway, media: MediaUpstream, client: openai.OpenAI) -> None:
    raw = client.audio.transcriptions.with_raw_response.create(model="deepgram/nova-3", file=("clip.wav", WAV))
    assert raw.parse().text == TRANSCRIPT
    assert raw.http_response.json() == {"task": "transcribe", "language": "en", "duration": 1.0, "text": TRANSCRIPT}
    assert media.paths[-1].startswith("/v1/listen?model=nova-3&") and "detect_language=true" in media.paths[-1]
    assert media.headers[-1]["Authorization"] == "Token sk-upstream"
    assert media.headers[-1]["Content-Type"] == "audio/wav"
    assert media.uploads[-1] == (len(WAV), WAV[:64])


@pytest.mark.parametrize("fmt", ["text", "srt", "vtt", "verbose_json"])
def test_deepgram_formats(gw: RunningGateway, client: openai.OpenAI, fmt: str) -> None:
    result = transcribe(client, "deepgram/nova-3", response_format=fmt, language="en")
    if fmt == "text":
        assert result == TRANSCRIPT + "\n"
    elif fmt == "srt":
        assert result.startswith("1\n00:00:00,000 --> 00:00:00,500\nHello world.\n\n2\n00:00:00,500 --> 00:00:01,000")
    elif fmt == "vtt":
        assert result.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:00.500\nHello world.\n")
    else:
        assert result.language == "en" and result.duration == 1.0
        assert [(s.start, s.end, s.text) for s in result.segments] == [(0.0, 0.5, "Hello world."),
                                                                      (0.5, 1.0, "This is a test.")]


def test_assemblyai_upload_create_poll(gw: RunningGateway, media: MediaUpstream, client: openai.OpenAI) -> None:
    polls = media.polls
    raw = client.audio.transcriptions.with_raw_response.create(model="assemblyai/best", file=("clip.wav", WAV),
                                                               response_format="json")
    assert raw.http_response.json() == {"task": "transcribe", "language": "en", "duration": 1.0, "text": TRANSCRIPT}
    assert media.polls - polls == 2  # processing, then completed
    created = media.requests[-1]
    assert created.pop("audio_url").startswith("https://cdn.assemblyai.com/upload/u")
    assert created == {"speech_model": "best", "language_detection": True}
    assert media.uploads[-1] == (len(WAV), WAV[:64])
    assert media.headers[-1]["Authorization"] == "sk-upstream"
    srt = transcribe(client, "assemblyai/best", response_format="srt")
    assert srt.startswith("1\n00:00:00,000 --> 00:00:00,350\nHello world.\n")


def test_assemblyai_error_is_a_502_with_its_message(gw: RunningGateway, client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        transcribe(client, "assemblyai/best", prompt="mock-error")
    assert caught.value.status_code == 502
    assert "File does not appear to contain audio" in caught.value.message


def test_assemblyai_poll_over_the_wait_is_a_504(gw: RunningGateway, client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        transcribe(client, "assemblyai/best", prompt="mock-never")
    assert caught.value.status_code == 504 and "not completed within 1.5 s" in caught.value.message


@pytest.mark.parametrize(("model", "path"), [("openai/whisper-1", "/openai/v1/audio/transcriptions"),
                                             ("groq/whisper-large-v3", "/openai/v1/audio/transcriptions")])
def test_whisper_style_upstreams_get_the_form(gw: RunningGateway, media: MediaUpstream, client: openai.OpenAI,
                                              model: str, path: str) -> None:
    assert transcribe(client, model, language="en", prompt="names: Ada").text == TRANSCRIPT
    assert media.paths[-1] == path
    assert media.requests[-1] == {"model": model.split("/")[1], "language": "en", "prompt": "names: Ada",
                                  "filename": "clip.wav", "content_type": "audio/wav"}
    assert media.uploads[-1] == (len(WAV), WAV[:64])
    assert transcribe(client, model, response_format="srt").startswith("1\n00:00:00,000")
    assert transcribe(client, model, response_format="text") == TRANSCRIPT + "\n"


@pytest.mark.parametrize("kind", sorted(audio_files.FILES))
def test_every_type_is_recognised_by_content(gw: RunningGateway, media: MediaUpstream, client: openai.OpenAI,
                                             kind: str) -> None:
    data = audio_files.FILES[kind]()
    assert transcribe(client, "deepgram/nova-3", data, f"clip.{kind}").text == TRANSCRIPT
    mime = {"wav": "audio/wav", "mp3": "audio/mpeg", "m4a": "audio/mp4", "flac": "audio/flac", "ogg": "audio/ogg",
            "webm": "audio/webm"}[kind]
    assert media.headers[-1]["Content-Type"] == mime and media.uploads[-1] == (len(data), data[:64])
    assert transcribe(client, "deepgram/nova-3", data, "upload.bin").text == TRANSCRIPT  # the content decides


@pytest.mark.parametrize(("files", "data", "param", "words"), [
    ({"file": ("clip.wav", b"")}, {"model": "deepgram/nova-3"}, "file", "is empty"),
    ({"file": ("notes.txt", b"just some text, not audio at all")}, {"model": "deepgram/nova-3"}, "file",
     "not '.txt' audio of a supported type"),
    ({"file": ("song.mp3", WAV)}, {"model": "deepgram/nova-3"}, "file", "named as mp3 but holds wav audio"),
    ({"file": ("clip.mid", b"MThd\x00\x00\x00\x06" + b"\x00" * 40)}, {"model": "deepgram/nova-3"}, "file",
     "not '.mid' audio"),
    ({}, {"model": "deepgram/nova-3"}, "file", "'file' is required"),
    ({"file": ("clip.wav", WAV)}, {}, "model", "'model' is required"),
    ({"file": ("clip.wav", WAV)}, {"model": "deepgram/nova-3", "response_format": "xml"}, "response_format",
     "must be one of"),
    ({"file": ("clip.wav", WAV)}, {"model": "openai/gpt-4o-mini"}, "model", "is a chat model, not an audio model"),
    ({"file": ("clip.wav", WAV)}, {"model": "mistral/mistral-embed"}, "model", "is an embedding model"),
    ({"file": ("clip.wav", WAV)}, {"model": "xai/grok-4"}, "model", "offers no transcription endpoint"),
])
def test_bad_input_is_a_400_naming_it(gw: RunningGateway, files: dict, data: dict, param: str, words: str) -> None:
    resp = gw.http.post("/v1/audio/transcriptions", files=files or {"other": ("x.txt", b"x")}, data=data)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["param"] == param and words in error["message"], error


def test_not_a_form_and_a_cut_form(gw: RunningGateway) -> None:
    resp = gw.http.post("/v1/audio/transcriptions", json={"model": "deepgram/nova-3"})
    assert resp.status_code == 400 and "multipart/form-data" in resp.json()["error"]["message"]
    body = b'--b1\r\nContent-Disposition: form-data; name="model"\r\n\r\ndeepgram/nova-3\r\n--b1\r\nContent-Dispos'
    resp = gw.http.post("/v1/audio/transcriptions", content=body,
                        headers={"content-type": "multipart/form-data; boundary=b1"})
    assert resp.status_code == 400 and "ended before its last part" in resp.json()["error"]["message"]


def test_over_the_size_limit_is_a_413(gw: RunningGateway, media: MediaUpstream) -> None:
    seen = len(media.uploads)
    big = audio_files.wav(200.0)  # 3.2 MB > --max-audio-bytes 3000000
    with httpx.Client(base_url=gw.url, timeout=10) as http:  # the gateway closes a connection it did not read
        resp = http.post("/v1/audio/transcriptions", files={"file": ("big.wav", big)},
                         data={"model": "deepgram/nova-3"})
    assert resp.status_code == 413 and "3000000 bytes" in resp.json()["error"]["message"]

    def chunked():  # no Content-Length: the limit is enforced while reading
        boundary = b"--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.wav\"\r\n\r\n"
        yield boundary
        for i in range(0, len(big), 65536):
            yield big[i:i + 65536]
        yield b"\r\n--zz--\r\n"

    with httpx.Client(base_url=gw.url, timeout=10) as http:
        resp = http.post("/v1/audio/transcriptions", content=chunked(),
                         headers={"content-type": "multipart/form-data; boundary=zz"})
    assert resp.status_code == 413 and len(media.uploads) == seen


def test_upstream_errors_fallback_and_units(gw: RunningGateway, media: MediaUpstream, client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="mock says 400"):  # Deepgram's err_msg
        transcribe(client, "deepgram/error-400")
    combo = gw.api("POST", "/api/combos", {"name": "stt-fallback", "models": ["deepgram/error-503",
                                                                              "assemblyai/best"]})
    assert combo.status_code == 201, combo.text
    before = len(media.uploads)
    raw = client.audio.transcriptions.with_raw_response.create(model="stt-fallback", file=("clip.wav", WAV))
    assert raw.parse().text == TRANSCRIPT and raw.headers["x-omniroute-model"] == "assemblyai/best"
    assert media.uploads[before:] == [(len(WAV), WAV[:64])] * 2  # the same audio, sent again from the spool
    record = next(r for r in reversed(hook_records(gw)) if r["operation"] == "transcription" and r["units"])
    assert record["units"] == {"audioSeconds": 1.0} and record["served"] == "assemblyai/best"


def test_whisper_units_from_the_wav_header(gw: RunningGateway, client: openai.OpenAI) -> None:
    transcribe(client, "groq/whisper-large-v3", audio_files.wav(2.5))
    record = next(r for r in reversed(hook_records(gw)) if r["operation"] == "transcription" and r["units"])
    assert record["units"] == {"audioSeconds": 2.5}


def test_sdk_error_shape(gw: RunningGateway) -> None:
    resp = httpx.post(gw.url + "/v1/audio/transcriptions", files={"file": ("clip.wav", b"")},
                      data={"model": "deepgram/nova-3"})
    assert resp.json()["error"]["type"] == "invalid_request_error"
