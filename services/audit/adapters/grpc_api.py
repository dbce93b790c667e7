"""The AuditService gRPC endpoint: proto in, the domain decides, proto out.

Who asks — subject, tenant, roles — is the verified bearer token (`current_principal()`),
never the request. `Check` answers a denial with OK and `allowed = false`: it is a
question, and the service doing the write turns the denial into PERMISSION_DENIED
naming the rule. Every decision is appended to the audit intake before the answer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import uuid
from collections.abc import Mapping

import grpc
from aiokafka.errors import KafkaError
from redis.exceptions import RedisError

from dealpulse.audit.v1 import audit_service_pb2 as api
from dealpulse.audit.v1 import audit_service_pb2_grpc as api_grpc
from kernel.auth import Principal
from kernel.clock import Clock
from kernel.grpc_server import current_principal, status_for
from services.audit.adapters.anomaly_reports import AnomalyReports
from services.audit.adapters.approval_commands import ApprovalCommands, StillProcessing
from services.audit.adapters.approval_messages import VERDICT_FROM_PROTO, change_from_proto, request_to_proto
from services.audit.adapters.intake import AuditIntake
from services.audit.adapters.messages import json_value, moment, record_to_proto, source_from_proto
from services.audit.adapters.policy_book import TenantPolicies
from services.audit.adapters.store import AuditStore
from services.audit.domain import audit_log
from services.audit.domain.audit_log import AuditDraft, AuditQuery, PermissionDecision, Source
from services.audit.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidCommand,
    NotFound,
    PreconditionFailed,
    TooLarge,
)
from services.audit.domain.policies import OWNER_KEY, Decision
from services.audit.domain.roles import AUDITORS, VERIFIERS

log = logging.getLogger(__name__)
SERVICE_NAME = api.DESCRIPTOR.services_by_name["AuditService"].full_name

# Policies name entity types, fields and state keys with this alphabet (policies.py
# refuses anything else), so a name outside it can only be a caller's mistake.
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
MAX_FIELDS = 256
MAX_STATE_KEYS = 128
MAX_STATE_TEXT = 1024
MAX_REASON = 2000
DEFAULT_PAGE = 100
MAX_PAGE = 1000
MAX_EXPORT = 100_000

_STATUS: dict[type[DomainError], grpc.StatusCode] = {
    InvalidCommand: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    Conflict: grpc.StatusCode.ALREADY_EXISTS,
    PreconditionFailed: grpc.StatusCode.FAILED_PRECONDITION,
    Forbidden: grpc.StatusCode.PERMISSION_DENIED,
    TooLarge: grpc.StatusCode.RESOURCE_EXHAUSTED,
}
_PROBLEM_KIND = {kind: getattr(api, f"CHAIN_PROBLEM_KIND_{kind.name}") for kind in audit_log.ProblemKind}


class NotYetChained(Exception):
    """The entry is on the intake but the chain writer has not placed it in time."""


def grpc_method(*roles: str):
    """Run with the verified caller, after the role check; domain errors become gRPC
    status codes, an unreachable broker or store UNAVAILABLE."""

    def wrap(method):
        @functools.wraps(method)
        async def handler(self, request, context: grpc.aio.ServicerContext):
            principal = current_principal()
            try:
                if roles and not principal.has_any(*roles):
                    raise Forbidden(f"requires one of the roles {', '.join(sorted(roles))}")
                return await method(self, request, principal)
            except DomainError as exc:
                await context.abort(status_for(exc, _STATUS), str(exc))
            except _NotServed:
                await context.abort(grpc.StatusCode.UNIMPLEMENTED, "this server does not serve this RPC")
            except (NotYetChained, StillProcessing) as exc:
                await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, str(exc))
            except (RedisError, KafkaError) as exc:
                log.exception("%s failed on its store or broker", method.__name__)
                await context.abort(grpc.StatusCode.UNAVAILABLE, f"temporarily unavailable ({type(exc).__name__}); retry")

        return handler

    return wrap


class AuditApi(api_grpc.AuditServiceServicer):
    def __init__(
        self,
        policies: TenantPolicies,
        intake: AuditIntake,
        store: AuditStore,
        clock: Clock,
        *,
        approvals: ApprovalCommands | None = None,
        anomalies: AnomalyReports | None = None,
        wait_seconds: float = 10.0,
    ) -> None:
        # Without `approvals` / `anomalies` (servers built to test Check alone) those RPCs
        # answer UNIMPLEMENTED.
        self._anomalies = anomalies
        self._approvals = approvals
        self._policies = policies
        self._intake = intake
        self._store = store
        self._clock = clock
        self._wait = wait_seconds

    # --- permission decisions ------------------------------------------------------
    @grpc_method()
    async def Check(self, request: api.CheckRequest, principal: Principal) -> api.CheckResponse:
        entity_type, fields, state = _check_query(request)
        source = source_from_proto(request.source, default=Source.API)
        # One PolicySet for the whole request: every field is decided by the same version.
        policy_set = self._policies.for_tenant(principal.tenant)
        decided = [
            (name, policy_set.decide(principal.roles, entity_type, state, name, actor_id=principal.subject))
            for name in fields
        ]
        now = await self._clock.now()
        check_id = uuid.uuid4().hex
        drafts = [
            AuditDraft(
                tenant_id=principal.tenant,
                event_id=f"check:{check_id}:{index}",
                actor_id=principal.subject,
                actor_roles=tuple(sorted(principal.roles)),
                entity_type=entity_type,
                entity_id=request.entity_id,
                field=name,
                before=None,
                after=None,
                occurred_at=now,
                source=source,
                reason=decision.reason,
                decision=PermissionDecision(decision.allowed, decision.rule_id, decision.policy_id, decision.policy_version),
            )
            for index, (name, decision) in enumerate(decided)
        ]
        await self._intake.submit(drafts)
        return api.CheckResponse(
            allowed=all(d.allowed for _, d in decided),
            decisions=[_decision(name, d) for name, d in decided],
            tenant_id=principal.tenant,
            actor_id=principal.subject,
            audit_event_ids=[d.event_id for d in drafts],
        )

    # --- the audit log -------------------------------------------------------------
    @grpc_method()
    async def Record(self, request: api.RecordRequest, principal: Principal) -> api.RecordResponse:
        draft = AuditDraft(
            tenant_id=principal.tenant,
            event_id=_require_id(request.event_id, "event_id"),
            actor_id=principal.subject,
            actor_roles=tuple(sorted(principal.roles)),
            entity_type=_require_name(request.entity_type, "entity_type"),
            entity_id=_require_id(request.entity_id, "entity_id"),
            field=_require_name(request.field, "field") if request.field else "",
            before=json_value(request.before_json, "before_json"),
            after=json_value(request.after_json, "after_json"),
            occurred_at=moment(request.occurred_at) if request.HasField("occurred_at") else await self._clock.now(),
            source=source_from_proto(request.source, default=Source.API),
            reason=_require_reason(request.reason),
        )
        audit_log.validate_draft(draft)
        if not await self._store.chained(principal.tenant, [draft.event_id]):
            await self._intake.submit([draft])
        record = await self._wait_chained(principal.tenant, draft.event_id)
        if record.actor_id != principal.subject or record.entity_id != draft.entity_id or record.field != draft.field:
            raise Conflict(f"event {draft.event_id} is already recorded for another change")
        return api.RecordResponse(record=record_to_proto(record))

    async def _wait_chained(self, tenant: str, event_id: str) -> audit_log.AuditRecord:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait
        delay = 0.005
        while True:
            found = await self._store.chained(tenant, [event_id])
            if found:
                record = await self._store.record(tenant, found[event_id])
                if record is not None:
                    return record
            if loop.time() >= deadline:
                raise NotYetChained(f"event {event_id} is accepted but not chained yet; repeat the call with the same id")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    @grpc_method(*AUDITORS)
    async def QueryRecords(self, request: api.QueryRecordsRequest, principal: Principal) -> api.QueryRecordsResponse:
        query = _query(principal.tenant, request.filter)
        size = request.page_size or DEFAULT_PAGE
        if not 1 <= size <= MAX_PAGE:
            raise InvalidCommand("page_size", f"must be 1-{MAX_PAGE}")
        if request.after_sequence < 0:
            raise InvalidCommand("after_sequence", "must not be negative")
        found = await self._store.query(query, after_sequence=request.after_sequence, limit=size)
        return api.QueryRecordsResponse(
            records=[record_to_proto(r) for r in found],
            next_after_sequence=found[-1].sequence if len(found) == size else 0,
        )

    @grpc_method(*AUDITORS)
    async def ExportRecords(self, request: api.ExportRecordsRequest, principal: Principal) -> api.ExportRecordsResponse:
        query = _query(principal.tenant, request.filter)
        limit = request.max_records or MAX_EXPORT
        if not 1 <= limit <= MAX_EXPORT:
            raise InvalidCommand("max_records", f"must be 1-{MAX_EXPORT}")
        if request.format == api.EXPORT_FORMAT_CSV:
            render, content_type = audit_log.to_csv, "text/csv; charset=utf-8"
        elif request.format == api.EXPORT_FORMAT_JSON:
            render, content_type = audit_log.to_json, "application/json"
        else:
            raise InvalidCommand("format", "must be EXPORT_FORMAT_CSV or EXPORT_FORMAT_JSON")
        found = await self._store.query(query, limit=limit + 1)
        if len(found) > limit:
            raise TooLarge(f"more than {limit} records match; narrow the time range or the filter")
        return api.ExportRecordsResponse(
            content=render(found).encode("utf-8"), content_type=content_type, record_count=len(found)
        )

    @grpc_method(*VERIFIERS)
    async def VerifyChain(self, request: api.VerifyChainRequest, principal: Principal) -> api.VerifyChainResponse:
        head = await self._store.head(principal.tenant)
        records = [r async for r in self._store.records_in_order(principal.tenant, upto=head.sequence)]
        report = audit_log.verify(records, principal.tenant, anchor=head if head.sequence else None)
        reply = api.VerifyChainResponse(
            ok=report.ok, checked=report.checked, head_sequence=head.sequence, head_hash=head.hash
        )
        if report.problem is not None:
            reply.problem = _PROBLEM_KIND[report.problem.kind]
            reply.problem_sequence = report.problem.sequence
            reply.detail = report.problem.detail
        return reply


    # --- approvals ---------------------------------------------------------------------
    def _approval_commands(self) -> ApprovalCommands:
        if self._approvals is None:
            raise _NotServed()
        return self._approvals

    @grpc_method()
    async def SubmitApproval(self, request: api.SubmitApprovalRequest, principal: Principal) -> api.SubmitApprovalResponse:
        commands = self._approval_commands()
        if not request.workflow:
            raise InvalidCommand("workflow", "is required")
        if not request.HasField("change"):
            raise InvalidCommand("change", "is required: the entity, field and values the request changes")
        change = change_from_proto(request.change)
        _require_name(change.entity_type, "change.entity_type")
        _require_name(change.field, "change.field")
        _require_id(change.entity_id, "change.entity_id")
        submitted = await commands.submit(
            principal,
            request_id=_require_id(request.request_id, "request_id"),
            workflow=_require_name(request.workflow, "workflow"),
            change=change,
            reason=_require_reason(request.reason),
        )
        return api.SubmitApprovalResponse(request=request_to_proto(submitted))

    @grpc_method()
    async def DecideApproval(self, request: api.DecideApprovalRequest, principal: Principal) -> api.DecideApprovalResponse:
        commands = self._approval_commands()
        if request.verdict not in VERDICT_FROM_PROTO:
            raise InvalidCommand("verdict", "must be VERDICT_APPROVE or VERDICT_REJECT")
        decided = await commands.decide(
            principal,
            request_id=_require_id(request.request_id, "request_id"),
            step=_require_name(request.step, "step"),
            verdict=VERDICT_FROM_PROTO[request.verdict],
            reason=_require_reason(request.reason),
            decision_id=_require_id(request.decision_id, "decision_id"),
        )
        return api.DecideApprovalResponse(request=request_to_proto(decided))

    @grpc_method()
    async def GetApproval(self, request: api.GetApprovalRequest, principal: Principal) -> api.GetApprovalResponse:
        found = await self._approval_commands().get(principal, _require_id(request.request_id, "request_id"))
        return api.GetApprovalResponse(request=request_to_proto(found))

    @grpc_method()
    async def ListPendingApprovals(
        self, request: api.ListPendingApprovalsRequest, principal: Principal
    ) -> api.ListPendingApprovalsResponse:
        pending = await self._approval_commands().pending_for(principal)
        return api.ListPendingApprovalsResponse(requests=[request_to_proto(r) for r in pending])


    # --- anomaly reports -------------------------------------------------------------
    @grpc_method(*AUDITORS)
    async def GetAnomalyReport(self, request: api.GetAnomalyReportRequest, principal: Principal) -> api.GetAnomalyReportResponse:
        if self._anomalies is None:
            raise _NotServed()
        report, provisional = await self._anomalies.get(principal.tenant, request.week, await self._clock.now())
        return api.GetAnomalyReportResponse(report=report, provisional=provisional)


class _NotServed(Exception):
    """This server was built without the part the RPC needs (a Check-only test server)."""


def _require_id(value: str, name: str) -> str:
    if not _ID.match(value or ""):
        raise InvalidCommand(name, "must be 1-128 characters of letters, digits, '.', '_', ':' or '-'")
    return value


def _require_name(value: str, name: str) -> str:
    if not _NAME.match(value or ""):
        raise InvalidCommand(name, f"{value!r} must be lowercase letters, digits and '_' (1-64)")
    return value


def _require_reason(reason: str) -> str:
    if len(reason) > MAX_REASON:
        raise InvalidCommand("reason", f"must be at most {MAX_REASON} characters")
    return reason


def _query(tenant: str, where: api.RecordFilter) -> AuditQuery:
    if where.entity_id and not where.entity_type:
        raise InvalidCommand("filter.entity_type", "is required with filter.entity_id")
    for name in ("entity_type", "field"):
        value = getattr(where, name)
        if value:
            _require_name(value, f"filter.{name}")
    for name in ("entity_id", "actor_id"):
        value = getattr(where, name)
        if value:
            _require_id(value, f"filter.{name}")
    return AuditQuery(
        tenant_id=tenant,
        entity_type=where.entity_type or None,
        entity_id=where.entity_id or None,
        actor_id=where.actor_id or None,
        field=where.field or None,
        since=moment(where.since) if where.HasField("since") else None,
        until=moment(where.until) if where.HasField("until") else None,
    )


# --- proto → domain -------------------------------------------------------------------


def _check_query(request: api.CheckRequest) -> tuple[str, list[str], dict[str, str | int | bool]]:
    """Validate a CheckRequest; InvalidCommand names the request field that is wrong."""
    if not request.entity_type:
        raise InvalidCommand("entity_type", "is required")
    if not _NAME.match(request.entity_type):
        raise InvalidCommand("entity_type", f"{request.entity_type!r} must be lowercase letters, digits and '_' (1-64)")
    if not _ID.match(request.entity_id):
        raise InvalidCommand("entity_id", "must be 1-128 characters of letters, digits, '.', '_', ':' or '-'")
    fields = list(request.fields)
    if not fields:
        raise InvalidCommand("fields", "name at least one field the write sets")
    if len(fields) > MAX_FIELDS:
        raise InvalidCommand("fields", f"at most {MAX_FIELDS} fields per check, got {len(fields)}")
    seen: set[str] = set()
    for index, name in enumerate(fields):
        if not _NAME.match(name):
            raise InvalidCommand(f"fields[{index}]", f"{name!r} must be lowercase letters, digits and '_' (1-64)")
        if name in seen:
            raise InvalidCommand(f"fields[{index}]", f"{name!r} is listed twice")
        seen.add(name)
    return request.entity_type, fields, _record_state(request.record_state)


def _record_state(values: Mapping[str, api.StateValue]) -> dict[str, str | int | bool]:
    if len(values) > MAX_STATE_KEYS:
        raise InvalidCommand("record_state", f"at most {MAX_STATE_KEYS} keys, got {len(values)}")
    state: dict[str, str | int | bool] = {}
    for key in sorted(values):
        where = f"record_state[{key!r}]"
        if not _NAME.match(key):
            raise InvalidCommand(where, "keys must be lowercase letters, digits and '_' (1-64)")
        value = values[key]
        kind = value.WhichOneof("kind")
        if kind is None:
            raise InvalidCommand(where, "has no value: set string_value, int_value or bool_value")
        if key == OWNER_KEY and kind != "string_value":
            # The engine compares the owner with the token's subject, which is text: an
            # owner of another type would match nobody and lift owner-only deny rules.
            raise InvalidCommand(where, "the record's owner must be a string_value (a user id)")
        plain = getattr(value, kind)
        if kind == "string_value" and len(plain) > MAX_STATE_TEXT:
            raise InvalidCommand(where, f"must be at most {MAX_STATE_TEXT} characters")
        state[key] = plain
    return state


# --- domain → proto -------------------------------------------------------------------


def _decision(field: str, decision: Decision) -> api.FieldDecision:
    return api.FieldDecision(
        field=field,
        allowed=decision.allowed,
        rule_id=decision.rule_id,
        reason=decision.reason,
        policy_id=decision.policy_id,
        policy_version=decision.policy_version,
        approval_workflow=decision.approval_workflow,
    )
