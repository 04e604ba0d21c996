"""``store.engine.ahead``: the batch writer's chunks come from a thread a few chunks ahead. What
the consumer sees must be exactly what the producer made, errors included, and a consumer that
stops must not leave the producer running."""

from __future__ import annotations

import threading

import pytest

from labelspec.store.engine import ahead


def test_every_item_arrives_in_order():
    assert list(ahead(iter(range(1000)), 3)) == list(range(1000))
    assert list(ahead(iter([]), 3)) == []


def test_the_producers_error_is_raised_after_the_items_before_it():
    def items():
        yield from (1, 2, 3)
        raise MemoryError("out of memory in the third chunk")

    seen = []
    with pytest.raises(MemoryError, match="third chunk"):
        for item in ahead(items(), 2):
            seen.append(item)
    assert seen == [1, 2, 3]


def test_a_consumer_that_stops_early_stops_the_producer_and_interrupts_it():
    made = []
    interrupted = threading.Event()

    def items():
        for n in range(10_000):
            made.append(n)
            yield n

    stream = ahead(items(), 2, on_stop=interrupted.set)
    assert [next(stream) for _ in range(5)] == [0, 1, 2, 3, 4]
    stream.close()  # what an error in the consumer's loop does to the generator

    assert interrupted.is_set()
    assert not any(t.name == "labelspec-prefetch" for t in threading.enumerate())
    assert len(made) < 20  # at most a few items past the slots, not the whole stream


def test_a_consumer_that_finishes_does_not_interrupt():
    interrupted = threading.Event()
    assert list(ahead(iter("abc"), 1, on_stop=interrupted.set)) == ["a", "b", "c"]
    assert not interrupted.is_set()
