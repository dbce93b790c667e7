"""The ActionsService gRPC endpoint: validate, append the event, wait until the
projection shows it (read-your-own-write), answer from the projection."""

from __future__ import annotations

import functools
import logging
from datetime import timedelta

import grpc
import yaml
from aiokafka.errors import KafkaError
from google.protobuf import any_pb2, json_format
from google.rpc import error_details_pb2, status_pb2
from redis.exceptions import RedisError

from dealpulse.actions.v1 import actions_service_pb2 as api
from dealpulse.actions.v1 import actions_service_pb2_grpc as api_grpc
from dealpulse.actions.v1 import events_pb2 as events
from dealpulse.audit.v1 import events_pb2 as audit_events
from kernel.audit_approvals import ApprovalRefused, AuditApprovals
from kernel.audit_check import AuditCheck, AuditUnavailable, PolicyDenied
from kernel.auth import MANAGING_ROLES, SELLING_ROLES, Principal
from kernel.clock import Clock
from kernel.grpc_server import current_principal, current_token, status_for
from kernel.kafka import EventPublisher
from kernel.envelope import deterministic_event_id
from kernel.topics import ACCOUNT, OPPORTUNITY, POLICY, REP, TEMPLATE, TopicSpec
from services.actions.adapters.messages import (
    POLICY_SETTINGS,
    action_recorded,
    action_to_proto,
    kind_from_proto,
    kind_to_proto,
    moment,
    opportunity_to_proto,
    policy_to_proto,
    policy_update,
    submission_event,
    submission_mapping,
    timestamp,
)
from services.actions.adapters.account_messages import (
    account_from_record,
    account_to_proto,
    changes_from_request,
    contact_from_proto,
    contact_to_event,
    updated_event,
)
from services.actions.adapters.template_library import TemplateLibrary, template_entity_name
from services.actions.adapters.read_models import ActionsReadModel, Position
from services.actions.domain import commands
from services.actions.domain.accounts import (
    MARKETING_CONTACT_FIELD,
    AccountState,
    record_state as account_record_state,
    requested_grade,
    validate_changes as validate_account_changes,
    validate_marketing_contact,
)
from services.actions.domain.errors import (
    AlreadyExists,
    DomainError,
    Forbidden,
    InvalidCommand,
    NotFound,
    PreconditionFailed,
)
from services.actions.domain.evidence import ActionKind, Evidence, Verdict, verify
from services.actions.domain.opportunity import OpportunityState, validate_alert_command
from services.actions.domain.templates import (
    GateBlocked,
    Submission,
    Template,
    TemplateRef,
    best_verdicts,
    copy_for_tenant,
    dump_template,
    load_template,
    missing_for_advance,
)
from services.actions.domain.pipeline import DEFAULT_STAGES
from services.actions.domain.policy import ProcessPolicy
from services.actions.domain.visibility import may_see_alert, may_see_todo

log = logging.getLogger(__name__)
SELLERS = tuple(sorted(SELLING_ROLES))
MANAGERS = tuple(sorted(MANAGING_ROLES))

_STATUS = {
    InvalidCommand: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    PreconditionFailed: grpc.StatusCode.FAILED_PRECONDITION,
    Forbidden: grpc.StatusCode.PERMISSION_DENIED,
}


def grpc_method(*roles: str):
    """Authorise by role, then run; domain errors become gRPC status codes."""

    def wrap(method):
        @functools.wraps(method)
        async def handler(self, request, context: grpc.aio.ServicerContext):
            principal = current_principal()
            try:
                if roles and not principal.has_any(*roles):
                    raise Forbidden(f"requires one of the roles {', '.join(roles)}")
                return await method(self, request, principal)
            except GateBlocked as exc:
                await context.abort(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    str(exc),
                    trailing_metadata=((STATUS_DETAILS_KEY, _gate_status(exc).SerializeToString()),),
                )
            except DomainError as exc:
                await context.abort(status_for(exc, _STATUS), str(exc))
            except PolicyDenied as exc:
                await context.abort(
                    grpc.StatusCode.PERMISSION_DENIED,
                    str(exc),
                    trailing_metadata=((STATUS_DETAILS_KEY, _denial_status(exc).SerializeToString()),),
                )
            except AuditUnavailable as exc:
                log.warning("%s refused: %s", method.__name__, exc)
                await context.abort(grpc.StatusCode.UNAVAILABLE, f"the audit service could not decide ({exc}); retry")
            except ApprovalRefused as exc:
                await context.abort(exc.code, f"the approval was not submitted: {exc}")
            except ProjectionLag as exc:
                await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, str(exc))
            except (RedisError, KafkaError) as exc:
                log.exception("%s failed on its store or broker", method.__name__)
                await context.abort(grpc.StatusCode.UNAVAILABLE, f"temporarily unavailable ({type(exc).__name__}); retry")

        return handler

    return wrap


STATUS_DETAILS_KEY = "grpc-status-details-bin"
POLICY_DOMAIN = "audit.dealpulse"
OVERRIDE_WORKFLOW = "stage_gate_override"
GRADE_WORKFLOW = "customer_grade_change"
# What opening an opportunity sets (what Check decides).
OPEN_FIELDS = ("account_id", "name", "owner_id", "stage", "amount_cents", "currency", "template_id")
MIN_SNOOZE = timedelta(minutes=15)
MAX_SNOOZE = timedelta(days=30)


