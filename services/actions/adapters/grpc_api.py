"""The ActionsService gRPC endpoint: validate, append the event, wait until the
projection shows it (read-your-own-write), answer from the projection."""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta

import grpc
from aiokafka.errors import KafkaError
from redis.exceptions import RedisError

from dealpulse.actions.v1 import actions_service_pb2 as api
from dealpulse.actions.v1 import actions_service_pb2_grpc as api_grpc
from dealpulse.actions.v1 import events_pb2 as events
from kernel.auth import MANAGING_ROLES, SELLING_ROLES, Principal
from kernel.clock import Clock
from kernel.grpc_server import current_principal, status_for
from kernel.kafka import EventPublisher
from kernel.topics import ACCOUNT, OPPORTUNITY, POLICY, REP, TopicSpec
from services.actions.adapters.messages import (
    action_recorded,
    action_to_proto,
    kind_from_proto,
    moment,
    opportunity_to_proto,
    timestamp,
)
from services.actions.adapters.read_models import ActionsReadModel, Position
from services.actions.domain import commands
from services.actions.domain.errors import (
    AlreadyExists,
    DomainError,
    Forbidden,
    InvalidCommand,
    NotFound,
    PreconditionFailed,
)
from services.actions.domain.evidence import Evidence, verify
from services.actions.domain.opportunity import OpportunityState
from services.actions.domain.pipeline import DEFAULT_STAGES
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


def _rpc(*roles: str):
    """Authorise by role, then run; domain errors become gRPC status codes."""

    def wrap(method):
        @functools.wraps(method)
        async def handler(self, request, context: grpc.aio.ServicerContext):
            principal = current_principal()
            try:
                if roles and not principal.has_any(*roles):
                    raise Forbidden(f"requires one of the roles {', '.join(roles)}")
                return await method(self, request, principal)
            except DomainError as exc:
                await context.abort(status_for(exc, _STATUS), str(exc))
            except ProjectionLag as exc:
                await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, str(exc))
            except (RedisError, KafkaError) as exc:
                log.exception("%s failed on its store or broker", method.__name__)
                await context.abort(grpc.StatusCode.UNAVAILABLE, f"temporarily unavailable ({type(exc).__name__}); retry")

        return handler

    return wrap


class ProjectionLag(Exception):
    """The event is appended but the projection did not show it in time."""


