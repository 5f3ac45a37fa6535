"""A mock of the media services, each following its documented wire format: one aiohttp
server whose path (after a per-provider prefix the connection's ``baseUrl`` carries) picks
the service.

=======================================================  ==========================================
path (suffix)                                            service and answer
=======================================================  ==========================================
``…/embeddings``                                         OpenAI-compatible embeddings: one vector
                                                         per input (``dimensions`` long, else 4),
                                                         base64 float32 when asked; usage counts
                                                         words
``…/models/{m}:embedContent``, ``:batchEmbedContents``   Gemini (``x-goog-api-key``; strict fields)
``…/api/embed``                                          Ollama (``prompt_eval_count``)
``/openai/v1/images/generations``                        OpenAI images (``url`` / ``b64_json``)
``/xai/v1/images/generations``                           xAI: ``size``/``quality``/``style`` are a
                                                         400 (``Argument not supported``); no
                                                         ``created`` in the answer
``/together/v1/images/generations``                      Together: ``width``/``height``,
                                                         ``response_format`` ``url``/``base64``
``…/workflows/accounts/fireworks/models/{m}/             Fireworks FLUX: a PNG's bytes
text_to_image``
``…/audio/transcriptions``                               Whisper-style multipart (json, text,
                                                         verbose_json, srt, vtt)
``/v1/listen``                                           Deepgram (``Authorization: Token``; the
                                                         audio is the body)
``/v2/upload``, ``/v2/transcript``, ``/v2/transcript/    AssemblyAI (``Authorization: <key>``):
{id}``                                                   queued, processing, then completed; a
                                                         ``word_boost`` of ``mock-error`` ends in
                                                         ``status: error``, ``mock-never`` never
                                                         completes
=======================================================  ==========================================

A model named ``error-<code>`` answers that status with the service's error body; the
embeddings model ``html`` answers 200 with a 100 kB HTML page. Every
request's path, headers and (JSON) body are recorded; ``uploads`` holds the audio bytes each
audio request carried (their length and first bytes).
"""

from __future__ import annotations

import base64
import struct
import wave
import zlib
from io import BytesIO
from typing import Any

from aiohttp import web

from tests.support.mock_server import MockServer

KEY = "sk-upstream"
TRANSCRIPT = "Hello world. This is a test."
SEGMENTS = [(0.0, 0.5, "Hello world."), (0.5, 1.0, "This is a test.")]
OPENAI_IMAGE_FIELDS = {"prompt", "model", "n", "size", "quality", "response_format", "style", "user", "background",
                       "moderation", "output_compression", "output_format"}
XAI_IMAGE_FIELDS = {"prompt", "model", "n", "response_format", "user"}
TOGETHER_IMAGE_FIELDS = {"prompt", "model", "n", "width", "height", "steps", "seed", "negative_prompt",
                         "response_format", "image_url", "guidance_scale", "output_format"}
GEMINI_EMBED_FIELDS = {"model", "content", "taskType", "title", "outputDimensionality"}


