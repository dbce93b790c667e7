"""`python -m services.audit [grpc|worker]`: the audit gRPC API on settings.grpc_port
(DEALPULSE_GRPC_PORT; the default), or the audit stream worker. A bad policy document
or approval workflow document stops start-up with its error (file, key, reason)."""

import asyncio
import logging
import sys

from kernel.config import get_settings
from kernel.telemetry import setup_logging, setup_tracing


def main() -> None:
    role = sys.argv[1] if len(sys.argv) > 1 else "grpc"
    settings = get_settings()
    setup_logging()
    setup_tracing("audit" if role == "grpc" else f"audit-{role}")
    from services.audit import bootstrap
    from services.audit.domain.errors import DocumentError, PolicyError
    from services.audit.domain.workflows import load_workflows

    if role not in ("grpc", "worker"):
        sys.exit("usage: python -m services.audit [grpc|worker]")
    try:
        workflows = load_workflows()
        policies = bootstrap.load_policies() if role == "grpc" else None
    except DocumentError as exc:
        kind = "policy" if isinstance(exc, PolicyError) else "workflow"
        logging.getLogger("services.audit").critical("cannot start: bad %s document: %s", kind, exc)
        sys.exit(1)
    if role == "worker":
        import faust

        # Faust replaces the logging set-up unless told not to; keep our JSON lines.
        worker = faust.Worker(bootstrap.build_worker(settings, workflows), loglevel="info", override_logging=False)
        worker.execute_from_commandline()
        return
    template = policies.template
    logging.getLogger("services.audit").info(
        "every tenant uses policy %s v%d (%s)", template.id, template.version, template.source
    )
    asyncio.run(bootstrap.run_grpc(settings, policies, workflows))


if __name__ == "__main__":
    main()
