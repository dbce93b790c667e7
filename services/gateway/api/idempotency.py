"""Idempotency keys on POSTs: a retried request with the same key gets the stored
response and never reaches the service twice.

The ids in the bodies already make creates idempotent in the services; the key adds
the same guarantee for every POST (a stage change, a clock move) and spares the
service the retry. Only successes are stored: a retry after an error runs again.
Two retries racing before the first finishes both run, which the services' own
idempotency makes harmless.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from services.gateway.adapters.idempotency import IdempotencyStore, StoredResponse
from services.gateway.api.problems import Problem

log = logging.getLogger(__name__)

REPLAYED_HEADER = "Idempotent-Replayed"


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


class IdempotentResponder:
    """One request's view of its idempotency key (or of its absence)."""

    def __init__(self, store: IdempotencyStore, *, scope: tuple[str, ...], key: str | None, fingerprint: str) -> None:
        self._store = store
        self._scope = scope
        self._key = key
        self._fingerprint = fingerprint

    async def replay(self) -> JSONResponse | None:
        """The stored response to this request, if it was already answered."""
        if self._key is None:
            return None
        try:
            stored = await self._store.get(self._scope, self._key)
        except RedisError as exc:
            log.error("idempotency store unavailable: %s", exc)
            raise Problem(503, "the idempotency store is unavailable; retry later") from exc
        if stored is None:
            return None
        if stored.request_fingerprint != self._fingerprint:
            raise Problem(422, "this Idempotency-Key was already used for a different request")
        return JSONResponse(stored.body, status_code=stored.status_code, headers={REPLAYED_HEADER: "true"})

    async def respond(self, status_code: int, body: Any) -> JSONResponse:
        """Answer, remembering the answer when the request carries a key."""
        if self._key is not None:
            try:
                await self._store.put(self._scope, self._key, StoredResponse(self._fingerprint, status_code, body))
            except RedisError as exc:
                # The command succeeded: answering is worth more than remembering.
                log.error("could not store the response for an idempotency key: %s", exc)
        return JSONResponse(body, status_code=status_code)
