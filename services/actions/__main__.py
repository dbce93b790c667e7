"""`python -m services.actions grpc|worker|reporting`: the command API, the stream worker
or the reporting worker."""

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
    elif role in ("worker", "reporting"):
        import faust

        from kernel.faust_app import freeze_startup_heap

        build = bootstrap.build_worker if role == "worker" else bootstrap.build_reporting_worker
        app = build(settings)
        freeze_startup_heap()  # a full collection cost a tenth of a stall alert's 1 s budget
        # Faust replaces the logging set-up unless told not to; keep our JSON lines.
        faust.Worker(app, loglevel="info", override_logging=False).execute_from_commandline()
    else:
        sys.exit("usage: python -m services.actions grpc|worker|reporting")


if __name__ == "__main__":
    main()