def _gate_status(exc: GateBlocked) -> status_pb2.Status:
    """The standard rich error: one PreconditionFailure violation per missing action."""
    failure = error_details_pb2.PreconditionFailure(
        violations=[
            error_details_pb2.PreconditionFailure.Violation(
                type="MISSING_ACTION", subject=m.action_id, description=f"{m.name.en}: {'; '.join(m.why)}"
            )
            for m in exc.missing
        ]
    )
    detail = any_pb2.Any()
    detail.Pack(failure)
    return status_pb2.Status(code=grpc.StatusCode.FAILED_PRECONDITION.value[0], message=str(exc), details=[detail])


def _denial_status(exc: PolicyDenied) -> status_pb2.Status:
    """The standard rich error: one ErrorInfo per denied field, naming the rule, the
    policy and the approval workflow to use instead (the gateway shows them)."""
    details = []
    for denial in exc.denials:
        info = error_details_pb2.ErrorInfo(
            reason="POLICY_DENIED",
            domain=POLICY_DOMAIN,
            metadata={
                "field": denial.field,
                "rule_id": denial.rule_id,
                "policy_id": denial.policy_id,
                "policy_version": str(denial.policy_version),
                "approval_workflow": denial.approval_workflow,
            },
        )
        detail = any_pb2.Any()
        detail.Pack(info)
        details.append(detail)
    return status_pb2.Status(code=grpc.StatusCode.PERMISSION_DENIED.value[0], message=str(exc), details=details)


class ProjectionLag(Exception):
    """The event is appended but the projection did not show it in time."""


