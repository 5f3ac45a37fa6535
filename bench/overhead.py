"""Gateway overhead against a direct-to-mock baseline, measured in the same run.

    python bench/overhead.py [--duration 8] [--conns 1,16,64] [--workers N] [--rounds 1] [--out bench/results]
                             [--floor] [--cache-off]
                             [--with "--log-level info"] [--with-tree DIR] [--routing]
                             [--with-settings 'system-prompt={"enabled":true,...}']

Starts the nginx mock (``mock_upstream.py``), then ``omniroute serve`` with the default
worker count (one per core) and a fresh data dir, wires the mock in as two provider nodes
(``mock`` JSON, ``mockstream`` SSE with 20 content chunks), and drives both the mock
directly and the gateway with wrk, in three modes: ``nonstream`` and ``stream`` (OpenAI Chat
client, pass-through) and ``translated`` (an Anthropic ``/v1/messages`` client on the same
OpenAI upstream: request and answer translated) (closed loop, 1 thread at c=1, else 2). For each mode
(non-streaming, streaming) and connection count it reports requests/s, p50/p99 and the
gateway's added p50/p99 (gateway minus direct, same run); plus idle RSS per worker and
peak RSS of the gateway process tree. Needs ``nginx`` and ``wrk`` (Debian packages).
Results: a markdown table on stdout and a JSON file in ``--out``.

Cache modes (docs/caching.md): ``hit`` sends one deterministic body (``temperature`` 0) over and
over — every request after the first is an exact-cache hit; ``miss`` sends deterministic bodies
made unique per request by the wrk script (each is looked up, misses, and is stored). The
other modes send ``temperature`` 0.2: not eligible, the cache says BYPASS without decoding.
``--cache-off`` starts a second gateway (variant ``cacheoff``) whose cache and idempotency are
switched off through ``PUT /api/cache/config``: the same build, with and without the cache.

``--rounds N`` measures every row N times, the direct baseline and each variant one after
another in each round, and reports the round with the median requests/s (the rows' JSON also
lists every round's requests/s and added p50): on a shared, noisy machine one 8-second sample
per row can be off by 10–15 %.

``--with FLAGS`` starts a second gateway with those extra ``omniroute serve`` flags beside the
default one and measures both in every row (variant ``default`` and ``with``), interleaved in
the same run: how a feature that is switched on costs against the same build with it off.
Gateway output (the access log, when on) goes to a file in the run's directory.

``--with-tree DIR`` runs that second gateway from another source tree (``PYTHONPATH=DIR``):
an older commit exported with ``git archive <rev> | tar -x -C DIR`` against this one, in the
same run. ``--routing`` gives the second gateway the routing load of issue 9 and sends its
requests through it: a 3-target ``priority`` combo whose first target serves, a client key
with an rpm limit (never reached) and a budget (never spent).

``--floor`` also measures ``floor_app.py`` — an ASGI app that reads the request and answers the
mock's own body, nothing else — under Granian with the gateway's server settings (variant
``floor``): what the server alone adds over the direct mock, in the same run. A gateway row's
added latency minus the floor row's is the gateway code's share.

``--with-settings 'NAME=JSON;NAME=JSON'`` does the same for settings set through the API: each
``PUT /api/settings/NAME`` with that body is applied to the second gateway after it is wired
(``system-prompt``, ``thinking-budget``, ``proxy``, ``ip-filter``; docs/operations.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from mock_upstream import completion_body, start_nginx, stream_body  # noqa: E402

REQUEST = {
    "messages": [
        {"role": "system", "content": "You are a concise assistant for a platform team. " * 6},
        {"role": "user", "content": "Explain what a reverse proxy does in front of inference services. " * 6},
    ],
    "temperature": 0.2,
    "max_tokens": 256,
}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def tree_rss_kb(root: int) -> tuple[int, list[int]]:
    """RSS of a process and its descendants (total KiB, per-child list)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, IndexError, ValueError):
            continue
    members = [p for p in parents if _descends(p, root, parents)]
    return sum(rss.get(p, 0) for p in members), [rss.get(p, 0) for p in members if p != root]


def _descends(pid: int, root: int, parents: dict[int, int]) -> bool:
    for _ in range(32):
        if pid == root:
            return True
        pid = parents.get(pid, 0)
        if pid <= 1:
            return False
    return False


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, tree_rss_kb(self.pid)[0])
            time.sleep(0.25)


