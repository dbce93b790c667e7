"""`python -m services.gateway`: serve the gateway with uvicorn.

Listens on DEALPULSE_HTTP_PORT (settings.http_port) and DEALPULSE_HTTP_HOST
(default 0.0.0.0, every interface, as a container needs)."""

from __future__ import annotations

import os

import uvicorn

from kernel.config import get_settings
from kernel.telemetry import setup_logging, setup_tracing
from services.gateway.app import create_app


def main() -> None:
    setup_logging()
    setup_tracing("gateway")
    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=os.environ.get("DEALPULSE_HTTP_HOST", "0.0.0.0"),
        port=settings.http_port,
        # Our JSON log lines (with trace ids) instead of uvicorn's own format.
        log_config=None,
        # Open SSE streams end when the alert feed stops; bound the wait regardless.
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
