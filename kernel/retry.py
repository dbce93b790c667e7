"""Retrying in place, for stream workers that must apply records in order.

Skipping a record would lose a fact and moving on would apply a later record of the
same key before it, so a worker retries the failing step with backoff until it
succeeds; a persistent failure shows as consumer lag and the logged exception, not as
silent loss. What no retry can fix (an unprocessable record) is raised for the caller
to dead-letter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

FIRST_DELAY_SECONDS = 0.1
MAX_DELAY_SECONDS = 5.0


async def retry_in_place(
    what: str,
    attempt: Callable[[], Awaitable[object]],
    *,
    unretryable: tuple[type[Exception], ...] = (),
) -> None:
    """Await `attempt()` until it returns; exceptions in `unretryable` propagate."""
    delay = FIRST_DELAY_SECONDS
    while True:
        try:
            await attempt()
            return
        except unretryable:
            raise
        except Exception:
            log.exception("%s failed; retrying in %.1fs", what, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY_SECONDS)
