"""`python -m services.pulse grpc|worker`: the dashboard API or the stream worker."""

import asyncio
import sys

from kernel.config import get_settings
from kernel.telemetry import setup_logging, setup_tracing


def main() -> None:
    role = sys.argv[1] if len(sys.argv) > 1 else ""
    if role not in ("grpc", "worker"):
        sys.exit("usage: python -m services.pulse grpc|worker")
    settings = get_settings()
    setup_logging()
    setup_tracing(f"pulse-{role}")
    from services.pulse import bootstrap

    asyncio.run(bootstrap.run_grpc(settings) if role == "grpc" else bootstrap.run_worker(settings))


if __name__ == "__main__":
    main()
