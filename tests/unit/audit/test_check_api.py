"""AuditService.Check over real gRPC: an in-process `grpc.aio` server with the real
servicer, the shipped policy and the kernel's AuthInterceptor, called through the
generated stub with tokens minted by `kernel.auth.mint_token`. The caller's identity
comes from the token only; a denial is an OK answer naming the rule."""

from __future__ import annotations

from datetime import datetime, timezone
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
from aiokafka.errors import KafkaConnectionError
import pytest
import pytest_asyncio

from dealpulse.audit.v1 import audit_service_pb2 as pb
from dealpulse.audit.v1 import audit_service_pb2_grpc
from dealpulse.audit.v1 import events_pb2 as events_pb
from kernel.auth import TokenVerifier, mint_token
from kernel.config import Settings
from kernel.clock import FixedClock
from kernel.grpc_server import AuthInterceptor, bearer_metadata
from services.audit.domain.audit_log import AuditDraft, PermissionDecision, Source
from services.audit import bootstrap
from services.audit.adapters.policy_book import TenantPolicies
from services.audit.domain.errors import PolicyError

ROOT = Path(__file__).resolve().parents[3]
SECRET = "unit-test-secret-of-at-least-32-bytes"
TENANT = "acme"
SEC = ("SEC-SALES-2026-01", 1)
OPPORTUNITY = "opportunity"


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(environment="test", jwt_secret=SECRET)


@pytest.fixture(scope="module")
def shipped() -> TenantPolicies:
    return bootstrap.load_policies()


class RecordingIntake:
    """The audit intake, kept in memory: what Check appended, in order."""

    def __init__(self) -> None:
        self.drafts: list[AuditDraft] = []
        self.failing = False

    async def submit(self, drafts: list[AuditDraft]) -> None:
        if self.failing:
            raise KafkaConnectionError("broker away")
        self.drafts.extend(drafts)


NOW = datetime(2026, 3, 6, 9, 30, tzinfo=timezone.utc)


async def _start(
    settings: Settings, policies: TenantPolicies, intake: RecordingIntake | None = None
) -> tuple[grpc.aio.Server, int]:
    # Built like kernel.grpc_server.serve builds it (less tracing, which needs no test).
    server = grpc.aio.server(interceptors=[AuthInterceptor(TokenVerifier(settings))])
    api = bootstrap.build_api(policies, intake or RecordingIntake(), None, FixedClock(NOW))
    names = bootstrap.register(api)(server)
    assert names == ["dealpulse.audit.v1.AuditService"]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


@pytest.fixture
def intake() -> RecordingIntake:
    return RecordingIntake()


@pytest_asyncio.fixture
async def stub(settings, shipped, intake) -> AsyncIterator[audit_service_pb2_grpc.AuditServiceStub]:
    server, port = await _start(settings, shipped, intake)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield audit_service_pb2_grpc.AuditServiceStub(channel)
    await server.stop(None)


def token(settings: Settings, *roles: str, subject: str = "rep-1", tenant: str = TENANT) -> tuple:
    return bearer_metadata(mint_token(settings, subject=subject, tenant=tenant, roles=list(roles)))


def state(**facts: str | int | bool) -> dict[str, pb.StateValue]:
    def value(fact):
        if isinstance(fact, bool):
            return pb.StateValue(bool_value=fact)
        if isinstance(fact, int):
            return pb.StateValue(int_value=fact)
        return pb.StateValue(string_value=fact)

    return {key: value(fact) for key, fact in facts.items()}


def check(*fields: str, entity_type: str = OPPORTUNITY, entity_id: str = "opp-1", **facts) -> pb.CheckRequest:
    return pb.CheckRequest(
        entity_type=entity_type, entity_id=entity_id, fields=list(fields), record_state=state(**facts)
    )