class ActionsApi(api_grpc.ActionsServiceServicer):
    def __init__(
        self,
        read_model: ActionsReadModel,
        publisher: EventPublisher,
        clock: Clock,
        wait_seconds: float,
        audit: AuditCheck,
        approvals: AuditApprovals,
        templates: TemplateLibrary | None = None,
    ) -> None:
        self._audit = audit
        self._approvals = approvals
        self._templates = templates or TemplateLibrary(read_model)
        self._read_model = read_model
        self._publisher = publisher
        self._clock = clock
        self._wait = wait_seconds

    async def _append(self, spec: TopicSpec, payload, *, key: str, tenant: str) -> Position:
        _, partition, offset = await self._publisher.publish(
            spec, payload, key=key, tenant_id=tenant, event_time=moment(payload.occurred_at)
        )
        return Position(partition, offset)

    async def _check(
        self, entity_type: str, entity_id: str, fields, record_state: dict, *, source: str = "api"
    ) -> None:
        """Ask audit Check for the caller before appending; raises PolicyDenied or
        AuditUnavailable, and the command appends nothing."""
        await self._audit.require(
            current_token(),
            entity_type=entity_type,
            entity_id=entity_id,
            fields=list(fields),
            record_state=record_state,
            source=source,
        )

    async def _check_opportunity(self, state: OpportunityState, fields) -> None:
        await self._check(
            "opportunity",
            state.opportunity_id,
            fields,
            {"exists": True, "owner_id": state.owner_id, "stage": state.stage},
        )

    async def _stall_threshold_seconds(self, principal: Principal, stage: str) -> int:
        """The threshold an event arms for `stage`: the stage's own, else the tenant's."""
        policy = await self._read_model.policy(principal.tenant)
        return int(policy.stall_threshold_for(stage).total_seconds())

    async def _view(self, state: OpportunityState) -> api.Opportunity:
        return opportunity_to_proto(state, await self._read_model.actions(state.tenant_id, state.opportunity_id))

    async def _opportunity(self, principal: Principal, opportunity_id: str) -> OpportunityState:
        """The caller's opportunity: a rep works on the ones they own, managers on all
        of their tenant's (a rep resetting a colleague's stall timer defeats it)."""
        commands.require_id(opportunity_id, "opportunity_id")
        found = await self._read_model.opportunity(principal.tenant, opportunity_id)
        if found is None:
            raise NotFound(f"opportunity {opportunity_id} not found")
        _require_owner_or_manager(principal, found[0].owner_id, f"opportunity {opportunity_id}")
        return found[0]

    async def _visible(self, principal: Principal, opportunity_id: str, at: Position) -> OpportunityState:
        state = await self._read_model.wait_for_opportunity(principal.tenant, opportunity_id, at, self._wait)
        if state is None:
            raise ProjectionLag(f"opportunity {opportunity_id} was updated but is not readable yet; retry the read")
        return state

    async def _entity_visible(self, principal: Principal, kind: str, entity_id: str, at: Position) -> dict:
        entity = await self._read_model.wait_for_entity(principal.tenant, kind, entity_id, at, self._wait)
        if entity is None:
            raise ProjectionLag(f"{kind} {entity_id} was updated but is not readable yet; retry the read")
        return entity

    # Accounts ------------------------------------------------------------------
    async def _account(self, principal: Principal, account_id: str) -> AccountState:
        commands.require_id(account_id, "account_id")
        found = await self._read_model.entity(principal.tenant, "account", account_id)
        if found is None:
            raise NotFound(f"account {account_id} not found")
        return account_from_record(found[0])

    async def _account_view(self, account: AccountState) -> api.Account:
        return account_to_proto(account, await self._read_model.won_opportunities(account.tenant_id, account.account_id))

    async def _account_state_for_check(self, account: AccountState) -> dict:
        won = await self._read_model.won_opportunities(account.tenant_id, account.account_id)
        return account_record_state(account, customer_won=bool(won))

    async def _append_account(self, principal: Principal, account_id: str, **change) -> AccountState:
        event = events.AccountEvent(
            tenant_id=principal.tenant,
            account_id=account_id,
            actor_id=principal.subject,
            occurred_at=timestamp(await self._clock.now()),
            **change,
        )
        at = await self._append(ACCOUNT, event, key=f"{principal.tenant}/{account_id}", tenant=principal.tenant)
        return account_from_record(await self._entity_visible(principal, "account", account_id, at))

    @grpc_method(*SELLERS)
    async def CreateAccount(self, request: api.CreateAccountRequest, principal: Principal):
        commands.require_id(request.account_id, "account_id")
        name = commands.require_text(request.name, "name")
        owner_id = commands.require_id(request.owner_id or principal.subject, "owner_id")
        _require_owner_or_manager(principal, owner_id, f"an account owned by {owner_id}")
        details = (name, request.industry, owner_id)
        existing = await self._read_model.entity(principal.tenant, "account", request.account_id)
        if existing:
            account = account_from_record(existing[0])
            if (account.name, account.industry, account.owner_id) != details:
                raise AlreadyExists(f"account {request.account_id} already exists with other details")
            return api.CreateAccountResponse(account=await self._account_view(account))
        await self._check(
            "account",
            request.account_id,
            ("name", "industry", "owner_id"),
            account_record_state(None, customer_won=False, owner_id=owner_id),
        )
        account = await self._append_account(
            principal,
            request.account_id,
            created=events.AccountCreated(name=name, industry=request.industry, owner_id=owner_id),
        )
        if (account.name, account.industry, account.owner_id) != details:
            raise AlreadyExists(f"account {request.account_id} was created concurrently with other details")
        return api.CreateAccountResponse(account=await self._account_view(account))

    @grpc_method()
    async def GetAccount(self, request: api.GetAccountRequest, principal: Principal):
        return api.GetAccountResponse(account=await self._account_view(await self._account(principal, request.account_id)))

    @grpc_method(*SELLERS)
    async def UpdateAccount(self, request: api.UpdateAccountRequest, principal: Principal):
        account = await self._account(principal, request.account_id)
        changes = validate_account_changes(account, changes_from_request(request))
        if not changes:
            return api.UpdateAccountResponse(account=await self._account_view(account))
        await self._check("account", account.account_id, changes, await self._account_state_for_check(account))
        updated = await self._append_account(principal, account.account_id, updated=updated_event(changes))
        return api.UpdateAccountResponse(account=await self._account_view(updated))

    @grpc_method(*SELLERS)
    async def SetMarketingContact(self, request: api.SetMarketingContactRequest, principal: Principal):
        account = await self._account(principal, request.account_id)
        contact = validate_marketing_contact(contact_from_proto(request.marketing_contact))
        if contact == account.marketing_contact:
            return api.SetMarketingContactResponse(account=await self._account_view(account))
        await self._check(
            "account", account.account_id, (MARKETING_CONTACT_FIELD,), await self._account_state_for_check(account)
        )
        updated = await self._append_account(principal, account.account_id, marketing_contact_set=contact_to_event(contact))
        return api.SetMarketingContactResponse(account=await self._account_view(updated))

    @grpc_method(*SELLERS)
    async def RequestGradeChange(self, request: api.RequestGradeChangeRequest, principal: Principal):
        """Submitted for the caller (the audit workflow checks who may submit); applied
        by the worker when audit.approval.completed.v1 says it was approved."""
        account = await self._account(principal, request.account_id)
        _require_owner_or_manager(principal, account.owner_id, f"account {account.account_id}")
        grade = requested_grade(account, request.grade)
        reason = commands.require_text(request.reason, "reason", max_length=2000)
        # The same ask on the same version of the account is the same request, so a
        # retry after a timeout does not open a second one.
        request_id = "grade-" + deterministic_event_id(
            GRADE_WORKFLOW, principal.tenant, account.account_id, str(account.version), account.grade, grade
        )
        submitted = await self._approvals.submit(
            current_token(),
            request_id=request_id,
            workflow=GRADE_WORKFLOW,
            entity_type="account",
            entity_id=account.account_id,
            field="grade",
            before=account.grade or None,
            after=grade,
            reason=reason,
        )
        return api.RequestGradeChangeResponse(
            request=api.GradeChangeRequest(
                request_id=submitted.request_id,
                workflow=submitted.workflow,
                account_id=account.account_id,
                from_grade=account.grade,
                to_grade=grade,
                submitted_by=submitted.submitted_by or principal.subject,
                status=audit_events.ApprovalStatus.Name(submitted.status).removeprefix("APPROVAL_STATUS_").lower(),
            ),
            account=await self._account_view(account),
        )

    # Reps and policy -------------------------------------------------------------
    @grpc_method(*MANAGERS)
    async def RegisterRep(self, request: api.RegisterRepRequest, principal: Principal):
        commands.require_id(request.rep_id, "rep_id")
        display_name = commands.require_text(request.display_name, "display_name")
        if request.manager_id:
            commands.require_id(request.manager_id, "manager_id")
            if request.manager_id == request.rep_id:
                raise InvalidCommand("manager_id", "a rep cannot manage themselves")
        existing = await self._read_model.entity(principal.tenant, "rep", request.rep_id)
        await self._check("rep", request.rep_id, ("display_name", "manager_id"), {"exists": existing is not None})
        event = events.RepEvent(
            tenant_id=principal.tenant,
            rep_id=request.rep_id,
            actor_id=principal.subject,
            occurred_at=timestamp(await self._clock.now()),
            registered=events.RepRegistered(display_name=display_name, manager_id=request.manager_id),
        )
        at = await self._append(REP, event, key=f"{principal.tenant}/{request.rep_id}", tenant=principal.tenant)
        rep = await self._entity_visible(principal, "rep", request.rep_id, at)
        return api.RegisterRepResponse(rep=api.Rep(**rep))

    async def _publish_policy(self, principal: Principal, current: ProcessPolicy, policy: ProcessPolicy) -> None:
        before, after = policy_to_proto(current), policy_to_proto(policy)
        changed = [name for name in POLICY_SETTINGS if getattr(before, name) != getattr(after, name)]
        if not changed:
            return
        await self._check("tenant_policy", "process", changed, {"exists": True})
        event = events.TenantPolicyEvent(
            tenant_id=principal.tenant,
            actor_id=principal.subject,
            occurred_at=timestamp(await self._clock.now()),
            stall=_stall_policy(policy),
            policy=policy_to_proto(policy),
        )
        at = await self._append(POLICY, event, key=principal.tenant, tenant=principal.tenant)
        await self._entity_visible(principal, "policy", "process", at)

    @grpc_method(*MANAGERS)
    async def SetStallPolicy(self, request: api.SetStallPolicyRequest, principal: Principal):
        current = await self._read_model.policy(principal.tenant)
        updated = current.with_stall_threshold(timedelta(seconds=request.stall.threshold_seconds))
        await self._publish_policy(principal, current, updated)
        return api.SetStallPolicyResponse(stall=_stall_policy(updated))

    @grpc_method()
    async def GetStallPolicy(self, request: api.GetStallPolicyRequest, principal: Principal):
        policy = await self._read_model.policy(principal.tenant)
        return api.GetStallPolicyResponse(stall=_stall_policy(policy))

    @grpc_method(*MANAGERS)
    async def UpdateTenantPolicy(self, request: api.UpdateTenantPolicyRequest, principal: Principal):
        current = await self._read_model.policy(principal.tenant)
        updated = policy_update(current, request.policy, list(request.update_mask.paths))
        await self._publish_policy(principal, current, updated)
        return api.UpdateTenantPolicyResponse(policy=policy_to_proto(updated))

    @grpc_method()
    async def GetTenantPolicy(self, request: api.GetTenantPolicyRequest, principal: Principal):
        policy = await self._read_model.policy(principal.tenant)
        return api.GetTenantPolicyResponse(policy=policy_to_proto(policy))

    # Opportunities -------------------------------------------------------------
    @grpc_method(*SELLERS)
    async def OpenOpportunity(self, request: api.OpenOpportunityRequest, principal: Principal):
        template = None
        if request.template_id:
            commands.require_id(request.template_id, "template_id")
            template = (await self._templates.catalogue(principal.tenant)).latest(
                request.template_id, tenant_id=principal.tenant
            )
        command = commands.OpenOpportunity(
            opportunity_id=request.opportunity_id,
            account_id=request.account_id,
            name=request.name,
            owner_id=request.owner_id or principal.subject,
            stage=request.stage or (template.first_stage.id if template else DEFAULT_STAGES[0]),
            amount_cents=request.amount_cents,
            currency=request.currency,
            stages=template.stage_ids if template else DEFAULT_STAGES,
        )
        _require_owner_or_manager(principal, command.owner_id, f"an opportunity owned by {command.owner_id}")
        existing = await self._read_model.opportunity(principal.tenant, request.opportunity_id) if request.opportunity_id else None
        account = await self._read_model.entity(principal.tenant, "account", request.account_id) if request.account_id else None
        if not commands.validate_open(command, existing[0] if existing else None, account is not None):
            return api.OpenOpportunityResponse(opportunity=await self._view(existing[0]))
        await self._check(
            "opportunity",
            command.opportunity_id,
            OPEN_FIELDS,
            {"exists": False, "owner_id": command.owner_id, "stage": command.stage},
        )
        event = events.OpportunityEvent(
            tenant_id=principal.tenant,
            opportunity_id=command.opportunity_id,
            actor_id=principal.subject,
            occurred_at=timestamp(await self._clock.now()),
            stall_threshold_seconds=await self._stall_threshold_seconds(principal, command.stage),
            opened=events.OpportunityOpened(
                account_id=command.account_id,
                name=command.name.strip(),
                owner_id=command.owner_id,
                stage=command.stage,
                amount_cents=command.amount_cents,
                currency=command.currency,
                template_id=template.id if template else "",
                template_version=template.version if template else 0,
            ),
        )
        key = f"{principal.tenant}/{command.opportunity_id}"
        at = await self._append(OPPORTUNITY, event, key=key, tenant=principal.tenant)
        state = await self._visible(principal, command.opportunity_id, at)
        commands.validate_open(command, state, account_exists=True)  # a racing open with other details wins
        return api.OpenOpportunityResponse(opportunity=await self._view(state))

    @grpc_method()
    async def GetOpportunity(self, request: api.GetOpportunityRequest, principal: Principal):
        state = await self._opportunity(principal, request.opportunity_id)
        return api.GetOpportunityResponse(opportunity=await self._view(state))

    async def _template_of(self, principal: Principal, state: OpportunityState) -> Template | None:
        if not state.template_id:
            return None
        catalogue = await self._templates.catalogue(principal.tenant)
        return catalogue.resolve(TemplateRef(state.template_id, state.template_version), tenant_id=principal.tenant)

    @grpc_method(*SELLERS)
    async def ChangeStage(self, request: api.ChangeStageRequest, principal: Principal):
        state = await self._opportunity(principal, request.opportunity_id)
        template = await self._template_of(principal, state)
        stages = template.stage_ids if template else DEFAULT_STAGES
        if not commands.validate_stage_change(state, request.to_stage, stages):
            return api.ChangeStageResponse(opportunity=await self._view(state))
        changed = events.StageChanged(from_stage=state.stage, to_stage=request.to_stage, all_mandatory_verified=True)
        if template is not None:
            actions = await self._read_model.actions(principal.tenant, state.opportunity_id)
            verdicts = best_verdicts(
                (a.template_action_id, Verdict(a.valid, a.invalid_reasons))
                for a in actions
                if a.template_action_id and a.stage == state.stage
            )
            missing = missing_for_advance(template, state.stage, request.to_stage, verdicts)
            if missing and not request.override_reason:
                raise GateBlocked(state.stage, request.to_stage, tuple(missing))
            if request.override_reason and not missing:
                raise InvalidCommand("override_reason", "every mandatory action is verified; there is nothing to override")
            if missing:
                if not principal.has_any(*MANAGERS):
                    raise Forbidden("only a manager may override a stage gate")
                reason = commands.require_text(request.override_reason, "override_reason", max_length=2000)
                changed.all_mandatory_verified = False
                changed.gate_override.CopyFrom(
                    events.GateOverride(
                        reason=reason,
                        missing_action_ids=[m.action_id for m in missing],
                        approval_workflow=OVERRIDE_WORKFLOW,
                        approval_request_id=deterministic_event_id(
                            OVERRIDE_WORKFLOW, state.key, f"{state.stage}->{request.to_stage}@{state.version}"
                        ),
                    )
                )
        elif request.override_reason:
            raise InvalidCommand("override_reason", "this opportunity has no template and so no gates")
        await self._check_opportunity(state, ("stage",))
        override = changed.gate_override if changed.HasField("gate_override") else None
        if override is not None:
            # Submitted before the move is appended: a retry after a failure names the
            # same request (its id is derived from the move), so a made override always
            # has its review.
            await self._approvals.submit(
                current_token(),
                request_id=override.approval_request_id,
                workflow=OVERRIDE_WORKFLOW,
                entity_type="opportunity",
                entity_id=state.opportunity_id,
                field="stage",
                before=state.stage,
                after=request.to_stage,
                reason=override.reason,
            )
        event = events.OpportunityEvent(
            tenant_id=principal.tenant,
            opportunity_id=state.opportunity_id,
            actor_id=principal.subject,
            occurred_at=timestamp(await self._clock.now()),
            stall_threshold_seconds=await self._stall_threshold_seconds(principal, request.to_stage),
            stage_changed=changed,
        )
        at = await self._append(OPPORTUNITY, event, key=state.key, tenant=principal.tenant)
        moved = await self._visible(principal, state.opportunity_id, at)
        if moved.stage != request.to_stage:
            raise PreconditionFailed(f"the opportunity changed concurrently and is now in {moved.stage}; retry")
        return api.ChangeStageResponse(
            opportunity=await self._view(moved), override_request_id=override.approval_request_id if override else ""
        )

    @grpc_method(*SELLERS)
    async def RecordAction(self, request: api.RecordActionRequest, principal: Principal):
        state = await self._opportunity(principal, request.opportunity_id)
        if request.template_action_id:
            return await self._record_template_action(request, principal, state)
        if request.HasField("submission"):
            raise InvalidCommand("submission", "structured evidence belongs to a template action; name template_action_id")
        kind = kind_from_proto(request.kind)
        now = await self._clock.now()
        stated_time = moment(request.occurred_at) if request.HasField("occurred_at") else None
        evidence = Evidence(
            call_duration_seconds=request.call_duration_seconds,
            email_message_id=request.email_message_id,
            checkin_id=request.checkin_id,
            note=request.note,
        )
        recorded = await self._read_model.action(principal.tenant, state.opportunity_id, request.action_id)
        if not commands.validate_action(
            state, recorded, action_id=request.action_id, kind=kind, evidence=evidence, occurred_at=stated_time, now=now
        ):
            return api.RecordActionResponse(opportunity=await self._view(state), action=action_to_proto(recorded))
        policy = await self._read_model.policy(principal.tenant)
        verdict = verify(kind, evidence, policy)
        return await self._append_action(
            principal, state, stated_time or now, action_recorded(request.action_id, kind, evidence, verdict), policy
        )

    async def _append_action(
        self, principal: Principal, state: OpportunityState, occurred_at, recorded: events.ActionRecorded, policy
    ) -> api.RecordActionResponse:
        recorded.stage = state.stage
        await self._check_opportunity(state, ("actions",))
        event = events.OpportunityEvent(
            tenant_id=principal.tenant,
            opportunity_id=state.opportunity_id,
            actor_id=principal.subject,
            occurred_at=timestamp(occurred_at),
            stall_threshold_seconds=int(policy.stall_threshold_for(state.stage).total_seconds()),
            action_recorded=recorded,
        )
        at = await self._append(OPPORTUNITY, event, key=state.key, tenant=principal.tenant)
        updated = await self._view(await self._visible(principal, state.opportunity_id, at))
        action = next(a for a in updated.actions if a.action_id == recorded.action_id)
        return api.RecordActionResponse(opportunity=updated, action=action)

    async def _record_template_action(
        self, request: api.RecordActionRequest, principal: Principal, state: OpportunityState
    ) -> api.RecordActionResponse:
        """A template action: its evidence rule decides, with the activity and approval
        facts the submission names read from their streams, so the event (and a replay)
        carries exactly what was judged."""
        template = await self._template_of(principal, state)
        if template is None:
            raise InvalidCommand("template_action_id", f"opportunity {state.opportunity_id} has no template")
        found = template.action(request.template_action_id)
        if found is None:
            raise InvalidCommand("template_action_id", f"template {template.ref} has no action {request.template_action_id!r}")
        stage, spec = found
        if stage.id != state.stage:
            raise InvalidCommand(
                "template_action_id",
                f"{spec.id} belongs to stage {stage.id}; the opportunity is in {state.stage}",
            )
        commands.require_id(request.action_id, "action_id")
        now = await self._clock.now()
        stated_time = moment(request.occurred_at) if request.HasField("occurred_at") else None
        if stated_time is not None and stated_time > now + commands.MAX_CLOCK_SKEW:
            raise InvalidCommand("occurred_at", "lies in the future")
        kind = kind_from_proto(request.kind) if request.kind else ActionKind.NOTE
        activities, unresolved = await self._activity_facts(principal, request.submission.activity_ids)
        approvals, unknown_approvals = await self._approval_facts(principal, request.submission.approval_ids)
        submitted = submission_event(request.submission, activities, approvals)
        mapping = submission_mapping(submitted, principal.subject)
        recorded = await self._read_model.action(principal.tenant, state.opportunity_id, request.action_id)
        if recorded is not None:
            if recorded.template_action_id == spec.id and recorded.submission == mapping:
                return api.RecordActionResponse(opportunity=await self._view(state), action=action_to_proto(recorded))
            raise AlreadyExists(f"action {request.action_id} was already recorded with other details")
        verdict = spec.evidence.verify(Submission.from_mapping(mapping))
        reasons = [*verdict.reasons, *unresolved, *unknown_approvals]
        event = events.ActionRecorded(
            action_id=request.action_id,
            kind=kind_to_proto(kind),
            valid=verdict.valid and not reasons,
            invalid_reasons=reasons,
            template_action_id=spec.id,
            submission=submitted,
        )
        policy = await self._read_model.policy(principal.tenant)
        return await self._append_action(principal, state, stated_time or now, event, policy)

    async def _activity_facts(self, principal: Principal, activity_ids) -> tuple[list[events.ActivityFact], list[str]]:
        facts, unresolved = [], []
        for activity_id in activity_ids:
            commands.require_id(activity_id, "submission.activity_ids")
            found = await self._read_model.entity(principal.tenant, "activity", activity_id)
            if found is None:
                unresolved.append(f"activity {activity_id} is not known (not received from the activity stream yet)")
                continue
            fact = found[0]
            if fact.get("rep_id") and fact["rep_id"] != principal.subject and not principal.has_any(*MANAGERS):
                unresolved.append(f"activity {activity_id} was done by {fact['rep_id']}, not by you")
                continue
            facts.append(
                events.ActivityFact(
                    kind=fact["kind"],
                    activity_id=activity_id,
                    minutes=fact.get("minutes", 0.0),
                    effective=fact.get("effective", False),
                    reply_message_id=fact.get("reply_message_id", ""),
                )
            )
        return facts, unresolved

    async def _approval_facts(self, principal: Principal, approval_ids) -> tuple[list[events.ApprovalFact], list[str]]:
        facts, unknown = [], []
        for approval_id in approval_ids:
            commands.require_id(approval_id, "submission.approval_ids")
            found = await self._read_model.entity(principal.tenant, "approval", approval_id)
            if found is None:
                unknown.append(f"approval {approval_id} is not known to the actions service")
                continue
            facts.append(events.ApprovalFact(approval_id=approval_id, **found[0]))
        return facts, unknown

    # Alerts: handling and snoozing ----------------------------------------------------
    async def _alert_command(self, principal: Principal, opportunity_id: str, alert_id: str, **change) -> api.AlertRaised:
        state = await self._opportunity(principal, opportunity_id)
        await self._check_opportunity(state, ("alert_status",))
        now = await self._clock.now()
        policy = await self._read_model.policy(principal.tenant)
        event = events.OpportunityEvent(
            tenant_id=principal.tenant,
            opportunity_id=state.opportunity_id,
            actor_id=principal.subject,
            occurred_at=timestamp(now),
            stall_threshold_seconds=int(policy.stall_threshold_for(state.stage).total_seconds()),
            **change,
        )
        at = await self._append(OPPORTUNITY, event, key=state.key, tenant=principal.tenant)
        await self._visible(principal, state.opportunity_id, at)
        alert = await self._read_model.message(principal.tenant, "alerts", alert_id, events.AlertRaised)
        if alert is None:
            raise ProjectionLag(f"alert {alert_id} was updated but is not readable yet; retry the read")
        return alert

    @grpc_method(*SELLERS)
    async def HandleAlert(self, request: api.HandleAlertRequest, principal: Principal):
        state = await self._opportunity(principal, request.opportunity_id)
        validate_alert_command(state, request.alert_id, request.note, reason_required=False)
        alert = await self._alert_command(
            principal,
            request.opportunity_id,
            request.alert_id,
            alert_handled=events.AlertHandled(alert_id=request.alert_id, note=request.note.strip()),
        )
        return api.HandleAlertResponse(alert=alert)

    @grpc_method(*SELLERS)
    async def SnoozeAlert(self, request: api.SnoozeAlertRequest, principal: Principal):
        state = await self._opportunity(principal, request.opportunity_id)
        validate_alert_command(state, request.alert_id, request.reason, reason_required=True)
        duration = timedelta(seconds=request.snooze_seconds)
        if not MIN_SNOOZE <= duration <= MAX_SNOOZE:
            raise InvalidCommand(
                "snooze_seconds",
                f"must be between {int(MIN_SNOOZE.total_seconds())} and {int(MAX_SNOOZE.total_seconds())} seconds",
            )
        until = await self._clock.now() + duration
        alert = await self._alert_command(
            principal,
            request.opportunity_id,
            request.alert_id,
            alert_snoozed=events.AlertSnoozed(alert_id=request.alert_id, reason=request.reason.strip(), until=timestamp(until)),
        )
        return api.SnoozeAlertResponse(alert=alert)

    # Templates ---------------------------------------------------------------------------
    @staticmethod
    def _summary(template: Template, versions: tuple[int, ...]) -> api.TemplateSummary:
        return api.TemplateSummary(
            template_id=template.id,
            version=template.version,
            name_zh=template.name.zh,
            name_en=template.name.en,
            industry=template.industry,
            owner=template.owner or "",
            versions=list(versions),
        )

    @staticmethod
    def _document(template: Template):
        from google.protobuf import struct_pb2

        document = struct_pb2.Struct()
        document.update(template.to_dict())
        return document

    @grpc_method()
    async def ListTemplates(self, request: api.ListTemplatesRequest, principal: Principal):
        catalogue = await self._templates.catalogue(principal.tenant)
        return api.ListTemplatesResponse(
            templates=[
                self._summary(t, catalogue.versions(t.id, tenant_id=principal.tenant))
                for t in catalogue.available(tenant_id=principal.tenant)
            ]
        )

    async def _resolve(self, principal: Principal, template_id: str, version: int) -> tuple[Template, tuple[int, ...]]:
        commands.require_id(template_id, "template_id")
        catalogue = await self._templates.catalogue(principal.tenant)
        if version < 0:
            raise InvalidCommand("version", "must not be negative")
        template = (
            catalogue.resolve(TemplateRef(template_id, version), tenant_id=principal.tenant)
            if version
            else catalogue.latest(template_id, tenant_id=principal.tenant)
        )
        return template, catalogue.versions(template_id, tenant_id=principal.tenant)

    @grpc_method()
    async def GetTemplate(self, request: api.GetTemplateRequest, principal: Principal):
        template, versions = await self._resolve(principal, request.template_id, request.version)
        return api.GetTemplateResponse(summary=self._summary(template, versions), document=self._document(template))

    async def _publish_template(self, principal: Principal, template: Template):
        catalogue = await self._templates.catalogue(principal.tenant)
        if catalogue.with_template(template) is catalogue:
            versions = catalogue.versions(template.id, tenant_id=principal.tenant)
            return self._summary(template, versions), self._document(template)
        await self._check(
            "template", template.id, ("document",), {"exists": bool(catalogue.versions(template.id, tenant_id=principal.tenant))}
        )
        event = events.TemplatePublished(
            tenant_id=principal.tenant,
            actor_id=principal.subject,
            occurred_at=timestamp(await self._clock.now()),
            template_id=template.id,
            version=template.version,
            document_yaml=dump_template(template),
            fingerprint=template.fingerprint,
        )
        at = await self._append(TEMPLATE, event, key=f"{principal.tenant}/{template.id}", tenant=principal.tenant)
        await self._entity_visible(principal, "template", template_entity_name(template.id, template.version), at)
        versions = (await self._templates.catalogue(principal.tenant)).versions(template.id, tenant_id=principal.tenant)
        return self._summary(template, versions), self._document(template)

    @grpc_method(*MANAGERS)
    async def CopyTemplate(self, request: api.CopyTemplateRequest, principal: Principal):
        source, _ = await self._resolve(principal, request.source_template_id, request.source_version)
        if request.template_id:
            commands.require_id(request.template_id, "template_id")
        copy = copy_for_tenant(source, principal.tenant, template_id=request.template_id or None)
        summary, document = await self._publish_template(principal, copy)
        return api.CopyTemplateResponse(summary=summary, document=document)

    @grpc_method(*MANAGERS)
    async def PublishTemplateVersion(self, request: api.PublishTemplateVersionRequest, principal: Principal):
        data = json_format.MessageToDict(request.document)
        if not data:
            raise InvalidCommand("document", "is required: a whole template document, as GetTemplate returns it")
        # Struct numbers are floats: a version of 2.0 is the version 2.
        if isinstance(data.get("version"), float) and data["version"].is_integer():
            data["version"] = int(data["version"])
        template = load_template(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "document")
        if template.owner != principal.tenant:
            raise InvalidCommand("document.owner", f"must be your tenant '{principal.tenant}'; copy a template first")
        summary, document = await self._publish_template(principal, template)
        return api.PublishTemplateVersionResponse(summary=summary, document=document)

    # Stage dwell ---------------------------------------------------------------------------
    async def _dwell(self, principal: Principal, state: OpportunityState, factor: float, now) -> api.StageDwell | None:
        template = await self._template_of(principal, state)
        stage = template.stage(state.stage) if template else None
        if stage is None or stage.benchmark_dwell is None:
            return None
        dwell = (now - state.stage_entered_at).total_seconds() / 3600
        ratio = dwell / stage.benchmark_dwell_hours
        return api.StageDwell(
            opportunity_id=state.opportunity_id,
            owner_id=state.owner_id,
            stage=state.stage,
            stage_entered_at=timestamp(state.stage_entered_at),
            dwell_hours=round(dwell, 3),
            benchmark_hours=stage.benchmark_dwell_hours,
            ratio=round(ratio, 3),
            flagged=ratio > factor,
        )

    @grpc_method()
    async def GetStageDwell(self, request: api.GetStageDwellRequest, principal: Principal):
        state = await self._opportunity(principal, request.opportunity_id)
        policy = await self._read_model.policy(principal.tenant)
        dwell = await self._dwell(principal, state, policy.dwell_factor, await self._clock.now())
        if dwell is None:
            raise PreconditionFailed(
                f"opportunity {state.opportunity_id} has no benchmark dwell (no template, or a closed stage)"
            )
        return api.GetStageDwellResponse(dwell=dwell, factor=policy.dwell_factor)

    @grpc_method(*MANAGERS)
    async def ListDwellFlags(self, request: api.ListDwellFlagsRequest, principal: Principal):
        policy = await self._read_model.policy(principal.tenant)
        now = await self._clock.now()
        dwells = [
            d
            for state in await self._read_model.open_opportunities(principal.tenant)
            if (d := await self._dwell(principal, state, policy.dwell_factor, now)) is not None
        ]
        by_team: dict[str, list[float]] = {}
        for d in dwells:
            rep = await self._read_model.entity(principal.tenant, "rep", d.owner_id)
            by_team.setdefault(rep[0].get("manager_id", "") if rep else "", []).append(d.ratio)
        teams = [
            api.TeamDwell(
                manager_id=manager,
                open_opportunities=len(ratios),
                mean_ratio=round(sum(ratios) / len(ratios), 3),
                flagged=sum(ratios) / len(ratios) > policy.dwell_factor,
            )
            for manager, ratios in sorted(by_team.items())
        ]
        flagged = sorted((d for d in dwells if d.flagged), key=lambda d: -d.ratio)
        return api.ListDwellFlagsResponse(factor=policy.dwell_factor, opportunities=flagged, teams=teams)

    # Alerts and to-dos -------------------------------------------------------------
    @grpc_method()
    async def ListAlerts(self, request: api.ListAlertsRequest, principal: Principal):
        alerts = await self._read_model.messages(principal.tenant, "alerts", events.AlertRaised)
        visible = [
            a
            for a in alerts
            if (not request.opportunity_id or a.opportunity_id == request.opportunity_id) and may_see_alert(principal, a)
        ]
        visible.sort(key=lambda a: (a.raised_at.seconds, a.alert_id))
        return api.ListAlertsResponse(alerts=visible)

    @grpc_method()
    async def ListTodos(self, request: api.ListTodosRequest, principal: Principal):
        todos = await self._read_model.messages(principal.tenant, "todos", events.TodoCreated)
        if request.assignee_id and request.assignee_id != principal.subject:
            if not principal.has_any(*MANAGERS):
                raise Forbidden("only managers may read another person's to-dos")
            mine = [t for t in todos if t.assignee_id == request.assignee_id]
        else:
            mine = [t for t in todos if may_see_todo(principal, t)]
        mine.sort(key=lambda t: (t.due_at.seconds, t.todo_id))
        return api.ListTodosResponse(todos=mine)


def _stall_policy(policy: ProcessPolicy) -> events.StallPolicy:
    return events.StallPolicy(threshold_seconds=int(policy.stall_threshold.total_seconds()))


def _require_owner_or_manager(principal: Principal, owner_id: str, what: str) -> None:
    if principal.subject != owner_id and not principal.has_any(*MANAGERS):
        raise Forbidden(f"only its owner or a manager may work on {what}")