def wrk(url: str, body_file: Path, conns: int, seconds: float, result: Path, key: str = "bench") -> dict:
    result.unlink(missing_ok=True)
    threads = 1 if conns == 1 else 2
    env = {**os.environ, "BODY_FILE": str(body_file), "RESULT_FILE": str(result), "BENCH_KEY": key}
    subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{conns}",
            f"-d{int(seconds)}s",
            "--timeout",
            "10s",
            "-s",
            str(HERE / "wrk_chat.lua"),
            url,
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    data = json.loads(result.read_text().strip().splitlines()[-1])
    data["rps"] = data["requests"] / data["seconds"]
    return data


def start_gateway(port: int, data_dir: Path, workers: int | None, flags: list[str],
                  tree: Path | None = None) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "omniroute", "serve", "--port", str(port), "--data-dir", str(data_dir), *flags]
    if workers:
        cmd += ["--workers", str(workers)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIROUTE_")}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    data_dir.mkdir(parents=True, exist_ok=True)
    out = (data_dir / "gateway.log").open("wb")
    # started in its data dir: ``python -m`` puts the working directory first on sys.path, so
    # from a checkout it would shadow ``tree`` (PYTHONPATH) with the checkout's own package
    return subprocess.Popen(cmd, env=env, stdout=out, stderr=out, start_new_session=True, cwd=data_dir)


def start_floor(port: int, workers: int | None, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``floor_app.py`` under Granian with the gateway's server settings (``omniroute.cli``:
    ASGI, uvloop, HTTP/1, no websockets, backlog 2048; one worker per core by default)."""
    cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "--loop", "uvloop", "--http", "1", "--no-ws",
           "--backlog", "2048", "--workers", str(workers or os.cpu_count() or 1), "--port", str(port),
           "--log-level", "warning", "floor_app:app"]
    out = log.open("wb")
    return subprocess.Popen(cmd, env={**os.environ, **env}, cwd=HERE, stdout=out, stderr=out, start_new_session=True)


def wire(gateway: str, mock: str) -> None:
    for prefix, path in (("mock", "/v1"), ("mockstream", "/stream/v1")):
        node = httpx.post(f"{gateway}/api/provider-nodes", json={"prefix": prefix, "baseUrl": mock + path}).json()
        httpx.post(f"{gateway}/api/providers", json={"provider": node["node"]["id"], "apiKey": "sk-bench"})


@contextmanager
def wired_gateway(prefix: str, grace: float = 15) -> Iterator[tuple[Path, str]]:
    """The nginx mock and one ``omniroute serve`` (default workers) wired to it, in a fresh
    work dir: yields (work dir, gateway URL); both stopped and the dir removed after."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    work.chmod(0o755)  # nginx workers run unprivileged and must read the stream file
    mock_port, port = free_port(), free_port()
    mock, url = f"http://127.0.0.1:{mock_port}", f"http://127.0.0.1:{port}"
    nginx = start_nginx(work / "nginx", mock_port)
    gateway = start_gateway(port, work / "gw", None, [])
    try:
        wait_http(mock + "/v1/models")
        wait_http(url + "/api/monitoring/health")
        wire(url, mock)
        yield work, url
    finally:
        os.killpg(gateway.pid, signal.SIGTERM)
        gateway.wait(grace)
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(10)
        shutil.rmtree(work, ignore_errors=True)


class Variant:
    """One gateway measured beside the direct baseline: its flags, source tree, and the model
    prefix per mode and client key its requests use."""

    def __init__(self, flags: list[str], tree: Path | None = None, floor: bool = False) -> None:
        self.flags, self.tree, self.floor = flags, tree, floor
        self.models: dict[str, str] = {}  # mode → model id (default: "<prefix>/gpt-4o-mini")
        self.key = "bench"
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None


def add_routing_load(gateway: str) -> tuple[dict[str, str], str]:
    """Issue 9's load: per mock node a 3-target priority combo (the first serves), a key with
    an rpm limit and a budget. Answers (mode → combo name, the key)."""
    models = {}
    for mode, prefix in (("nonstream", "mock"), ("translated", "mock"), ("stream", "mockstream")):
        name = f"bench-{prefix}"
        targets = [f"{prefix}/gpt-4o-mini", f"{prefix}/gpt-4o", f"{prefix}/gpt-4.1-mini"]
        httpx.post(f"{gateway}/api/combos", json={"name": name, "strategy": "priority", "models": targets})
        models[mode] = name
    key = httpx.post(f"{gateway}/api/keys", json={"name": "bench", "rpm": 1_000_000_000}).json()
    httpx.post(f"{gateway}/api/usage/budget", json={"keyId": key["id"], "limit": 1e9, "period": "monthly"})
    return models, key["key"]


def apply_settings(gateway: str, spec: str) -> None:
    """``NAME=JSON;…`` → ``PUT /api/settings/NAME`` with each body (``--with-settings``)."""
    for item in filter(None, (part.strip() for part in spec.split(";"))):
        name, _, body = item.partition("=")
        resp = httpx.put(f"{gateway}/api/settings/{name.strip()}", json=json.loads(body))
        if resp.status_code != 200:
            raise SystemExit(f"--with-settings {name}: {resp.status_code} {resp.text}")


def run(args: argparse.Namespace) -> dict:
    work = Path(tempfile.mkdtemp(prefix="omniroute-bench-"))
    work.chmod(0o755)  # nginx workers run unprivileged and must read the stream file
    mock_port = free_port()
    mock = f"http://127.0.0.1:{mock_port}"
    nginx = start_nginx(work / "nginx", mock_port)
    variants = {"default": Variant([])}
    if args.with_flags or args.with_tree or args.routing or args.with_settings:
        variants["with"] = Variant(args.with_flags.split(), args.with_tree)
    if args.cache_off:
        variants["cacheoff"] = Variant([])
    if args.floor:
        variants["floor"] = Variant([], floor=True)
    try:
        for name, variant in variants.items():
            port = free_port()
            variant.url = f"http://127.0.0.1:{port}"
            if variant.floor:
                (work / "floor").mkdir()
                answers = {"FLOOR_BODY": work / "floor" / "answer.json", "FLOOR_STREAM": work / "floor" / "stream.txt"}
                answers["FLOOR_BODY"].write_bytes(completion_body())
                answers["FLOOR_STREAM"].write_bytes(stream_body())
                variant.proc = start_floor(port, args.workers, {k: str(v) for k, v in answers.items()},
                                           work / "floor" / "granian.log")
            else:
                variant.proc = start_gateway(port, work / name, args.workers, variant.flags, variant.tree)
        wait_http(mock + "/v1/models")
        for variant in variants.values():
            if variant.floor:
                wait_http(variant.url + "/")
                continue
            wait_http(variant.url + "/api/monitoring/health")
            wire(variant.url, mock)
        if args.routing:
            variants["with"].models, variants["with"].key = add_routing_load(variants["with"].url)
        if args.with_settings:
            apply_settings(variants["with"].url, args.with_settings)
        if args.cache_off:
            off = {"exact": {"enabled": False}, "idempotency": {"windowMs": 0}}
            httpx.put(variants["cacheoff"].url + "/api/cache/config", json=off).raise_for_status()
        time.sleep(1.0)
        idle_total, idle_workers = tree_rss_kb(variants["default"].proc.pid)
        rows = measure(args, work, mock, variants)
    finally:
        for variant in variants.values():
            if variant.proc is not None:
                os.killpg(variant.proc.pid, signal.SIGTERM)
                variant.proc.wait(15)
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "kernel": platform.release()},
        "idle_rss_mb": {"total": round(idle_total / 1024, 1), "per_worker": [round(w / 1024, 1) for w in idle_workers]},
        "with": args.with_flags,
        "with_tree": str(args.with_tree) if args.with_tree else None,
        "routing": args.routing,
        "with_settings": args.with_settings,
        "rows": rows,
    }


