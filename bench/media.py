"""Media endpoints: embeddings overhead against a direct-to-mock baseline, and the memory an
audio upload costs, measured in the same run.

    python bench/media.py [--inputs 1000] [--dims 256] [--requests 200] [--audio-mb 25]
                          [--with-tree DIR] [--floor]

Starts nginx (a static OpenAI embeddings answer of ``--inputs`` base64 vectors of ``--dims``
floats at ``/v1/embeddings``; a static Deepgram answer at ``/v1/listen``) and ``omniroute serve
--workers 1``, wired to it as the ``openai`` and ``deepgram`` rows.

1. Embeddings, c=1: ``--requests`` POSTs of a ``--inputs``-input body, alternating direct to
   nginx and through the gateway on two keep-alive clients; p50/p99 of each and the gateway's
   added p50/p99 (gateway minus direct).
   Also the gateway's CPU time per request (user + system of its process tree): what the
   machine's load does not change. ``--with-tree DIR`` adds a second gateway run from another
   source tree (an older commit, exported) and ``--floor`` two references: Granian serving the
   mock's answer from an ASGI app that does nothing else (``floor``: ``floor_app.py``), and
   nginx proxying to the mock (``proxy``: one more hop, no Python). Each is measured in turn
   in every iteration, on its own keep-alive client.
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
from overhead import free_port, start_floor, start_gateway, tree_rss_kb, wait_http  # noqa: E402


def embeddings_answer(inputs: int, dims: int) -> bytes:
    vector = base64.b64encode(struct.pack(f"<{dims}f", *[i / dims for i in range(dims)])).decode()
    data = [{"object": "embedding", "index": i, "embedding": vector} for i in range(inputs)]
    return json.dumps({"object": "list", "data": data, "model": "text-embedding-3-small",
                       "usage": {"prompt_tokens": inputs * 9, "total_tokens": inputs * 9}}).encode()


DEEPGRAM = json.dumps({"metadata": {"duration": 781.25}, "results": {"channels": [
    {"alternatives": [{"transcript": "bench"}]}], "utterances": []}}).encode()


def start_nginx(root: Path, port: int, inputs: int, dims: int, proxy_port: int = 0) -> subprocess.Popen[bytes]:
    """The mock on ``port``; with ``proxy_port``, also nginx proxying to it there (keep-alive
    upstream connections, the answer buffered in memory): one more hop through the fastest
    proxy at hand, for comparison."""
    proxy = f"""
  upstream mock {{ server 127.0.0.1:{port}; keepalive 4; }}
  server {{
    listen 127.0.0.1:{proxy_port};
    location / {{ proxy_pass http://mock; proxy_http_version 1.1; proxy_set_header Connection "";
                 proxy_buffers 64 64k; proxy_buffer_size 64k; }}
  }}""" if proxy_port else ""
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
  }}{proxy}
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


def bench_embeddings(targets: dict[str, str], mock: str, inputs: int, requests: int, pids: dict[str, int]) -> dict:
    """``targets``: name → base URL of each thing measured beside the mock (the gateway, and
    ``--with-tree``'s and ``--floor``'s servers), every one in turn per iteration."""
    texts = [f"input number {i} about reverse proxies and embeddings" for i in range(inputs)]
    body = json.dumps({"model": "openai/text-embedding-3-small", "input": texts, "encoding_format": "base64"})
    direct_body = body.replace("openai/text-embedding-3-small", "text-embedding-3-small")
    times: dict[str, list[float]] = {"direct": [], **{name: [] for name in targets}}
    headers = {"content-type": "application/json", "authorization": "Bearer sk-bench"}
    cpu = {name: 0.0 for name in pids}
    clients = {"direct": httpx.Client(base_url=mock, headers=headers),
               **{name: httpx.Client(base_url=url, headers=headers) for name, url in targets.items()}}
    try:
        for i in range(requests + 20):
            if i == 20:
                cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
            for name, client in clients.items():
                started = time.perf_counter()
                resp = client.post("/v1/embeddings", content=direct_body if name in ("direct", "proxy") else body)
                elapsed = (time.perf_counter() - started) * 1000
                assert resp.status_code == 200, resp.text[:200]
                if i >= 20:  # warm-up
                    times[name].append(elapsed)
    finally:
        for client in clients.values():
            client.close()
    out: dict = {name: {"p50": percentile(v, 0.5), "p99": percentile(v, 0.99)} for name, v in times.items()}
    out["cpu_ms_per_request"] = {name: (cpu_seconds(pid) - cpu[name]) / requests * 1000 for name, pid in pids.items()}
    out["added"] = {name: {q: out[name][q] - out["direct"][q] for q in ("p50", "p99")} for name in targets}
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
    parser.add_argument("--with-tree", type=Path, default=None,
                        help="also measure a gateway run from this source tree (an older commit, exported)")
    parser.add_argument("--floor", action="store_true",
                        help="also measure an ASGI app that only answers the mock's body under Granian "
                             "(overhead.py --floor): the server's own share; and nginx proxying to the mock: "
                             "what one more hop costs through the fastest proxy at hand")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="omniroute-media-bench-"))
    work.chmod(0o755)
    mock_port = free_port()
    mock = f"http://127.0.0.1:{mock_port}"
    proxy_port = free_port() if args.floor else 0
    nginx = start_nginx(work / "nginx", mock_port, args.inputs, args.dims, proxy_port)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    targets: dict[str, str] = {}
    flags = ["--max-audio-bytes", str(200 * 1024 * 1024)]
    for name, tree in (("gateway", None), ("with", args.with_tree)):
        if name == "gateway" or tree is not None:
            port = free_port()
            targets[name] = f"http://127.0.0.1:{port}"
            procs[name] = start_gateway(port, work / name, 1, flags, tree)
    if args.floor:
        port = free_port()
        targets["floor"] = f"http://127.0.0.1:{port}"
        procs["floor"] = start_floor(port, 1, {"FLOOR_BODY": str(work / "nginx" / "html" / "v1" / "embeddings")},
                                     work / "floor.log")
        targets["proxy"] = f"http://127.0.0.1:{proxy_port}"
    try:
        for name, url in targets.items():
            if name in ("floor", "proxy"):
                wait_http(url + "/")
                continue
            wait_http(url + "/api/monitoring/health")
            for row in ("openai", "deepgram"):
                httpx.post(f"{url}/api/providers", json={"provider": row, "apiKey": "sk-bench", "baseUrl": mock
                                                         + ("/v1" if row == "openai" else "")}).raise_for_status()
        emb = bench_embeddings(targets, mock, args.inputs, args.requests, {k: p.pid for k, p in procs.items()})
        aud = bench_audio(targets["gateway"], procs["gateway"].pid, work, args.audio_mb)
    finally:
        for proc in procs.values():
            os.killpg(proc.pid, 15)
            proc.wait(10)
        nginx.terminate()
        nginx.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    print(f"\nembeddings, {args.inputs} inputs, {args.dims}-dim base64 vectors (request {emb['request_bytes']} B, "
          f"answer {emb['answer_bytes']} B), c=1, {args.requests} requests each\n")
    print("| path | p50 ms | p99 ms | added p50 ms | added p99 ms | CPU ms / request |\n|---|---:|---:|---:|---:|---:|")
    for name in ("direct", *targets):
        added = emb["added"].get(name)
        cells = f"{added['p50']:+.3f} | {added['p99']:+.3f}" if added else "— | —"
        cpu = emb["cpu_ms_per_request"].get(name)
        print(f"| {name} | {emb[name]['p50']:.3f} | {emb[name]['p99']:.3f} | {cells} | "
              f"{'—' if cpu is None else f'{cpu:.3f}'} |")
    print(f"\naudio upload {aud['file_bytes'] / 1e6:.1f} MB: idle RSS {aud['idle_rss_kb'] / 1024:.1f} MiB, peak "
          f"{aud['peak_rss_kb'] / 1024:.1f} MiB, growth {aud['growth_bytes'] / 1e6:.1f} MB = "
          f"{aud['growth_x_file']:.2f}x the file, {aud['seconds']:.2f} s")


if __name__ == "__main__":
    main()
