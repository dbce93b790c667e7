"""Webhook adapters at the gateway, pure part: verify, decrypt, parse and normalise vendor
callbacks (DingTalk, WeCom), email events and CSV backfill into `Activity` values.

No I/O here: the HTTP routes, the Redis-backed de-duplication store and the Kafka producer
are wiring around these functions. `SignatureInvalid` → 401; `MalformedPayload` → 400
problem+json with `errors=[exc.as_problem_error()]`; either way nothing is produced.
"""

from .model import (
    Activity,
    Location,
    MalformedPayload,
    SignatureInvalid,
    WebhookError,
    first_seen,
    new_only,
    redact,
)

__all__ = [
    "Activity",
    "Location",
    "MalformedPayload",
    "SignatureInvalid",
    "WebhookError",
    "first_seen",
    "new_only",
    "redact",
]
