"""Media endpoints: embeddings overhead against a direct-to-mock baseline, and the memory an
audio upload costs, measured in the same run.

    python bench/media.py [--inputs 1000] [--dims 256] [--requests 200] [--audio-mb 25]

Starts nginx (a static OpenAI embeddings answer of ``--inputs`` base64 vectors of ``--dims``
floats at ``/v1/embeddings``; a static Deepgram answer at ``/v1/listen``) and ``omniroute serve
--workers 1``, wired to it as the ``openai`` and ``deepgram`` rows.

1. Embeddings, c=1: ``--requests`` POSTs of a ``--inputs``-input body, alternating direct to
   nginx and through the gateway on two keep-alive clients; p50/p99 of each and the gateway's
   added p50/p99 (gateway minus direct).
   Also the gateway's CPU time per request (user + system of its process tree): what the
   machine's load does not change.
2. Audio: one ``--audio-mb`` MB WAV transcription through the gateway (``deepgram/nova-3``),
   the gateway's process-tree RSS sampled every 5 ms; its growth over the idle RSS (after a
   warm-up request) against the file size.

Needs ``nginx`` (Debian package). Prints a markdown table and the load average.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from overhead import free_port, start_gateway, tree_rss_kb, wait_http  # noqa: E402


def embeddings_answer(inputs: int, dims: int) -> bytes:
    vector = base64.b64encode(struct.pack(f"<{dims}f", *[i / dims for i in range(dims)])).decode()
    data = [{"object": "embedding", "index": i, "embedding": vector} for i in range(inputs)]
    return json.dumps({"object": "list", "data": data, "model": "text-embedding-3-small",
                       "usage": {"prompt_tokens": inputs * 9, "total_tokens": inputs * 9}}).encode()


DEEPGRAM = json.dumps({"metadata": {"duration": 781.25}, "results": {"channels": [
    {"alternatives": [{"transcript": "bench"}]}], "utterances": []}}).encode()


def start_nginx(root: Path, port: int, inputs: int, dims: int) -> subprocess.Popen[bytes]:
    for path, body in (("v1/embeddings", embeddings_answer(inputs, dims)), ("v1/listen", DEEPGRAM)):
        (root / "html" / path).parent.mkdir(parents=True, exist_ok=True)
        (root / "html" / path).write_bytes(body)
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    (root / "nginx.conf").write_text(f"""
worker_processes 1;
pid {root}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  client_max_body_size 200m;
  client_body_buffer_size 1m;
  client_body_temp_path {root}/tmp;
  proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp; uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;
  server {{
    listen 127.0.0.1:{port};
    root {root}/html;
    location / {{ default_type application/json; error_page 405 =200 $uri; }}
  }}
}}
""")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return subprocess.Popen([nginx, "-p", str(root), "-c", str(root / "nginx.conf"), "-g", "daemon off;",
                             "-e", str(root / "error.log")])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cpu_seconds(root: int) -> float:
    """User + system CPU seconds of ``root`` and its descendants (the gateway's workers)."""
    import psutil

    procs = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
    return sum(p.cpu_times().user + p.cpu_times().system for p in procs)


def bench_embeddings(gateway: str, mock: str, inputs: int, requests: int, pid: int) -> dict:
    texts = [f"input number {i} about reverse proxies and embeddings" for i in range(inputs)]
    body = json.dumps({"model": "openai/text-embedding-3-small", "input": texts, "encoding_format": "base64"})
    direct_body = body.replace("openai/text-embedding-3-small", "text-embedding-3-small")
    times: dict[str, list[float]] = {"direct": [], "gateway": []}
    headers = {"content-type": "application/json", "authorization": "Bearer sk-bench"}
    cpu = 0.0
    with httpx.Client(base_url=mock, headers=headers) as direct, httpx.Client(base_url=gateway, headers=headers) as gw:
        for i in range(requests + 20):
            if i == 20:
                cpu = cpu_seconds(pid)
            for name, client, payload in (("direct", direct, direct_body), ("gateway", gw, body)):
                started = time.perf_counter()
                resp = client.post("/v1/embeddings", content=payload)
                elapsed = (time.perf_counter() - started) * 1000
                assert resp.status_code == 200, resp.text[:200]
                if i >= 20:  # warm-up
                    times[name].append(elapsed)
    cpu = cpu_seconds(pid) - cpu
    out: dict = {name: {"p50": percentile(v, 0.5), "p99": percentile(v, 0.99)} for name, v in times.items()}
    out["cpu_ms_per_request"] = cpu / requests * 1000
    out["added"] = {q: out["gateway"][q] - out["direct"][q] for q in ("p50", "p99")}
    out["answer_bytes"] = len(resp.content)
    out["request_bytes"] = len(body)
    return out


def wav_file(path: Path, megabytes: float) -> int:
    size = int(megabytes * 1_000_000)
    frames = size - 44
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
    header = b"RIFF" + struct.pack("<I", 36 + frames) + b"WAVEfmt " + fmt + b"data" + struct.pack("<I", frames)
    with path.open("wb") as out:
        out.write(header)
        chunk = os.urandom(1 << 20)
        left = frames
        while left > 0:
            out.write(chunk[:left])
            left -= len(chunk)
    return size


def bench_audio(gateway: str, pid: int, work: Path, megabytes: float) -> dict:
    audio = work / "big.wav"
    size = wav_file(audio, megabytes)
    small = work / "small.wav"
    wav_file(small, 0.1)
    with httpx.Client(base_url=gateway, timeout=60) as client:
        def send(path: Path) -> httpx.Response:
            with path.open("rb") as f:
                return client.post("/v1/audio/transcriptions", files={"file": (path.name, f, "audio/wav")},
                                   data={"model": "deepgram/nova-3"})
        assert send(small).status_code == 200
        time.sleep(0.5)
        idle = tree_rss_kb(pid)[0]
        peak = [idle]
        running = [True]

        def sample() -> None:
            while running[0]:
                peak[0] = max(peak[0], tree_rss_kb(pid)[0])
                time.sleep(0.005)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        resp = send(audio)
        seconds = time.perf_counter() - started
        running[0] = False
        sampler.join()
    assert resp.status_code == 200, resp.text[:300]
    growth = (peak[0] - idle) * 1024
    return {"file_bytes": size, "idle_rss_kb": idle, "peak_rss_kb": peak[0], "growth_bytes": growth,
            "growth_x_file": growth / size, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inputs", type=int, default=1000)
    parser.add_argument("--dims", type=int, default=256)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--audio-mb", type=float, default=25)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="omniroute-media-bench-"))
    work.chmod(0o755)
    mock_port, gw_port = free_port(), free_port()
    mock, gateway = f"http://127.0.0.1:{mock_port}", f"http://127.0.0.1:{gw_port}"
    nginx = start_nginx(work / "nginx", mock_port, args.inputs, args.dims)
    gw = start_gateway(gw_port, work / "data", 1, ["--max-audio-bytes", str(200 * 1024 * 1024)])
    try:
        wait_http(gateway + "/api/monitoring/health")
        for row in ("openai", "deepgram"):
            httpx.post(f"{gateway}/api/providers", json={"provider": row, "apiKey": "sk-bench", "baseUrl": mock
                                                         + ("/v1" if row == "openai" else "")}).raise_for_status()
        emb = bench_embeddings(gateway, mock, args.inputs, args.requests, gw.pid)
        aud = bench_audio(gateway, gw.pid, work, args.audio_mb)
    finally:
        os.killpg(gw.pid, 15)
        gw.wait(10)
        nginx.terminate()
        nginx.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    print(f"\nembeddings, {args.inputs} inputs, {args.dims}-dim base64 vectors (request {emb['request_bytes']} B, "
          f"answer {emb['answer_bytes']} B), c=1, {args.requests} requests each\n")
    print("| path | p50 ms | p99 ms |\n|---|---|---|")
    for name in ("direct", "gateway", "added"):
        print(f"| {name} | {emb[name]['p50']:.3f} | {emb[name]['p99']:.3f} |")
    print(f"\ngateway CPU per request (user + system, all its processes): {emb['cpu_ms_per_request']:.3f} ms")
    print(f"\naudio upload {aud['file_bytes'] / 1e6:.1f} MB: idle RSS {aud['idle_rss_kb'] / 1024:.1f} MiB, peak "
          f"{aud['peak_rss_kb'] / 1024:.1f} MiB, growth {aud['growth_bytes'] / 1e6:.1f} MB = "
          f"{aud['growth_x_file']:.2f}x the file, {aud['seconds']:.2f} s")


if __name__ == "__main__":
    main()
