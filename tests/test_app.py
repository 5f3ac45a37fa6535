"""``omniroute.app``'s start-up heap settling: what start-up built is frozen out of the cyclic
collector's sight, the young generation is collected at the raised threshold, and cycles
made after start-up are still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from omniroute.app import GC_THRESHOLDS, settle_heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_start_up_heap_frozen_and_threshold_raised(restored_gc: None) -> None:
    built = Node()
    frozen = weakref.ref(built)
    settle_heap()
    assert gc.get_threshold() == GC_THRESHOLDS
    assert gc.get_freeze_count() > 0
    later = Node()
    young = weakref.ref(later)
    del built, later
    gc.collect()
    assert young() is None  # a cycle made after start-up is still collected
    assert frozen() is not None  # what start-up built is out of the collector's sight
    gc.unfreeze()
    gc.collect()
    assert frozen() is None
