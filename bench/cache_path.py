"""What the cache hook itself costs per request, in process (no server, no network): the
request-path work of a BYPASS, an exact HIT and a MISS, and the MISS's post work (after the
answer was sent). Real parts: the OpenAI Chat handler's view and decoders, the cache hook,
its LMDB environment in a temp dir, the pipeline's ``collect_answer``.

    python bench/cache_path.py [--rounds 20000]

Prints microseconds per request (best of 5 runs) — CPU time the gateway spends, which the
loaded machine's wall-clock HTTP figures (``overhead.py``) can only hint at.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from mock_upstream import completion_body  # noqa: E402
from overhead import REQUEST  # noqa: E402

from omniroute.answers import collect_answer  # noqa: E402
from omniroute.cache.runtime import CacheRuntime  # noqa: E402
from omniroute.caching.hook import CacheHook  # noqa: E402
from omniroute.context import RequestContext  # noqa: E402
from omniroute.formats import openai_chat  # noqa: E402
from omniroute.formats.openai_chat.view import decode_chat_view  # noqa: E402


class FakeRoute:
    combo = None

    class first:
        key = "mock/gpt-4o-mini"


def context(body: bytes) -> RequestContext:
    """What ``v1.chat_completions`` leaves on the context before the pipeline."""
    ctx = RequestContext(time.perf_counter(), "openai_chat")
    view = decode_chat_view(body)
    ctx.client, ctx.body, ctx.model, ctx.stream, ctx.temperature = openai_chat, body, view.model, False, \
        view.temperature
    ctx.route = FakeRoute()  # type: ignore[assignment]
    ctx.deadline = 600
    return ctx


async def measure(rounds: int) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="omniroute-cachepath-"))
    try:
        cache = CacheRuntime(work)
        hook = CacheHook(cache)
        answer = completion_body()
        bodies = {t: json.dumps({"model": "mock/gpt-4o-mini", **REQUEST, "temperature": t}).encode() for t in (0, 0.2)}

        async def bypass() -> None:
            await hook.pre(context(bodies[0.2]))

        async def view_only() -> None:
            context(bodies[0.2])

        async def hit() -> None:
            await hook.pre(context(bodies[0]))

        n = [0]

        async def miss(post: bool) -> None:
            n[0] += 1
            body = bodies[0].replace(b"Explain", b"Explain %d" % n[0], 1)
            ctx = context(body)
            await hook.pre(ctx)
            if post:
                ctx.captured, ctx.status, ctx.upstream_format = [answer], 200, "openai_chat"
                collect_answer(ctx)
                await hook.post(ctx)

        warm = context(bodies[0])  # the answer the hits find
        await hook.pre(warm)
        warm.captured, warm.status, warm.upstream_format = [answer], 200, "openai_chat"
        collect_answer(warm)
        await hook.post(warm)
        out = {}
        for name, step in (("handler view alone", view_only), ("bypass", bypass), ("hit", hit),
                           ("miss, request path", lambda: miss(False)), ("miss, with post work", lambda: miss(True))):
            best = float("inf")
            for _ in range(5):
                began = time.perf_counter()
                for _ in range(rounds):
                    await step()
                best = min(best, (time.perf_counter() - began) / rounds * 1e6)
            out[name] = round(best, 2)
        cache.close()
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20000)
    args = parser.parse_args()
    result: dict[str, Any] = asyncio.run(measure(args.rounds))
    base = result["handler view alone"]
    for name, us in result.items():
        print(f"| {name} | {us:.2f} | {us - base:+.2f} |")


if __name__ == "__main__":
    main()