async def _rejected(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


# --- decisions by the shipped policy ----------------------------------------------------


async def test_a_rep_editing_the_grade_of_a_closed_won_opportunity_is_denied_naming_rule_and_workflow(stub, settings):
    reply = await stub.Check(
        check("grade", stage="closed_won", owner_id="rep-1"), metadata=token(settings, "rep", subject="rep-1")
    )

    assert reply.allowed is False
    (decision,) = reply.decisions
    assert (decision.field, decision.allowed) == ("grade", False)
    assert decision.rule_id == "grade-locked-after-closed-won"
    assert decision.approval_workflow == "customer_grade_change"
    assert (decision.policy_id, decision.policy_version) == SEC
    assert "grade-locked-after-closed-won" in decision.reason and "SEC-SALES-2026-01 v1" in decision.reason


async def test_a_rep_edits_the_contact_phone_of_their_own_closed_won_opportunity(stub, settings):
    reply = await stub.Check(
        check("contact_phone", stage="closed_won", owner_id="rep-1"), metadata=token(settings, "rep", subject="rep-1")
    )

    assert reply.allowed is True
    (decision,) = reply.decisions
    assert (decision.allowed, decision.rule_id, decision.approval_workflow) == (
        True,
        "rep-edits-contact-of-own-closed-won",
        "",
    )
    assert (decision.policy_id, decision.policy_version) == SEC


async def test_ownership_is_the_tokens_subject_against_the_records_owner(stub, settings):
    reply = await stub.Check(
        check("contact_phone", stage="closed_won", owner_id="rep-1"), metadata=token(settings, "rep", subject="rep-2")
    )
    assert (reply.allowed, reply.decisions[0].rule_id) == (False, "default")
    assert reply.actor_id == "rep-2"


async def test_a_manager_edits_an_open_opportunity_before_close(stub, settings):
    reply = await stub.Check(
        check("grade", "amount_cents", "owner_id", stage="proposal", owner_id="rep-1"),
        metadata=token(settings, "manager", subject="ann"),
    )

    assert reply.allowed is True
    assert [(d.field, d.allowed, d.rule_id) for d in reply.decisions] == [
        ("grade", True, "overseers-edit-open-opportunities"),
        ("amount_cents", True, "overseers-edit-open-opportunities"),
        ("owner_id", True, "overseers-edit-open-opportunities"),
    ]


async def test_one_decision_per_field_in_request_order_and_one_denial_denies_the_write(stub, settings):
    reply = await stub.Check(
        check("contact_phone", "grade", "amount_cents", stage="closed_won", owner_id="rep-1"),
        metadata=token(settings, "rep", subject="rep-1"),
    )

    assert reply.allowed is False
    assert [(d.field, d.allowed, d.rule_id) for d in reply.decisions] == [
        ("contact_phone", True, "rep-edits-contact-of-own-closed-won"),
        ("grade", False, "grade-locked-after-closed-won"),
        ("amount_cents", False, "rep-contact-only-after-closed-won"),
    ]


async def test_the_decision_is_made_for_the_tokens_tenant_and_subject(stub, settings):
    reply = await stub.Check(
        check("grade", stage="proposal", owner_id="bob"),
        metadata=token(settings, "rep", subject="bob", tenant="globex"),
    )
    assert (reply.tenant_id, reply.actor_id) == ("globex", "bob")
    assert reply.allowed is True  # bob owns it: rep-edits-own-open-opportunity

    other = await stub.Check(
        check("grade", stage="proposal", owner_id="bob"), metadata=token(settings, "rep", subject="eve", tenant="acme")
    )
    assert (other.tenant_id, other.actor_id, other.allowed) == ("acme", "eve", False)


async def test_roles_come_from_the_token_only(stub, settings):
    request = check("owner_id", stage="proposal", owner_id="bob")
    as_rep = await stub.Check(request, metadata=token(settings, "rep", subject="bob"))
    as_manager = await stub.Check(request, metadata=token(settings, "manager", subject="bob"))
    assert (as_rep.allowed, as_manager.allowed) == (False, True)


async def test_a_missing_state_fact_fails_closed_naming_it(stub, settings):
    reply = await stub.Check(check("grade", owner_id="rep-1"), metadata=token(settings, "rep", subject="rep-1"))
    (decision,) = reply.decisions
    assert (decision.allowed, decision.rule_id) == (False, "missing-state")
    assert "'stage'" in decision.reason


async def test_an_entity_type_no_rule_covers_is_decided_by_the_policy_default(stub, settings):
    reply = await stub.Check(
        check("name", entity_type="invoice", stage="proposal"), metadata=token(settings, "admin", subject="root")
    )
    (decision,) = reply.decisions
    assert (decision.allowed, decision.rule_id) == (False, "default")
    assert "invoice.name" in decision.reason


# --- errors -------------------------------------------------------------------------


async def test_a_call_without_a_token_is_unauthenticated(stub):
    error = await _rejected(stub.Check(check("grade", stage="closed_won", owner_id="rep-1")))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "missing bearer token" in error.details()


async def test_a_token_signed_with_another_key_is_unauthenticated(stub):
    forged = Settings(environment="test", jwt_secret="another-secret-of-at-least-32-bytes!!")
    error = await _rejected(stub.Check(check("grade", stage="proposal"), metadata=token(forged, "admin")))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize(
    ("request_", "names"),
    [
        (check(), "fields: name at least one field"),
        (check("grade", entity_type=""), "entity_type: is required"),
        (check("grade", entity_type="Opportunity"), "entity_type: 'Opportunity' must be lowercase"),
        (check("grade", entity_id=""), "entity_id: must be 1-128"),
        (check("grade", "contact_phone", "grade"), "fields[2]: 'grade' is listed twice"),
        (check("grade", ""), "fields[1]: '' must be lowercase"),
        (check("grade", **{"Stage": "proposal"}), "record_state['Stage']: keys must be lowercase"),
        (check("grade", owner_id=17), "record_state['owner_id']: the record's owner must be a string_value"),
        (
            pb.CheckRequest(
                entity_type=OPPORTUNITY, entity_id="opp-1", fields=["grade"], record_state={"stage": pb.StateValue()}
            ),
            "record_state['stage']: has no value",
        ),
        (check(*(f"f{i}" for i in range(257))), "fields: at most 256 fields per check, got 257"),
    ],
    ids=["no-fields", "no-entity-type", "bad-entity-type", "no-entity-id", "repeated-field", "empty-field",
         "bad-state-key", "owner-not-text", "unset-state-value", "too-many-fields"],
)
async def test_an_invalid_request_is_invalid_argument_naming_what_is_wrong(stub, settings, request_, names):
    error = await _rejected(stub.Check(request_, metadata=token(settings, "rep")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(names)


# --- typed record state ---------------------------------------------------------------

TYPED_POLICY = """
id: TEST-TYPED
version: 3
description: conditions on an integer and a boolean
default: allow
rules:
  - id: key-accounts-locked
    description: a key account's discount is set by finance
    entity: opportunity
    when:
      key_account: {in: [true]}
    roles: [rep]
    fields: [discount]
    effect: deny
  - id: big-deals-locked
    description: priority 1 deals change only through an approval
    entity: opportunity
    when:
      priority: {in: [1]}
    roles: [rep]
    fields: [amount_cents]
    effect: deny
    via_approval: customer_grade_change
"""


async def test_state_values_keep_their_type_so_integer_and_boolean_conditions_hold(settings, tmp_path):
    (tmp_path / "TEST-TYPED.yaml").write_text(TYPED_POLICY)
    server, port = await _start(settings, bootstrap.load_policies(tmp_path, ("TEST-TYPED", 3)))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = audit_service_pb2_grpc.AuditServiceStub(channel)
            rep = token(settings, "rep")
            locked = await stub.Check(check("discount", "amount_cents", key_account=True, priority=1), metadata=rep)
            free = await stub.Check(check("discount", "amount_cents", key_account=False, priority=2), metadata=rep)
    finally:
        await server.stop(None)

    assert [(d.rule_id, d.policy_id, d.policy_version) for d in locked.decisions] == [
        ("key-accounts-locked", "TEST-TYPED", 3),
        ("big-deals-locked", "TEST-TYPED", 3),
    ]
    assert locked.decisions[1].approval_workflow == "customer_grade_change"
    assert (free.allowed, [d.rule_id for d in free.decisions]) == (True, ["default", "default"])


# --- start-up -------------------------------------------------------------------------


def test_start_up_loads_the_shipped_template_for_every_tenant(shipped):
    assert (shipped.template.id, shipped.template.version) == SEC
    acme, globex = shipped.for_tenant("acme"), shipped.for_tenant("globex")
    assert (acme.tenant_id, acme.active, globex.tenant_id, globex.active) == ("acme", SEC, "globex", SEC)
    assert shipped.for_tenant("acme") is acme


def test_a_bad_policy_file_stops_start_up_naming_file_key_and_problem(tmp_path):
    shipped_text = (ROOT / "services/audit/policies/SEC-SALES-2026-01.yaml").read_text()
    (tmp_path / "SEC-SALES-2026-01.yaml").write_text(shipped_text.replace("effect: deny", "effect: refuse", 1))
    with pytest.raises(PolicyError) as caught:
        bootstrap.load_policies(tmp_path)
    assert "SEC-SALES-2026-01.yaml" in str(caught.value) and "rules[0].effect" in str(caught.value)
    assert "must be one of allow, deny" in str(caught.value)


def test_a_missing_active_template_stops_start_up(tmp_path):
    (tmp_path / "TEST-TYPED.yaml").write_text(TYPED_POLICY)
    with pytest.raises(PolicyError) as caught:
        bootstrap.load_policies(tmp_path)
    assert "the active template SEC-SALES-2026-01 v1 is not shipped; shipped templates: TEST-TYPED v3" in str(
        caught.value
    )


def _environment(**extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'gen' / 'python'}",
        "DEALPULSE_ENVIRONMENT": "test",
        "DEALPULSE_JWT_SECRET": SECRET,
        **extra,
    }
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    return env


def test_python_m_services_audit_exits_with_the_policy_error_when_a_policy_file_is_bad(tmp_path):
    shipped_text = (ROOT / "services/audit/policies/SEC-SALES-2026-01.yaml").read_text()
    (tmp_path / "SEC-SALES-2026-01.yaml").write_text(shipped_text.replace("roles: [rep]", "roles: [rep, intern]", 1))
    # The module reads its policies from TEMPLATES_DIR; point it at the broken copy.
    script = (
        "import runpy, sys; from pathlib import Path; import services.audit.domain.policies as policies; "
        "policies.TEMPLATES_DIR = Path(sys.argv.pop(1)); runpy.run_module('services.audit', run_name='__main__')"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=ROOT,
        env=_environment(DEALPULSE_GRPC_PORT=str(_free_port())),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 1
    assert "cannot start: bad policy document" in finished.stderr
    assert "SEC-SALES-2026-01.yaml:" in finished.stderr and "unknown role 'intern'" in finished.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- every decision is audited ----------------------------------------------------------


async def test_every_decision_is_appended_to_the_audit_intake_one_entry_per_field(stub, settings, intake):
    reply = await stub.Check(
        pb.CheckRequest(
            entity_type=OPPORTUNITY,
            entity_id="opp-9",
            fields=["grade", "contact_phone"],
            record_state=state(stage="closed_won", owner_id="rep-1"),
            source=events_pb.SOURCE_WEBHOOK,
        ),
        metadata=token(settings, "rep", subject="rep-1"),
    )
    assert [d.allowed for d in reply.decisions] == [False, True]
    assert [d.event_id for d in intake.drafts] == list(reply.audit_event_ids)
    denial, allowed = intake.drafts
    assert (denial.tenant_id, denial.actor_id, denial.actor_roles) == (TENANT, "rep-1", ("rep",))
    assert (denial.entity_type, denial.entity_id, denial.field) == (OPPORTUNITY, "opp-9", "grade")
    assert denial.decision == PermissionDecision(False, "grade-locked-after-closed-won", *SEC)
    assert "grade-locked-after-closed-won" in denial.reason
    assert (denial.source, denial.occurred_at) == (Source.WEBHOOK, NOW)
    assert allowed.field == "contact_phone" and allowed.decision.allowed


async def test_a_decision_that_cannot_be_audited_is_not_answered(stub, settings, intake):
    intake.failing = True
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await stub.Check(check("grade", stage="proposal", owner_id="rep-1"), metadata=token(settings, "rep"))
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_malformed_check_is_refused_before_anything_is_audited(stub, settings, intake):
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.Check(check("Grade", stage="proposal"), metadata=token(settings, "rep"))
    assert intake.drafts == []