class ActionsApi(api_grpc.ActionsServiceServicer):
    def __init__(self, read_model: ActionsReadModel, publisher: EventPublisher, clock: Clock, wait_seconds: float) -> None:
        self._read_model = read_model
        self._publisher = publisher
        self._clock = clock
        self._wait = wait_seconds

    async def _append(self, spec: TopicSpec, payload, *, key: str, tenant: str) -> Position:
        _, partition, offset = await self._publisher.publish(
            spec, payload, key=key, tenant_id=tenant, event_time=moment(payload.occurred_at)
        )
        return Position(partition, offset)

    async def _stall_threshold_seconds(self, principal: Principal) -> int:
        policy = await self._read_model.policy(principal.tenant)
        return int(policy.stall_threshold.total_seconds())

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
    @_rpc(*SELLERS)
    async def CreateAccount(self, request: api.CreateAccountRequest, principal: Principal):
        commands.require_id(request.account_id, "account_id")
        name = commands.require_text(request.name, "name")
        owner_id = commands.require_id(request.owner_id or principal.subject, "owner_id")
        _require_owner_or_manager(principal, owner_id, f"an account owned by {owner_id}")
        existing = await self._read_model.entity(principal.tenant, "account", request.account_id)
        if existing:
            account = existing[0]
            if (account["name"], account["industry"], account["owner_id"]) != (name, request.industry, owner_id):
                raise AlreadyExists(f"account {request.account_id} already exists with other details")
            return api.CreateAccountResponse(account=_account(account))
        event = events.AccountEvent(
            tenant_id=principal.tenant,
            account_id=request.account_id,
            actor_id=principal.subject,
            occurred_at=timestamp(await self._clock.now()),
            created=events.AccountCreated(name=name, industry=request.industry, owner_id=owner_id),
        )
        at = await self._append(ACCOUNT, event, key=f"{principal.tenant}/{request.account_id}", tenant=principal.tenant)
        account = await self._entity_visible(principal, "account", request.account_id, at)
        if (account["name"], account["industry"], account["owner_id"]) != (name, request.industry, owner_id):
            raise AlreadyExists(f"account {request.account_id} was created concurrently with other details")
        return api.CreateAccountResponse(account=_account(account))

    @_rpc()
    async def GetAccount(self, request: api.GetAccountRequest, principal: Principal):
        commands.require_id(request.account_id, "account_id")
        found = await self._read_model.entity(principal.tenant, "account", request.account_id)
        if found is None:
            raise NotFound(f"account {request.account_id} not found")
        return api.GetAccountResponse(account=_account(found[0]))

    # Reps and policy -------------------------------------------------------------
    @_rpc(*MANAGERS)
    async def RegisterRep(self, request: api.RegisterRepRequest, principal: Principal):
        commands.require_id(request.rep_id, "rep_id")
        display_name = commands.require_text(request.display_name, "display_name")
        if request.manager_id:
            commands.require_id(request.manager_id, "manager_id")
            if request.manager_id == request.rep_id:
                raise InvalidCommand("manager_id", "a rep cannot manage themselves")
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

    @_rpc(*MANAGERS)
    async def SetStallPolicy(self, request: api.SetStallPolicyRequest, principal: Principal):
        current = await self._read_model.policy(principal.tenant)
        updated = current.with_stall_threshold(timedelta(seconds=request.stall.threshold_seconds))
        stall = events.StallPolicy(threshold_seconds=int(updated.stall_threshold.total_seconds()))
        event = events.TenantPolicyEvent(
            tenant_id=principal.tenant,
            actor_id=principal.subject,
            occurred_at=timestamp(await self._clock.now()),
            stall=stall,
        )
        at = await self._append(POLICY, event, key=principal.tenant, tenant=principal.tenant)
        await self._entity_visible(principal, "policy", "process", at)
        return api.SetStallPolicyResponse(stall=stall)

    @_rpc()
    async def GetStallPolicy(self, request: api.GetStallPolicyRequest, principal: Principal):
        policy = await self._read_model.policy(principal.tenant)
        return api.GetStallPolicyResponse(
            stall=events.StallPolicy(threshold_seconds=int(policy.stall_threshold.total_seconds()))
        )

    # Opportunities -------------------------------------------------------------
    @_rpc(*SELLERS)
    async def OpenOpportunity(self, request: api.OpenOpportunityRequest, principal: Principal):
        command = commands.OpenOpportunity(
            opportunity_id=request.opportunity_id,
            account_id=request.account_id,
            name=request.name,
            owner_id=request.owner_id or principal.subject,
            stage=request.stage or DEFAULT_STAGES[0],
            amount_cents=request.amount_cents,
            currency=request.currency,
        )
        _require_owner_or_manager(principal, command.owner_id, f"an opportunity owned by {command.owner_id}")
        existing = await self._read_model.opportunity(principal.tenant, request.opportunity_id) if request.opportunity_id else None
        account = await self._read_model.entity(principal.tenant, "account", request.account_id) if request.account_id else None
        if not commands.validate_open(command, existing[0] if existing else None, account is not None):
            return api.OpenOpportunityResponse(opportunity=await self._view(existing[0]))
        event = events.OpportunityEvent(
            tenant_id=principal.tenant,
            opportunity_id=command.opportunity_id,
            actor_id=principal.subject,
            occurred_at=timestamp(await self._clock.now()),
            stall_threshold_seconds=await self._stall_threshold_seconds(principal),
            opened=events.OpportunityOpened(
                account_id=command.account_id,
                name=command.name.strip(),
                owner_id=command.owner_id,
                stage=command.stage,
                amount_cents=command.amount_cents,
                currency=command.currency,
            ),
        )
        key = f"{principal.tenant}/{command.opportunity_id}"
        at = await self._append(OPPORTUNITY, event, key=key, tenant=principal.tenant)
        state = await self._visible(principal, command.opportunity_id, at)
        commands.validate_open(command, state, account_exists=True)  # a racing open with other details wins
        return api.OpenOpportunityResponse(opportunity=await self._view(state))

    @_rpc()
    async def GetOpportunity(self, request: api.GetOpportunityRequest, principal: Principal):
        state = await self._opportunity(principal, request.opportunity_id)
        return api.GetOpportunityResponse(opportunity=await self._view(state))

    @_rpc(*SELLERS)
    async def ChangeStage(self, request: api.ChangeStageRequest, principal: Principal):
        state = await self._opportunity(principal, request.opportunity_id)
        if not commands.validate_stage_change(state, request.to_stage):
            return api.ChangeStageResponse(opportunity=await self._view(state))
        event = events.OpportunityEvent(
            tenant_id=principal.tenant,
            opportunity_id=state.opportunity_id,
            actor_id=principal.subject,
            occurred_at=timestamp(await self._clock.now()),
            stall_threshold_seconds=await self._stall_threshold_seconds(principal),
            stage_changed=events.StageChanged(from_stage=state.stage, to_stage=request.to_stage),
        )
        at = await self._append(OPPORTUNITY, event, key=state.key, tenant=principal.tenant)
        moved = await self._visible(principal, state.opportunity_id, at)
        if moved.stage != request.to_stage:
            raise PreconditionFailed(f"the opportunity changed concurrently and is now in {moved.stage}; retry")
        return api.ChangeStageResponse(opportunity=await self._view(moved))

    @_rpc(*SELLERS)
    async def RecordAction(self, request: api.RecordActionRequest, principal: Principal):
        state = await self._opportunity(principal, request.opportunity_id)
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
        occurred_at = stated_time or now
        event = events.OpportunityEvent(
            tenant_id=principal.tenant,
            opportunity_id=state.opportunity_id,
            actor_id=principal.subject,
            occurred_at=timestamp(occurred_at),
            stall_threshold_seconds=int(policy.stall_threshold.total_seconds()),
            action_recorded=action_recorded(request.action_id, kind, evidence, verdict),
        )
        at = await self._append(OPPORTUNITY, event, key=state.key, tenant=principal.tenant)
        updated = await self._view(await self._visible(principal, state.opportunity_id, at))
        action = next(a for a in updated.actions if a.action_id == request.action_id)
        return api.RecordActionResponse(opportunity=updated, action=action)

    # Alerts and to-dos -------------------------------------------------------------
    @_rpc()
    async def ListAlerts(self, request: api.ListAlertsRequest, principal: Principal):
        alerts = await self._read_model.messages(principal.tenant, "alerts", events.AlertRaised)
        visible = [
            a
            for a in alerts
            if (not request.opportunity_id or a.opportunity_id == request.opportunity_id) and may_see_alert(principal, a)
        ]
        visible.sort(key=lambda a: (a.raised_at.seconds, a.alert_id))
        return api.ListAlertsResponse(alerts=visible)

    @_rpc()
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


def _require_owner_or_manager(principal: Principal, owner_id: str, what: str) -> None:
    if principal.subject != owner_id and not principal.has_any(*MANAGERS):
        raise Forbidden(f"only its owner or a manager may work on {what}")


def _account(account: dict) -> api.Account:
    return api.Account(
        account_id=account["account_id"],
        name=account["name"],
        industry=account["industry"],
        owner_id=account["owner_id"],
        created_at=timestamp(datetime.fromisoformat(account["created_at"])),
    )
