"""Requests in flight, shared by every worker: coalescing and idempotency keys.

Both rest on one atomic step, a claim in an LMDB write transaction: the first request to
claim a key *leads* (it goes upstream); any other request with the key, in any worker,
*follows* — it waits for the leader's answer instead of asking the upstream again.

=====================  ===============================  ======================================
claim                  key                              followers get
=====================  ===============================  ======================================
``Flights`` (cache)    the exact cache key              the leader's answer from the cache
                                                        once it is stored; if it was not (an
                                                        error, a client that left) they go
                                                        upstream themselves
``Held`` (idempotency) ``Idempotency-Key`` /            the leader's answer, kept ``windowMs``
                       ``X-Request-Id`` (and the API    after it finished; the same key with
                       key that sent it)                another body is a conflict; if the
                                                        leader failed, the next request with
                                                        the key leads
=====================  ===============================  ======================================

A claim is a lease: it lapses at the leader's deadline, or at once when the worker that
holds it is gone (a crashed process), so no follower waits forever. Followers in the
leader's own worker are woken by an event the moment the leader finishes; followers in other
workers look again every few milliseconds (``POLL_S``, growing to ``POLL_MAX_S``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import TypeVar

import lmdb

from omniroute.cache.db import DECODE_FLIGHT, DECODE_HELD, ENCODE, CacheDB, Flight, Held

T = TypeVar("T")
POLL_S = 0.004
POLL_MAX_S = 0.05


def alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Flights:
    """Claims over exact keys (coalescing) and idempotency keys, with local wake-ups."""

    def __init__(self, db: CacheDB) -> None:
        self.db = db
        self.events: dict[bytes, asyncio.Event] = {}

    # -- coalescing -------------------------------------------------------------------------
    def claim(self, key: bytes, lease_s: float, now: float) -> bool:
        """True when this request leads for ``key`` (nobody alive holds it)."""
        name = b"f" + key
        with self.db.write() as txn:
            raw = txn.get(name, db=self.db.flights)
            if raw is not None:
                held = DECODE_FLIGHT(raw)
                if held.until > now and alive(held.owner):
                    return False
            txn.put(name, ENCODE(Flight(os.getpid(), now + lease_s)), db=self.db.flights)
        return True

    def release(self, txn: lmdb.Transaction, key: bytes) -> None:
        txn.delete(b"f" + key, db=self.db.flights)

    def flying(self, key: bytes, now: float) -> bool:
        with self.db.read() as txn:
            raw = txn.get(b"f" + key, db=self.db.flights)
        if raw is None:
            return False
        held = DECODE_FLIGHT(raw)
        return held.until > now and alive(held.owner)

    # -- idempotency ------------------------------------------------------------------------
    def take(self, key: bytes, body: bytes, lease_s: float, now: float) -> Held | None:
        """``None`` when this request now holds ``key`` (it leads); else the live record of
        the request that does (running, or done within its window)."""
        with self.db.write() as txn:
            raw = txn.get(key, db=self.db.idem)
            if raw is not None:
                held = DECODE_HELD(raw)
                if held.until > now and (held.done or alive(held.owner)):
                    return held
            txn.put(key, ENCODE(Held(body, os.getpid(), now + lease_s)), db=self.db.idem)
        return None

    def held(self, key: bytes) -> Held | None:
        with self.db.read() as txn:
            raw = txn.get(key, db=self.db.idem)
        return DECODE_HELD(raw) if raw is not None else None

    def finish(self, key: bytes, body: bytes, answer: bytes | None, until: float) -> None:
        """The leader is done: keep ``answer`` until ``until``, or (``None``: it failed, or
        the window is 0) let the key go."""
        with self.db.write() as txn:
            if answer is None:
                txn.delete(key, db=self.db.idem)
            else:
                txn.put(key, ENCODE(Held(body, os.getpid(), until, True, answer)), db=self.db.idem)
        self.wake(key)

    def sweep(self, now: float) -> None:
        """Remove lapsed idempotency records and abandoned flights."""
        with self.db.write() as txn:
            for db, decode in ((self.db.idem, DECODE_HELD), (self.db.flights, DECODE_FLIGHT)):
                dead = [bytes(k) for k, v in txn.cursor(db=db) if decode(v).until <= now]
                for key in dead:
                    txn.delete(key, db=db)

    def active(self, now: float) -> int:
        with self.db.read() as txn:
            return sum(1 for _k, v in txn.cursor(db=self.db.idem) if DECODE_HELD(v).until > now)

    # -- waiting ----------------------------------------------------------------------------
    def wake(self, key: bytes) -> None:
        event = self.events.pop(key, None)
        if event is not None:
            event.set()

    async def wait(self, key: bytes, ready: Callable[[], T | None], gone: Callable[[], bool],
                   seconds: float) -> T | None:
        """Wait up to ``seconds`` for ``ready()`` to answer something; ``None`` as soon as
        ``gone()`` says the leader went without leaving an answer, or at the time limit."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        pause = POLL_S
        while True:
            found = ready()
            if found is not None:
                return found
            if gone() or loop.time() >= end:
                return None
            event = self.events.get(key)
            if event is None:
                event = self.events[key] = asyncio.Event()
            try:
                async with asyncio.timeout(min(pause, max(end - loop.time(), 0.0))):
                    await event.wait()
            except TimeoutError:
                pass
            pause = min(pause * 2, POLL_MAX_S)
