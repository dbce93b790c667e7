"""The worker keeps the garbage collector off its ever-growing book (see LongLivedHeap)."""

import gc
import weakref

from services.pulse.adapters.worker import LongLivedHeap


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def test_what_a_batch_leaves_alive_is_frozen():
    heap = LongLivedHeap(reclaim_every=60, clock=Clock())
    try:
        gc.unfreeze()
        before = gc.get_freeze_count()
        kept = [Node() for _ in range(100)]
        heap.after_batch()
        assert gc.get_freeze_count() >= before + len(kept)  # no collection scans them again
    finally:
        gc.unfreeze()


def test_cycles_that_die_frozen_are_reclaimed_every_interval():
    clock = Clock()
    heap = LongLivedHeap(reclaim_every=60, clock=clock)
    try:
        node = Node()
        gone = weakref.ref(node)
        heap.after_batch()  # alive: frozen
        del node
        clock.now = 59
        heap.after_batch()
        gc.collect()
        assert gone() is not None  # frozen garbage waits for the interval
        clock.now = 60
        heap.after_batch()
        assert gone() is None
    finally:
        gc.unfreeze()


def test_a_reclaim_collects_everything_at_once():
    heap = LongLivedHeap(reclaim_every=60, clock=Clock())
    try:
        node = Node()
        gone = weakref.ref(node)
        heap.after_batch()
        del node
        heap.reclaim()
        assert gone() is None and gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
