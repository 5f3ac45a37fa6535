"""``store.runtime``: the admission and the after-answer count as units on a real LMDB runtime
environment — all or nothing, budget read in the same transaction, one count for tokens and
spend — and two processes admitting against one window get exactly its limit through."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from omniroute.store.runtime import Runtime


def test_admission_counts_every_window_or_none(tmp_path: Path) -> None:
    rt = Runtime(tmp_path / "rt")
    checks = [("k:a:0", 2, 0), ("g:0", 3, 0)]
    assert rt.admit(checks) == (-1, 0.0)
    assert rt.admit(checks) == (-1, 0.0)
    assert rt.admit(checks) == (0, 0.0)  # the key's window is full: the global one is not counted
    assert rt.window("k:a:0") == (2, 0) and rt.window("g:0") == (2, 0)
    assert rt.admit([("k:b:0", 0, 0), ("g:0", 3, 0)]) == (-1, 0.0)
    assert rt.admit([("k:b:0", 0, 0), ("g:0", 3, 0)]) == (1, 0.0)
    assert rt.window("k:b:0") == (1, 0)
    rt.close()


def test_a_spent_budget_refuses_and_counts_nothing(tmp_path: Path) -> None:
    rt = Runtime(tmp_path / "rt")
    checks = [("k:a:0", 10, 0)]
    assert rt.admit(checks, ("a:0", 1.0)) == (-1, 0.0)
    rt.count({}, {"a:0": 0.6})
    assert rt.admit(checks, ("a:0", 1.0)) == (-1, 0.6)  # spent < limit: admitted
    rt.count({}, {"a:0": 0.6})  # the one that crosses it completes
    assert rt.admit(checks, ("a:0", 1.0)) == (1, 1.2)  # index len(checks): the budget
    assert rt.window("k:a:0") == (2, 0)  # the refused request used no quota
    assert rt.admit([], ("a:0", 1.0)) == (0, 1.2)  # a budget alone: a read
    assert rt.admit([], ("a:0", 5.0)) == (-1, 1.2)
    rt.close()


def test_count_adds_tokens_to_each_window_and_spend_at_once(tmp_path: Path) -> None:
    rt = Runtime(tmp_path / "rt")
    rt.admit([("k:a:0", 0, 100)])
    rt.count({"k:a:0": 70, "c:x:0": 70}, {"a:0": 0.25})
    rt.count({"k:a:0": 40}, {})
    assert rt.window("k:a:0") == (1, 110) and rt.window("c:x:0") == (0, 70)
    assert rt.spent("a:0") == 0.25
    assert rt.admit([("k:a:0", 0, 100)]) == (0, 0.0)  # token limit reached
    rt.close()


def _admit_many(path: str, n: int, out: multiprocessing.Queue) -> None:
    rt = Runtime(path)
    out.put(sum(rt.admit([("k:a:0", 250, 0)], ("a:0", 1.0))[0] < 0 for _ in range(n)))
    rt.close()


def test_two_processes_get_exactly_the_limit_through(tmp_path: Path) -> None:
    Runtime(tmp_path / "rt").close()
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue = ctx.Queue()
    procs = [ctx.Process(target=_admit_many, args=(str(tmp_path / "rt"), 200, out)) for _ in range(2)]
    for p in procs:
        p.start()
    admitted = out.get(timeout=60) + out.get(timeout=60)
    for p in procs:
        p.join(30)
    assert admitted == 250
    rt = Runtime(tmp_path / "rt")
    assert rt.window("k:a:0") == (250, 0)
    rt.close()
