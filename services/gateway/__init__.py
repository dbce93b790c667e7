"""The edge for client apps: REST/JSON over the domain services' gRPC APIs, bearer
authentication, coarse role checks, idempotency keys and live alerts by SSE.

It owns no domain state: every fact comes from (and is re-checked by) a service."""
