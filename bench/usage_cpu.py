"""CPU per request with usage recording on and off, side by side in one run.

    python bench/usage_cpu.py [--rounds 3] [--seconds 6] [--conns 16]

Latency on a shared 2-core machine moves with everyone else's load; the CPU time a gateway
spends per request moves much less. This starts the nginx mock and two gateways (default
flags: recording on; ``--no-record-usage``: off), and in each of ``--rounds`` rounds drives
each gateway in turn with wrk for every mode (``bench/overhead.py``'s modes), reading the
CPU time (user + system) of the gateway's process tree before and after. It reports, per mode
and variant, the median over rounds of CPU µs per request and requests/s, and the
difference: what recording costs in total per request, request path and writer together.
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from mock_upstream import start_nginx  # noqa: E402
from overhead import MODES, _descends, free_port, start_gateway, wait_http, wire, wrk  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_s(root: int) -> float:
    """User + system CPU seconds of a process and its descendants."""
    parents, cpu = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
            cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICK
    return sum(t for pid, t in cpu.items() if _descends(pid, root, parents))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--conns", type=int, default=16)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="omniroute-usage-cpu-"))
    work.chmod(0o755)
    mock_port = free_port()
    mock = f"http://127.0.0.1:{mock_port}"
    nginx = start_nginx(work / "nginx", mock_port)
    variants = {"recording on": [], "recording off": ["--no-record-usage"]}
    gateways = {}
    try:
        for name, flags in variants.items():
            port = free_port()
            gateways[name] = (f"http://127.0.0.1:{port}", start_gateway(port, work / name.split()[1], None, flags))
        wait_http(mock + "/v1/models")
        for url, _proc in gateways.values():
            wait_http(url + "/api/monitoring/health")
            wire(url, mock)
        results = measure(args, work, gateways)
    finally:
        for _url, proc in gateways.values():
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    print(f"| mode | variant | CPU µs / request | requests/s |  (c={args.conns}, median of {args.rounds})\n"
          "|---|---|---:|---:|")
    for mode, by_variant in results.items():
        for variant, samples in by_variant.items():
            cpu = statistics.median(s[0] for s in samples)
            rps = statistics.median(s[1] for s in samples)
            print(f"| {mode} | {variant} | {cpu:.1f} | {rps:.0f} |")
        on, off = (statistics.median(s[0] for s in by_variant[v]) for v in variants)
        print(f"| {mode} | **difference** | **{on - off:+.1f}** | |")


def measure(args: argparse.Namespace, work: Path, gateways: dict) -> dict:
    results: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for mode, (prefix, _path, gateway_path, body) in MODES.items():
        body_file = work / f"{mode}.json"
        body_file.write_text(json.dumps({"model": f"{prefix}/gpt-4o-mini", **body}))
        for url, _proc in gateways.values():
            wrk(url + gateway_path, body_file, args.conns, 2, work / "warm.json")
        for _ in range(args.rounds):
            for variant, (url, proc) in gateways.items():
                before = tree_cpu_s(proc.pid)
                run = wrk(url + gateway_path, body_file, args.conns, args.seconds, work / "r.json")
                spent = tree_cpu_s(proc.pid) - before
                sample = (spent / run["requests"] * 1e6, run["rps"])
                results.setdefault(mode, {}).setdefault(variant, []).append(sample)
    return results


if __name__ == "__main__":
    main()