def png(width: int = 2, height: int = 2) -> bytes:
    """A real (tiny, grey) PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def vector(i: int, dims: int) -> list[float]:
    return [round((i + 1) / 10 + d / 100, 4) for d in range(dims)]


def b64_vector(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def wav_duration(data: bytes) -> float:
    try:
        with wave.open(BytesIO(data)) as w:
            return w.getnframes() / w.getframerate()
    except (wave.Error, EOFError):
        return round(len(data) / 16000, 3)


def error(status: int, service: str) -> web.Response:
    bodies = {
        "deepgram": {"err_code": "Bad Request", "err_msg": f"mock says {status}", "request_id": "r1"},
        "assemblyai": {"error": f"mock says {status}"},
        "gemini": {"error": {"code": status, "message": f"mock says {status}", "status": "INVALID_ARGUMENT"}},
        "ollama": {"error": f"mock says {status}"},
    }
    body = bodies.get(service, {"error": {"message": f"mock says {status}", "type": "invalid_request_error"}})
    return web.json_response(body, status=status)


class MediaUpstream(MockServer):
    def __init__(self) -> None:
        super().__init__()
        self.uploads: list[tuple[int, bytes]] = []
        self.transcripts: dict[str, dict[str, Any]] = {}
        self.stored: dict[str, bytes] = {}
        self.polls = 0

    def routes(self, app: web.Application) -> None:
        app._client_max_size = 64 * 1024 * 1024
        app.router.add_route("*", "/{tail:.*}", self.dispatch)

    def url(self, prefix: str) -> str:
        return f"{self.origin}{prefix}"

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.paths.append(request.path_qs)
        self.headers.append(dict(request.headers))
        if path.endswith("/embeddings"):
            return await self.openai_embeddings(request)
        if path.endswith((":embedContent", ":batchEmbedContents")):
            return await self.gemini_embed(request)
        if path.endswith("/api/embed"):
            return await self.ollama_embed(request)
        if path.endswith("/images/generations"):
            return await self.images(request, path.split("/")[1])
        if path.endswith("/text_to_image"):
            return await self.fireworks(request)
        if path.endswith("/audio/transcriptions"):
            return await self.whisper(request)
        if path == "/v1/listen":
            return await self.deepgram(request)
        if path.startswith("/v2/"):
            return await self.assemblyai(request)
        return web.json_response({"error": {"message": f"no route {path}"}}, status=404)

    async def body(self, request: web.Request) -> dict[str, Any]:
        data = await request.json()
        self.requests.append(data)
        return data

    def authorized(self, request: web.Request, header: str, value: str) -> bool:
        return request.headers.get(header) == value

    # -- embeddings -------------------------------------------------------------------------
    async def openai_embeddings(self, request: web.Request) -> web.Response:
        if not self.authorized(request, "Authorization", f"Bearer {KEY}"):
            return web.json_response({"error": {"message": "Incorrect API key provided"}}, status=401)
        body = await self.body(request)
        if body["model"].startswith("error-"):
            return error(int(body["model"].split("-")[1]), "openai")
        if body["model"] == "html":  # a proxy's page, large
            return web.Response(text="<html>" + "x" * 100_000 + "</html>", content_type="text/html")
        inputs = body["input"] if isinstance(body["input"], list) and not isinstance(body["input"][0], int) \
            else [body["input"]]
        dims = body.get("dimensions") or 4
        data = []
        for i in range(len(inputs)):
            values = vector(i, dims)
            embedding = b64_vector(values) if body.get("encoding_format") == "base64" else values
            data.append({"object": "embedding", "index": i, "embedding": embedding})
        words = sum(len(t.split()) if isinstance(t, str) else len(t) for t in inputs)
        return web.json_response({"object": "list", "data": data, "model": body["model"],
                                  "usage": {"prompt_tokens": words, "total_tokens": words}})

    async def gemini_embed(self, request: web.Request) -> web.Response:
        if not self.authorized(request, "x-goog-api-key", KEY):
            return error(403, "gemini")
        body = await self.body(request)
        model = request.path.rsplit("/", 1)[1].split(":")[0]
        if model.startswith("error-"):
            return error(int(model.split("-")[1]), "gemini")
        if request.path.endswith(":embedContent"):
            bad = set(body) - GEMINI_EMBED_FIELDS
            if bad or "parts" not in body.get("content", {}):
                return error(400, "gemini")
            dims = body.get("outputDimensionality") or 4
            return web.json_response({"embedding": {"values": vector(0, dims)}})
        out = []
        for i, item in enumerate(body["requests"]):
            if set(item) - GEMINI_EMBED_FIELDS or item.get("model") != f"models/{model}":
                return error(400, "gemini")
            out.append({"values": vector(i, item.get("outputDimensionality") or 4)})
        return web.json_response({"embeddings": out})

    async def ollama_embed(self, request: web.Request) -> web.Response:
        body = await self.body(request)
        if set(body) - {"model", "input", "truncate", "options", "keep_alive", "dimensions"}:
            return error(400, "ollama")
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        dims = body.get("dimensions") or 4
        return web.json_response({"model": body["model"], "embeddings": [vector(i, dims) for i in range(len(inputs))],
                                  "total_duration": 1000, "prompt_eval_count": 3 * len(inputs)})

    # -- images -----------------------------------------------------------------------------
    async def images(self, request: web.Request, service: str) -> web.Response:
        if not self.authorized(request, "Authorization", f"Bearer {KEY}"):
            return web.json_response({"error": {"message": "Incorrect API key provided"}}, status=401)
        body = await self.body(request)
        if body["model"].startswith("error-"):
            return error(int(body["model"].split("-")[1]), "openai")
        allowed = {"xai": XAI_IMAGE_FIELDS, "together": TOGETHER_IMAGE_FIELDS}.get(service, OPENAI_IMAGE_FIELDS)
        bad = sorted(set(body) - allowed)
        if bad:
            return web.json_response({"code": "Client specified an invalid argument",
                                      "error": f"Argument not supported: {bad[0]}"}, status=400)
        n = body.get("n", 1)
        if service == "together":
            if body.get("response_format", "url") not in ("url", "base64"):
                return error(400, "openai")
            b64 = body.get("response_format") == "base64"
            data = [{"index": i, **({"b64_json": base64.b64encode(png()).decode()} if b64 else
                                    {"url": f"https://together.example/{i}.png"})} for i in range(n)]
            return web.json_response({"id": "t-1", "model": body["model"], "object": "list", "data": data})
        b64 = body.get("response_format") == "b64_json"
        data = [{"revised_prompt": f"revised: {body['prompt']}",
                 **({"b64_json": base64.b64encode(png()).decode()} if b64 else {"url": f"https://{service}.example/{i}"
                                                                                         f".png"})} for i in range(n)]
        answer: dict[str, Any] = {"data": data}
        if service != "xai":
            answer["created"] = 1732650000
        return web.json_response(answer)

    async def fireworks(self, request: web.Request) -> web.Response:
        if not self.authorized(request, "Authorization", f"Bearer {KEY}"):
            return web.json_response({"error": {"message": "unauthorized"}}, status=401)
        body = await self.body(request)
        if set(body) - {"prompt", "aspect_ratio", "guidance_scale", "num_inference_steps", "seed"}:
            return error(400, "openai")
        if request.headers.get("Accept") not in ("image/png", "image/jpeg"):
            return error(400, "openai")
        if "error-" in request.path:
            return error(int(request.path.split("error-")[1].split("/")[0]), "openai")
        return web.Response(body=png(), content_type="image/png", headers={"Finish-Reason": "SUCCESS"})

    # -- audio ------------------------------------------------------------------------------
    async def whisper(self, request: web.Request) -> web.Response:
        if not self.authorized(request, "Authorization", f"Bearer {KEY}"):
            return web.json_response({"error": {"message": "Incorrect API key provided"}}, status=401)
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField) or not form.get("model"):
            return error(400, "openai")
        data = upload.file.read()
        self.uploads.append((len(data), data[:64]))
        self.requests.append({k: v for k, v in form.items() if k != "file"} | {"filename": upload.filename,
                                                                              "content_type": upload.content_type})
        if str(form["model"]).startswith("error-"):
            return error(int(str(form["model"]).split("-")[1]), "openai")
        fmt = form.get("response_format") or "json"
        duration = wav_duration(data)
        if fmt == "text":
            return web.Response(text=TRANSCRIPT + "\n")
        if fmt in ("srt", "vtt"):
            return web.Response(text=("WEBVTT\n\n" if fmt == "vtt" else "1\n") + "00:00:00,000 --> 00:00:01,000\n"
                                + TRANSCRIPT + "\n")
        answer: dict[str, Any] = {"text": TRANSCRIPT}
        if fmt == "verbose_json":
            answer.update(task="transcribe", language="english", duration=duration, segments=[])
        return web.json_response(answer)

    async def deepgram(self, request: web.Request) -> web.Response:
        if not self.authorized(request, "Authorization", f"Token {KEY}"):
            return error(401, "deepgram")
        model = request.query.get("model", "")
        data = await request.read()
        self.uploads.append((len(data), data[:64]))
        if model.startswith("error-"):
            return error(int(model.split("-")[1]), "deepgram")
        if not request.headers.get("Content-Type", "").startswith("audio/") or not data:
            return error(400, "deepgram")
        language = request.query.get("language")
        channel: dict[str, Any] = {"alternatives": [{"transcript": TRANSCRIPT, "confidence": 0.98, "words": []}]}
        if request.query.get("detect_language") == "true":
            channel["detected_language"] = "en"
        utterances = [{"start": s, "end": e, "transcript": t, "confidence": 0.9, "channel": 0} for s, e, t in SEGMENTS]
        return web.json_response({"metadata": {"request_id": "dg-1", "duration": wav_duration(data), "channels": 1,
                                               "models": [model], "language": language},
                                  "results": {"channels": [channel], "utterances": utterances}})

    async def assemblyai(self, request: web.Request) -> web.Response:
        if not self.authorized(request, "Authorization", KEY):
            return error(401, "assemblyai")
        path = request.path
        if path == "/v2/upload":
            data = await request.read()
            self.uploads.append((len(data), data[:64]))
            name = f"u{len(self.stored)}"
            self.stored[name] = data
            return web.json_response({"upload_url": f"https://cdn.assemblyai.com/upload/{name}"})
        if path == "/v2/transcript" and request.method == "POST":
            return self.create_transcript(await self.body(request))
        if path.startswith("/v2/transcript/") and request.method == "GET":
            return self.poll(path.rsplit("/", 1)[1])
        return error(404, "assemblyai")

    def create_transcript(self, body: dict[str, Any]) -> web.Response:
        name = body.get("audio_url", "").rsplit("/", 1)[-1]
        if name not in self.stored:
            return error(400, "assemblyai")
        if body.get("speech_model", "").startswith("error-"):
            return error(int(body["speech_model"].split("-")[1]), "assemblyai")
        tid = f"t{len(self.transcripts)}"
        self.transcripts[tid] = {"body": body, "polls": 0, "duration": wav_duration(self.stored[name])}
        return web.json_response({"id": tid, "status": "queued", "audio_url": body["audio_url"]})

    def poll(self, tid: str) -> web.Response:
        self.polls += 1
        entry = self.transcripts.get(tid)
        if entry is None:
            return error(404, "assemblyai")
        entry["polls"] += 1
        boost = entry["body"].get("word_boost") or []
        if "mock-error" in boost and entry["polls"] >= 2:
            return web.json_response({"id": tid, "status": "error",
                                      "error": "Transcoding failed. File does not appear to contain audio."})
        if "mock-never" in boost or entry["polls"] < 2:
            return web.json_response({"id": tid, "status": "processing"})
        words = [{"text": w, "start": 200 * i, "end": 200 * i + 150, "confidence": 0.9}
                 for i, w in enumerate(TRANSCRIPT.split())]
        return web.json_response({"id": tid, "status": "completed", "text": TRANSCRIPT, "words": words,
                                  "audio_duration": entry["duration"], "language_code": "en_us"})
