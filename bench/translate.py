"""Translation cost per streamed event and per request, for every (upstream → client) pair.

    python bench/translate.py [--repeat 7] [--rounds 2000]

Per event, from the upstream's golden ``text`` stream fixture (``tests/fixtures/<format>/``,
the same files the tests use), framed once:

- *per text delta*: decoder and encoder are primed with the stream up to its first text-delta
  frame, then that frame is decoded by the upstream format's ``StreamDecoder`` and its events
  encoded by the client format's ``StreamEncoder``, ``--rounds`` times — the marginal cost of
  one streamed text delta in that direction (median of ``--repeat`` runs);
- *whole stream / deltas*: the whole fixture through a fresh decoder and encoder, divided by
  its text deltas — start, stop and usage events spread over a short answer.
Per request: ``client.decode_request`` + ``upstream.encode_request`` of a two-message chat
request, and ``upstream.decode_response`` + ``client.encode_response`` of a short answer.
Pass-through pairs (same format) never translate in the gateway; they are shown for scale.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from omniroute.canonical import Message, Request, Response, StopReason, TextBlock, TextDelta, Usage
from omniroute.formats.framing import NDJSONDecoder, SSEDecoder
from omniroute.formats.registry import FORMATS

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
ORDER = ("openai_chat", "anthropic", "openai_responses", "gemini", "ollama")


def frames_of(fmt_name: str) -> list:
    fmt = FORMATS[fmt_name]
    path = FIXTURES / fmt_name / ("text.ndjson" if fmt.FRAMING == "ndjson" else "text.sse")
    framer = SSEDecoder() if fmt.FRAMING == "sse" else NDJSONDecoder()
    return framer.feed(path.read_bytes()) + framer.close()


def per_event_us(upstream: str, client: str, frames: list, repeat: int) -> float:
    up, cl = FORMATS[upstream], FORMATS[client]
    deltas = (
        sum(1 for f in frames for e in up.StreamDecoder().feed(f) if type(getattr(e, "delta", None)) is TextDelta) or 1
    )
    samples = []
    for _ in range(repeat):
        rounds = 200
        start = time.perf_counter()
        for _ in range(rounds):
            dec, enc = up.StreamDecoder(), cl.StreamEncoder("bench-model", True)
            for frame in frames:
                for event in dec.feed(frame):
                    enc.encode(event)
            for event in dec.close():
                enc.encode(event)
        samples.append((time.perf_counter() - start) / rounds / deltas * 1e6)
    return statistics.median(samples)


def per_delta_us(upstream: str, client: str, frames: list, repeat: int, rounds: int) -> float:
    up, cl = FORMATS[upstream], FORMATS[client]
    dec, enc = up.StreamDecoder(), cl.StreamEncoder("bench-model", True)
    for frame in frames:
        events = dec.feed(frame)
        for event in events:
            enc.encode(event)
        if any(type(getattr(e, "delta", None)) is TextDelta for e in events):
            break
    written = b"".join(enc.encode(event) for event in dec.feed(frame))
    assert written, f"{upstream} → {client}: a repeated text delta wrote nothing"
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(rounds):
            for event in dec.feed(frame):
                enc.encode(event)
        samples.append((time.perf_counter() - start) / rounds * 1e6)
    return statistics.median(samples)


def canonical_request() -> Request:
    return Request(
        model="bench-model",
        system=[TextBlock("You are a concise assistant for a platform team. " * 6)],
        messages=[
            Message("user", [TextBlock("Explain what a reverse proxy does in front of inference servers. " * 6)])
        ],
        max_tokens=256,
        temperature=0.2,
    )


def per_request_us(upstream: str, client: str, repeat: int, rounds: int) -> tuple[float, float]:
    up, cl = FORMATS[upstream], FORMATS[client]
    body = cl.encode_request(canonical_request(), "bench-model")
    answer = Response(
        "r1",
        "bench-model",
        [TextBlock("A reverse proxy forwards requests. " * 4)],
        StopReason.END_TURN,
        usage=Usage(231, 18),
    )
    raw = up.encode_response(answer)
    req_samples, resp_samples = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(rounds):
            req = cl.decode_request(body)
            req.model = "bench-model"
            up.encode_request(req, "bench-model")
        req_samples.append((time.perf_counter() - start) / rounds * 1e6)
        start = time.perf_counter()
        for _ in range(rounds):
            cl.encode_response(up.decode_response(raw))
        resp_samples.append((time.perf_counter() - start) / rounds * 1e6)
    return statistics.median(req_samples), statistics.median(resp_samples)


def print_table(title: str, cell: Callable[[str, str], str]) -> None:
    """One markdown table: rows are upstream formats, columns client formats."""
    print(f"\n{title}\n")
    print("| upstream \\ client | " + " | ".join(ORDER) + " |")
    print("|---|" + "---:|" * len(ORDER))
    for up in ORDER:
        print(f"| {up} | " + " | ".join(cell(up, cl) for cl in ORDER) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    frames = {name: frames_of(name) for name in ORDER}

    def request_cell(up: str, cl: str) -> str:
        req_us, resp_us = per_request_us(up, cl, args.repeat, args.rounds)
        return f"{req_us:.1f} / {resp_us:.1f}"

    print_table(
        "per streamed text delta, µs (rows: upstream, columns: client)",
        lambda up, cl: f"{per_delta_us(up, cl, frames[up], args.repeat, args.rounds):.2f}",
    )
    print_table(
        "whole text stream / its text deltas, µs (framing events included)",
        lambda up, cl: f"{per_event_us(up, cl, frames[up], args.repeat):.2f}",
    )
    print_table("per request, µs: request decode+encode / response decode+encode", request_cell)


if __name__ == "__main__":
    main()
