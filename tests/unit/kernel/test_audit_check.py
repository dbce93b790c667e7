"""kernel.audit_check against the real AuditService servicer in-process: the caller's
token is forwarded (the decision is the user's, and audited as theirs), a denial
becomes PolicyDenied naming rule, reason and workflow, an unreachable audit service
AuditUnavailable."""

from __future__ import annotations

import socket
from datetime import datetime, timezone

import grpc
import pytest
import pytest_asyncio

from kernel.audit_check import AuditCheck, AuditUnavailable, PolicyDenied
from kernel.auth import TokenVerifier, mint_token
from kernel.clock import FixedClock
from kernel.config import Settings
from kernel.grpc_server import AuthInterceptor
from services.audit import bootstrap

SECRET = "unit-test-secret-of-at-least-32-bytes"


class RecordingIntake:
    def __init__(self) -> None:
        self.drafts = []

    async def submit(self, drafts) -> None:
        self.drafts.extend(drafts)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(environment="test", jwt_secret=SECRET)


@pytest_asyncio.fixture
async def audit(settings):
    intake = RecordingIntake()
    server = grpc.aio.server(interceptors=[AuthInterceptor(TokenVerifier(settings))])
    api = bootstrap.build_api(bootstrap.load_policies(), intake, None, FixedClock(datetime(2026, 3, 6, tzinfo=timezone.utc)))
    bootstrap.register(api)(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    client = AuditCheck(f"127.0.0.1:{port}")
    yield client, intake
    await client.close()
    await server.stop(None)


def rep_token(settings: Settings, subject: str = "bob") -> str:
    return mint_token(settings, subject=subject, tenant="acme", roles=["rep"])


async def test_an_allowed_write_returns_the_decision_made_and_audited_for_the_tokens_user(audit, settings):
    client, intake = audit
    reply = await client.require(
        rep_token(settings),
        entity_type="opportunity",
        entity_id="opp-1",
        fields=["contact_phone"],
        record_state={"stage": "closed_won", "owner_id": "bob"},
    )
    assert reply.allowed and reply.actor_id == "bob"
    assert [(d.actor_id, d.field, d.decision.allowed) for d in intake.drafts] == [("bob", "contact_phone", True)]


async def test_a_denial_names_the_field_rule_reason_and_approval_workflow(audit, settings):
    client, intake = audit
    with pytest.raises(PolicyDenied) as denied:
        await client.require(
            rep_token(settings),
            entity_type="opportunity",
            entity_id="opp-1",
            fields=["contact_phone", "grade"],
            record_state={"stage": "closed_won", "owner_id": "bob"},
            source="webhook",
        )
    assert denied.value.rule_id == "grade-locked-after-closed-won"
    assert denied.value.approval_workflow == "customer_grade_change"
    assert str(denied.value).startswith("grade: denied by rule grade-locked-after-closed-won (")
    assert "customer_grade_change approval" in str(denied.value)
    assert [d.field for d in denied.value.denials] == ["grade"]
    # The denial itself is audited.
    assert [(d.field, d.decision.allowed, d.source.value) for d in intake.drafts] == [
        ("contact_phone", True, "webhook"),
        ("grade", False, "webhook"),
    ]


async def test_state_facts_keep_their_type_and_other_types_are_refused(audit, settings):
    client, _ = audit
    with pytest.raises(TypeError, match="record_state\\['amount'\\]"):
        await client.require(
            rep_token(settings), entity_type="opportunity", entity_id="o", fields=["grade"], record_state={"amount": 1.5}
        )


async def test_an_unreachable_audit_service_is_audit_unavailable(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = AuditCheck(f"127.0.0.1:{port}", timeout_seconds=0.5)
    try:
        with pytest.raises(AuditUnavailable):
            await client.require(
                rep_token(settings), entity_type="opportunity", entity_id="o", fields=["grade"], record_state={}
            )
    finally:
        await client.close()
