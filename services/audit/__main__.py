"""`python -m services.audit`: the audit gRPC API on settings.grpc_port
(DEALPULSE_GRPC_PORT). A bad policy document stops start-up with its PolicyError."""

import asyncio
import logging
import sys

from kernel.config import get_settings
from kernel.telemetry import setup_logging, setup_tracing


def main() -> None:
    settings = get_settings()
    setup_logging()
    setup_tracing("audit")
    from services.audit import bootstrap
    from services.audit.domain.errors import PolicyError

    try:
        policies = bootstrap.load_policies()
    except PolicyError as exc:
        logging.getLogger("services.audit").critical("cannot start: bad policy document: %s", exc)
        sys.exit(1)
    template = policies.template
    logging.getLogger("services.audit").info(
        "every tenant uses policy %s v%d (%s)", template.id, template.version, template.source
    )
    asyncio.run(bootstrap.run_grpc(settings, policies))


if __name__ == "__main__":
    main()
