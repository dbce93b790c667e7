"""Composition root: loads the shipped policies and serves the audit gRPC API."""

from __future__ import annotations

from pathlib import Path

import grpc

from dealpulse.audit.v1 import audit_service_pb2_grpc
from kernel.config import Settings
from kernel.grpc_server import serve
from services.audit.adapters.grpc_api import SERVICE_NAME, AuditApi
from services.audit.adapters.policy_book import TenantPolicies
from services.audit.domain.errors import PolicyError
from services.audit.domain.policies import TEMPLATES_DIR, load_templates

# The shipped template every tenant is held to. Tenant-specific policies (documents that
# `extends` a template, published and activated per tenant) do not exist yet: until they
# do, every tenant uses this one, and each decision names it and its version.
ACTIVE_TEMPLATE = ("SEC-SALES-2026-01", 1)


def load_policies(directory: Path | str = TEMPLATES_DIR, active: tuple[str, int] = ACTIVE_TEMPLATE) -> TenantPolicies:
    """Load and validate every policy document in `directory` (all of them, so a broken
    file is found at start-up, not when a tenant first needs it). Raises PolicyError,
    naming the file, key path and problem, when a document is bad or the active template
    is missing."""
    templates = load_templates(directory)
    if active not in templates:
        known = ", ".join(f"{i} v{v}" for i, v in sorted(templates)) or "none"
        raise PolicyError(
            str(Path(directory) / f"{active[0]}.yaml"),
            "",
            f"the active template {active[0]} v{active[1]} is not shipped; shipped templates: {known}",
        )
    return TenantPolicies(templates[active])


def build_api(policies: TenantPolicies) -> AuditApi:
    return AuditApi(policies)


def register(api: AuditApi):
    """The `register` callback for `kernel.grpc_server.serve`."""

    def add(server: grpc.aio.Server) -> list[str]:
        audit_service_pb2_grpc.add_AuditServiceServicer_to_server(api, server)
        return [SERVICE_NAME]

    return add


async def run_grpc(settings: Settings, policies: TenantPolicies) -> None:
    """Serve until SIGTERM. `policies` are loaded by the caller before anything
    listens, so a bad policy file stops start-up and health never reports SERVING."""
    await serve(settings, register(build_api(policies)))
