"""How the opportunity agent applies a batch: each opportunity's events in topic
order, different opportunities side by side."""

from __future__ import annotations

import asyncio

from services.actions.adapters.streams import apply_by_entity


async def test_each_entitys_items_are_applied_in_order_and_entities_overlap():
    items = [("a", 1), ("b", 1), ("a", 2), ("c", 1), ("b", 2), ("a", 3)]
    applied: list[tuple[str, int]] = []
    running = 0
    most_at_once = 0

    async def apply(item):
        nonlocal running, most_at_once
        running += 1
        most_at_once = max(most_at_once, running)
        await asyncio.sleep(0.01 if item[0] == "a" else 0)
        applied.append(item)
        running -= 1

    await apply_by_entity(items, lambda item: item[0], apply, concurrency=8)

    assert sorted(applied) == sorted(items)
    for entity in "abc":
        assert [n for e, n in applied if e == entity] == [n for e, n in items if e == entity]
    assert most_at_once == 3


async def test_concurrency_bounds_the_entities_applied_at_once():
    running = 0
    most_at_once = 0

    async def apply(_):
        nonlocal running, most_at_once
        running += 1
        most_at_once = max(most_at_once, running)
        await asyncio.sleep(0)
        running -= 1

    await apply_by_entity([str(i) for i in range(20)], lambda item: item, apply, concurrency=4)
    assert most_at_once == 4


async def test_a_failing_item_fails_the_batch_after_the_others_ran():
    applied = []

    async def apply(item):
        if item == "bad":
            raise RuntimeError("boom")
        await asyncio.sleep(0)
        applied.append(item)

    try:
        await apply_by_entity(["ok1", "bad", "ok2"], lambda item: item, apply, concurrency=8)
    except RuntimeError:
        pass
    else:
        raise AssertionError("the failure was swallowed")
    assert sorted(applied) == ["ok1", "ok2"]