#: mode → (provider prefix, direct path on the mock, gateway path, body)
MODES: dict[str, tuple[str, str, str, dict]] = {
    "nonstream": ("mock", "/v1", "/v1/chat/completions", {**REQUEST, "stream": False}),
    "stream": ("mockstream", "/stream/v1", "/v1/chat/completions", {**REQUEST, "stream": True}),
    # an Anthropic client on the OpenAI upstream: translated both ways, non-streaming
    "translated": (
        "mock",
        "/v1",
        "/v1/messages",
        {
            "system": REQUEST["messages"][0]["content"],
            "messages": REQUEST["messages"][1:],
            "max_tokens": 256,
        },
    ),
    # the exact cache: one deterministic body (all hits after the first), and unique ones (all misses)
    "hit": ("mock", "/v1", "/v1/chat/completions", {**REQUEST, "temperature": 0, "stream": False}),
    "miss": ("mock", "/v1", "/v1/chat/completions", {**REQUEST, "temperature": 0, "stream": False,
                                                      "messages": [*REQUEST["messages"][:1], {
                                                          "role": "user", "content": "Question @@N@@: "
                                                          + REQUEST["messages"][1]["content"]}]}),
}


def measure(args: argparse.Namespace, work: Path, mock: str, variants: dict[str, Variant]) -> list[dict]:
    """Per mode and connection count: the mock directly, then each gateway variant."""
    rows = []
    for mode in args.modes:
        prefix, path, gateway_path, body = MODES[mode]
        direct_body = work / f"{mode}.json"
        direct_body.write_text(json.dumps({"model": f"{prefix}/gpt-4o-mini", **body}))
        bodies = {}
        for name, variant in variants.items():
            bodies[name] = work / f"{mode}-{name}.json"
            bodies[name].write_text(json.dumps({"model": variant.models.get(mode, f"{prefix}/gpt-4o-mini"), **body}))
        direct_url = mock + path + "/chat/completions"
        wrk(direct_url, direct_body, 16, 2, work / "warm.json")  # warm-up
        for name, variant in variants.items():
            wrk(variant.url + gateway_path, bodies[name], 16, 2, work / "warm.json", variant.key)
        for conns in args.conns:
            taken: dict[str, list[tuple[dict, dict, float]]] = {name: [] for name in variants}
            for _round in range(args.rounds):  # interleaved: each round measures direct, then every variant
                direct = wrk(direct_url, direct_body, conns, args.duration, work / "r.json")
                for name, variant in variants.items():
                    sampler = RssSampler(variant.proc.pid)
                    sampler.start()
                    through = wrk(variant.url + gateway_path, bodies[name], conns, args.duration, work / "r.json",
                                  variant.key)
                    sampler.running = False
                    sampler.join()
                    taken[name].append((direct, through, sampler.peak))
            for name, runs in taken.items():
                direct, through, peak = sorted(runs, key=lambda run: run[1]["rps"])[len(runs) // 2]
                row = {
                    "mode": mode,
                    "variant": name,
                    "conns": conns,
                    "direct": direct,
                    "gateway": through,
                    "added_p50_ms": (through["p50_us"] - direct["p50_us"]) / 1000,
                    "added_p99_ms": (through["p99_us"] - direct["p99_us"]) / 1000,
                    "peak_rss_mb": round(peak / 1024, 1),
                }
                if args.rounds > 1:
                    row["rounds_rps"] = [round(run[1]["rps"]) for run in runs]
                    row["rounds_added_p50_ms"] = [round((run[1]["p50_us"] - run[0]["p50_us"]) / 1000, 3)
                                                  for run in runs]
                rows.append(row)
                print(format_row(rows[-1]), flush=True)
    return rows


def format_row(r: dict) -> str:
    d, g = r["direct"], r["gateway"]
    return (
        f"| {r['mode']} | {r['variant']} | {r['conns']} | {g['rps']:.0f} | {g['p50_us'] / 1000:.3f} | "
        f"{g['p99_us'] / 1000:.3f} | "
        f"{d['rps']:.0f} | {d['p50_us'] / 1000:.3f} | {r['added_p50_ms']:+.3f} | {r['added_p99_ms']:+.3f} | "
        f"{g['non2xx'] + g['errors']} | {r['peak_rss_mb']} |"
    )


HEADER = (
    "| mode | variant | conns | gateway rps | p50 ms | p99 ms | direct rps | direct p50 ms | added p50 ms "
    "| added p99 ms | errors | peak RSS MB |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per measurement")
    parser.add_argument("--conns", type=lambda s: [int(x) for x in s.split(",")], default=[1, 16, 64])
    parser.add_argument("--workers", type=int, default=None, help="gateway workers (default: one per core)")
    parser.add_argument("--modes", type=lambda s: s.split(","), default=["nonstream", "stream", "translated"],
                        help=",".join(MODES))
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure each row this many times, interleaved; report the median round by rps")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--cache-off", action="store_true",
                        help="also measure a gateway with the cache and idempotency switched off")
    parser.add_argument("--with", dest="with_flags", default="",
                        help='serve flags of a second gateway measured beside the default, e.g. "--log-level info"')
    parser.add_argument("--with-tree", type=Path, default=None,
                        help="run the second gateway from this source tree (an older commit, exported)")
    parser.add_argument("--routing", action="store_true",
                        help="the second gateway serves through a 3-target combo, a rate-limited key and a budget")
    parser.add_argument("--with-settings", dest="with_settings", default="",
                        help="settings PUT to the second gateway: NAME=JSON;NAME=JSON (NAME under /api/settings/)")
    parser.add_argument("--floor", action="store_true",
                        help="also measure an ASGI app that only answers the mock's body, under Granian with the "
                             "gateway's settings: the server's own share of the added latency")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("bench needs nginx and wrk: apt-get install -y nginx wrk")
    print(HEADER, flush=True)
    result = run(args)
    print(f"\nidle RSS: {result['idle_rss_mb']}")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"overhead-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=1))
    print(f"results: {path}")


if __name__ == "__main__":
    main()
