"""retry_in_place: retries until the attempt succeeds, lets unretryable errors through."""

from __future__ import annotations

import pytest

from kernel import retry
from kernel.retry import retry_in_place


class Unfixable(Exception):
    pass


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    slept = []

    async def sleep(seconds):
        slept.append(seconds)

    monkeypatch.setattr(retry.asyncio, "sleep", sleep)
    return slept


async def test_retries_with_growing_capped_delays_until_it_succeeds(no_waiting):
    calls = []

    async def attempt():
        calls.append(1)
        if len(calls) < 8:
            raise ConnectionError("Redis went away")

    await retry_in_place("applying", attempt)
    assert len(calls) == 8
    assert no_waiting == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0]


async def test_an_unretryable_error_propagates_at_once(no_waiting):
    async def attempt():
        raise Unfixable("no version of the rules applies this")

    with pytest.raises(Unfixable):
        await retry_in_place("applying", attempt, unretryable=(Unfixable,))
    assert no_waiting == []
