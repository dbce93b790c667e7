"""`python -m services.actions grpc|worker`: the command API or the stream worker."""

import asyncio
import sys

from kernel.config import get_settings
from kernel.telemetry import setup_logging, setup_tracing


def main() -> None:
    role = sys.argv[1] if len(sys.argv) > 1 else ""
    settings = get_settings()
    setup_logging()
    setup_tracing(f"actions-{role}")
    from services.actions import bootstrap

    if role == "grpc":
        asyncio.run(bootstrap.run_grpc(settings))
    elif role == "worker":
        import faust

        # Faust replaces the logging set-up unless told not to; keep our JSON lines.
        faust.Worker(bootstrap.build_worker(settings), loglevel="info", override_logging=False).execute_from_commandline()
    else:
        sys.exit("usage: python -m services.actions grpc|worker")


if __name__ == "__main__":
    main()
