"""``POST /v1/audio/transcriptions``'s job over the spooled upload (``media.multipart``).

=============  ================================================================================
row dialect    one try
=============  ================================================================================
``openai``     the form again (model renamed, the file streamed from the spool); the answer
               passes through in the format asked for
``deepgram``   ``POST /v1/listen?model=…`` with the audio as the body; the transcript becomes
               OpenAI's answer (``media.audio``)
``assemblyai`` ``POST /v2/upload`` (the audio), ``POST /v2/transcript``, then ``GET
               /v2/transcript/{id}`` every ``transcription_poll_interval`` s until
               ``completed``; ``status: error`` → 502 with AssemblyAI's message, no
               ``completed`` within ``transcription_wait`` s → 504 (neither falls back: the
               audio, not the account, is the likely cause)
=============  ================================================================================

Every try streams the upload from its spool file, so a failed try falls back to the next
account or combo target with the same audio. ``ctx.units = {"audioSeconds": s}``: the
transcript's duration (Whisper-style answers: their ``duration`` or ``usage.seconds``, else
the WAV header's length).
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import Any

import msgspec

from omniroute.canonical import Response, Usage
from omniroute.context import RequestContext
from omniroute.errors import ErrorKind, GatewayError
from omniroute.gateway import Gateway
from omniroute.media import audio
from omniroute.media.multipart import Upload, form_body
from omniroute.media_pipeline import JSON, TEXT, MediaJob, post, translated
from omniroute.providers.row import AUDIO
from omniroute.routing.registry import Leg
from omniroute.routing.targets import Target
from omniroute.upstream import StreamBody

_decode = msgspec.json.Decoder()
#: the form fields a Whisper-style upstream gets again
FORWARDED = ("language", "prompt", "response_format", "temperature", "timestamp_granularities[]")


@dataclass
class AudioRequest:
    fields: dict[str, str]
    upload: Upload
    fmt: str  # response_format
    mime: str  # of the sniffed audio type


def audio_job(gw: Gateway, ctx: RequestContext, req: AudioRequest) -> MediaJob:
    job = MediaJob(AUDIO, lambda t, leg: _prepare(req, t, leg), lambda t, leg, p: None)  # type: ignore[arg-type]

    async def exchange(target: Target, leg: Leg, prepared: tuple[StreamBody, str]) -> bytes:
        dialect = target.spec.audio.dialect  # type: ignore[union-attr]  # checked by check_route
        body, ctype = prepared
        if dialect == "openai":
            expect = JSON if req.fmt in ("json", "verbose_json") else TEXT
            raw, answer_type = await post(gw, ctx, target, target.media_url(AUDIO, leg.model), body,
                                          {"Content-Type": ctype}, expect=expect)
            seconds = audio.answer_seconds(raw) if expect == JSON else None
            _record(ctx, leg, seconds if seconds is not None else audio.wav_seconds(req.upload.head))
            job.content_type = (answer_type or "application/json").encode("latin-1")
            return raw
        if dialect == "deepgram":
            url = target.media_url(AUDIO, leg.model) + audio.deepgram_query(leg.model, req.fields)
            raw, _ = await post(gw, ctx, target, url, body, {"Content-Type": ctype})
            transcript = translated(lambda: audio.deepgram_transcript(raw, req.fields.get("language")), target.provider)
        else:
            transcript = await _assemblyai(gw, ctx, target, leg, req, body)
        _record(ctx, leg, transcript.duration)
        answer, job.content_type = audio.encode_answer(transcript, req.fmt)
        return answer

    job.exchange = exchange
    return job


def _prepare(req: AudioRequest, target: Target, leg: Leg) -> tuple[StreamBody, str]:
    dialect = target.spec.audio.dialect  # type: ignore[union-attr]
    if dialect == "openai":
        fields = {"model": leg.model, **{k: v for k, v in req.fields.items() if k in FORWARDED}}
        return form_body(fields, req.upload, req.mime)
    if dialect == "assemblyai":
        return StreamBody(req.upload.part()), "application/octet-stream"
    return StreamBody(req.upload.part()), req.mime


async def _assemblyai(gw: Gateway, ctx: RequestContext, target: Target, leg: Leg, req: AudioRequest,
                      body: StreamBody) -> audio.Transcript:
    """Upload, create the transcript, poll it until it is done (module table)."""
    base = target.media_url(AUDIO, leg.model)
    raw, _ = await post(gw, ctx, target, base + "/upload", body, {"Content-Type": "application/octet-stream"})
    upload_url = translated(lambda: _decode.decode(raw)["upload_url"], target.provider)
    raw, _ = await post(gw, ctx, target, base + "/transcript", audio.assemblyai_create(upload_url, leg.model,
                                                                                          req.fields))
    status, data = translated(lambda: audio.assemblyai_state(raw), target.provider)
    transcript_id = data.get("id")
    settings = gw.settings
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.transcription_wait
    while status != "completed":
        _check_state(status, data, transcript_id, loop.time(), deadline, settings.transcription_wait)
        await asyncio.sleep(min(settings.transcription_poll_interval, max(0.0, deadline - loop.time())))
        polled, _ = await post(gw, ctx, target, f"{base}/transcript/{transcript_id}", b"", method="GET")
        status, data = translated(functools.partial(audio.assemblyai_state, polled), target.provider)
    return translated(lambda: audio.assemblyai_transcript(data, req.fields.get("language")), target.provider)


def _check_state(status: str, data: dict[str, Any], transcript_id: Any, now: float, deadline: float,
                 wait: float) -> None:
    if status == "error":
        raise GatewayError(ErrorKind.UPSTREAM_ERROR, f"AssemblyAI could not transcribe the audio (transcript "
                           f"{transcript_id}): {data.get('error') or 'no reason given'}", status=502,
                           code="transcription_failed")
    if now >= deadline:
        raise GatewayError(ErrorKind.UPSTREAM_ERROR, f"AssemblyAI transcript {transcript_id} was not completed "
                           f"within {wait:g} s (last status: {status or 'none'})", status=504,
                           code="transcription_timeout")


def _record(ctx: RequestContext, leg: Leg, seconds: float | None) -> None:
    ctx.units = {"audioSeconds": round(seconds, 3)} if seconds is not None else None
    ctx.response = Response(id="transcription", model=leg.model, usage=Usage())
