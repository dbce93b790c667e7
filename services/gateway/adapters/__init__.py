"""The gateway's I/O: the actions service, the live alert feed, the idempotency store."""
