"""CPU per request of the routing load's parts, side by side in one run.

    python bench/routing_cpu.py [--rounds 7] [--seconds 4] [--conns 64] [--mode nonstream]
                                [--variant NAME=PARTS[@TREE] ...]

Requests/s at saturation on a shared 2-core machine move by 10–15 % between runs; the CPU time
a gateway spends per request moves much less. This starts the nginx mock and one gateway
(default workers) per variant, each given a part of issue 9's routing load through the API,
and in each of ``--rounds`` rounds drives every gateway in turn with wrk, reading the CPU time
(user + system) of its process tree before and after. It reports the median over rounds of
CPU µs per request, and its difference from ``plain``.

=========  =========================================================================
part       what the variant's gateway is given
=========  =========================================================================
(none)     ``plain``: a ``provider/model`` id, no key at all (the overhead bench's
           plain path)
``combo``  a 3-target ``priority`` combo whose first target serves
``key``    a client key without limits
``rpm``    a client key with an rpm limit (never reached)
``budget`` a client key with a monthly budget (never spent)
=========  =========================================================================

Default variants: ``plain``, ``rpm``, ``budget``, ``all`` (combo + rpm + budget on one key).
``--variant NAME=PARTS@TREE`` adds one (``+``-joined parts), optionally run from another
source tree (``git archive <rev> omniroute | tar -x -C TREE``), e.g. the commit before a change.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from mock_upstream import start_nginx  # noqa: E402
from overhead import MODES, free_port, start_gateway, wait_http, wire, wrk  # noqa: E402
from usage_cpu import tree_cpu_s  # noqa: E402

DEFAULT = ("plain=", "rpm=rpm", "budget=budget", "all=combo+rpm+budget")


def give(gateway: str, mode: str, parts: list[str]) -> tuple[str, str]:
    """Set ``parts`` up on ``gateway``: answers (the model id to send, the client key)."""
    prefix = MODES[mode][0]
    model, key = f"{prefix}/gpt-4o-mini", "bench"
    if "combo" in parts:
        targets = [f"{prefix}/gpt-4o-mini", f"{prefix}/gpt-4o", f"{prefix}/gpt-4.1-mini"]
        httpx.post(f"{gateway}/api/combos", json={"name": "bench", "strategy": "priority", "models": targets})
        model = "bench"
    if {"key", "rpm", "budget"} & set(parts):
        limits = {"rpm": 1_000_000_000} if "rpm" in parts else {}
        made = httpx.post(f"{gateway}/api/keys", json={"name": "bench", **limits}).json()
        key = made["key"]
        if "budget" in parts:
            httpx.post(f"{gateway}/api/usage/budget", json={"keyId": made["id"], "limit": 1e9, "period": "monthly"})
    return model, key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--conns", type=int, default=64)
    parser.add_argument("--mode", default="nonstream", choices=("nonstream", "stream", "translated"))
    parser.add_argument("--variant", action="append", default=[], help="NAME=PARTS[@TREE], PARTS joined by +")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("bench needs nginx and wrk: apt-get install -y nginx wrk")
    specs: dict[str, tuple[list[str], Path | None]] = {}
    for spec in (*DEFAULT, *args.variant):
        name, _, rest = spec.partition("=")
        parts, _, tree = rest.partition("@")
        specs[name] = ([p for p in parts.split("+") if p], Path(tree) if tree else None)
    work = Path(tempfile.mkdtemp(prefix="omniroute-routing-cpu-"))
    work.chmod(0o755)
    mock_port = free_port()
    mock = f"http://127.0.0.1:{mock_port}"
    nginx = start_nginx(work / "nginx", mock_port)
    procs: dict[str, tuple[str, object, str, Path]] = {}
    started: dict[str, tuple[str, object]] = {}
    _prefix, _path, gateway_path, body = MODES[args.mode]
    try:
        for name, (_parts, tree) in specs.items():
            port = free_port()
            started[name] = (f"http://127.0.0.1:{port}", start_gateway(port, work / name, None, [], tree))
        wait_http(mock + "/v1/models")
        for name, (url, proc) in started.items():
            wait_http(url + "/api/monitoring/health")
            wire(url, mock)
            model, key = give(url, args.mode, specs[name][0])
            body_file = work / f"{name}.json"
            body_file.write_text(json.dumps({"model": model, **body}))
            procs[name] = (url, proc, key, body_file)
            wrk(url + gateway_path, body_file, 16, 2, work / "warm.json", key)
        taken: dict[str, list[tuple[float, float]]] = {name: [] for name in procs}
        for _ in range(args.rounds):
            for name, (url, proc, key, body_file) in procs.items():
                before = tree_cpu_s(proc.pid)  # type: ignore[attr-defined]
                run = wrk(url + gateway_path, body_file, args.conns, args.seconds, work / "run.json", key)
                used = tree_cpu_s(proc.pid) - before  # type: ignore[attr-defined]
                taken[name].append((used / max(run["requests"], 1) * 1e6, run["rps"]))
        base = statistics.median(cpu for cpu, _rps in taken["plain"])
        print(f"| variant ({args.mode}, c={args.conns}) | CPU µs/request | vs plain | requests/s | rounds (µs) |")
        print("|---|---:|---:|---:|---|")
        for name, runs in taken.items():
            cpu = statistics.median(c for c, _r in runs)
            rps = statistics.median(r for _c, r in runs)
            print(f"| {name} | {cpu:.0f} | {(cpu / base - 1) * 100:+.1f} % | {rps:,.0f} | "
                  f"{', '.join(str(round(c)) for c, _r in runs)} |")
    finally:
        for _url, proc in started.values():
            os.killpg(proc.pid, signal.SIGTERM)  # type: ignore[attr-defined]
            proc.wait(15)  # type: ignore[attr-defined]
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
