"""The LeadsService gRPC endpoint: validate, append the lead event, wait until the
projection shows it (read-your-own-write), answer from the projection."""

from __future__ import annotations

from datetime import timedelta

from dealpulse.actions.v1 import leads_pb2
from dealpulse.actions.v1 import leads_service_pb2 as api
from dealpulse.actions.v1 import leads_service_pb2_grpc as api_grpc
from kernel.audit_check import AuditCheck
from kernel.auth import Principal
from kernel.grpc_server import current_token
from kernel.clock import Clock
from kernel.kafka import EventPublisher
from kernel.topics import LEAD
from services.actions.adapters.grpc_api import MANAGERS, SELLERS, ProjectionLag, grpc_method
from services.actions.adapters.lead_store import STATUS_FROM_PROTO, LeadStore, lead_to_proto
from services.actions.adapters.messages import moment, timestamp
from services.actions.adapters.read_models import ActionsReadModel, Position
from services.actions.domain import commands
from services.actions.domain import leads as domain
from services.actions.domain.errors import AlreadyExists, Forbidden, InvalidCommand, NotFound
from services.actions.domain.leads import Distribution, LeadState, NewLead

DEFAULT_PAGE = 100
MAX_PAGE = 1000
DEFAULT_STATS_PERIOD = timedelta(days=30)
MAX_STATS_PERIOD = timedelta(days=366)
MAX_REASON = 500
_INDEX_CHUNK = 500
# What creating a lead sets (what audit Check decides).
CREATED_FIELDS = ("name", "company", "contact_phone", "contact_email", "source", "account_id")


def _distribution(d: Distribution) -> api.LeadResponseDistribution:
    return api.LeadResponseDistribution(
        id=d.id,
        assignments=d.assignments,
        answered=d.answered,
        answered_within_limit=d.answered_within_limit,
        overdue_unanswered=d.overdue_unanswered,
        pending=d.pending,
        p50_seconds=d.p50_seconds,
        p90_seconds=d.p90_seconds,
        within_limit_percent=d.within_limit_percent,
        lead_ids=list(d.lead_ids),
    )


def _may_work_on(principal: Principal, lead: LeadState) -> bool:
    return principal.has_any(*MANAGERS) or (bool(lead.owner_id) and lead.owner_id == principal.subject)


class LeadsApi(api_grpc.LeadsServiceServicer):
    def __init__(
        self,
        read_model: ActionsReadModel,
        leads: LeadStore,
        publisher: EventPublisher,
        clock: Clock,
        wait_seconds: float,
        *,
        audit: AuditCheck,
    ) -> None:
        self._audit = audit
        self._read_model = read_model
        self._leads = leads
        self._publisher = publisher
        self._clock = clock
        self._wait = wait_seconds

    async def _append(self, event: leads_pb2.LeadEvent) -> Position:
        _, partition, offset = await self._publisher.publish(
            LEAD, event, key=f"{event.tenant_id}/{event.lead_id}", tenant_id=event.tenant_id, event_time=moment(event.occurred_at)
        )
        return Position(partition, offset)

    async def _event(self, principal: Principal, lead_id: str, **change) -> leads_pb2.LeadEvent:
        return leads_pb2.LeadEvent(
            tenant_id=principal.tenant,
            lead_id=lead_id,
            actor_id=principal.subject,
            occurred_at=timestamp(await self._clock.now()),
            **change,
        )

    async def _check(self, lead_id: str, fields, *, exists: bool, owner_id: str) -> None:
        """Audit Check for the caller before appending (grpc_api's `grpc_method` turns a denial
        into PERMISSION_DENIED naming the rule, an unreachable audit into UNAVAILABLE)."""
        await self._audit.require(
            current_token(),
            entity_type="lead",
            entity_id=lead_id,
            fields=list(fields),
            record_state={"exists": exists, "owner_id": owner_id},
        )

    async def _visible(self, principal: Principal, lead_id: str, at: Position) -> LeadState:
        state = await self._leads.wait_for_lead(principal.tenant, lead_id, at, self._wait)
        if state is None:
            raise ProjectionLag(f"lead {lead_id} was updated but is not readable yet; retry the read")
        return state

    async def _lead(self, principal: Principal, lead_id: str) -> LeadState:
        """The caller's lead: reps work on the leads assigned to them, managers on all of
        their tenant's. Another tenant's lead does not exist."""
        commands.require_id(lead_id, "lead_id")
        found = await self._leads.lead(principal.tenant, lead_id)
        if found is None:
            raise NotFound(f"lead {lead_id} not found")
        if not _may_work_on(principal, found[0]):
            raise Forbidden(f"lead {lead_id} is assigned to someone else; only they or a manager may work on it")
        return found[0]

    async def _require_rep(self, principal: Principal, rep_id: str) -> str:
        commands.require_id(rep_id, "rep_id")
        if await self._read_model.entity(principal.tenant, "rep", rep_id) is None:
            raise InvalidCommand("rep_id", f"rep {rep_id} is not registered (PUT /v1/reps/{rep_id} first)")
        return rep_id

    async def _assigned_event(self, principal: Principal, state: LeadState, rep_id: str, reason: str) -> leads_pb2.LeadEvent:
        policy = await self._read_model.policy(principal.tenant)
        return await self._event(
            principal,
            state.lead_id,
            response_limit_seconds=int(policy.lead_response_limit.total_seconds()),
            assigned=leads_pb2.LeadAssigned(rep_id=rep_id, previous_rep_id=state.owner_id, reason=reason),
        )

    @grpc_method(*SELLERS)
    async def CreateLead(self, request: api.CreateLeadRequest, principal: Principal):
        commands.require_id(request.lead_id, "lead_id")
        if request.account_id:
            commands.require_id(request.account_id, "account_id")
            if await self._read_model.entity(principal.tenant, "account", request.account_id) is None:
                raise InvalidCommand("account_id", f"account {request.account_id} does not exist")
        lead = NewLead(
            request.lead_id,
            request.name,
            request.company,
            request.contact_phone,
            request.contact_email,
            request.source,
            request.account_id,
        ).normalised()
        if request.rep_id:
            await self._require_rep(principal, request.rep_id)
            if request.rep_id != principal.subject and not principal.has_any(*MANAGERS):
                raise Forbidden("a rep may only assign a lead to themselves; ask a manager to assign it")
        found = await self._leads.lead(principal.tenant, request.lead_id)
        existing = found[0] if found else None
        if not domain.validate_create(lead, existing):
            if request.rep_id and existing.owner_id != request.rep_id:
                raise AlreadyExists(f"lead {request.lead_id} already exists, assigned to {existing.owner_id or 'nobody'}")
            if not _may_work_on(principal, existing):
                raise AlreadyExists(f"lead {request.lead_id} already exists")
            return api.CreateLeadResponse(lead=lead_to_proto(existing))
        await self._check(
            lead.lead_id,
            (*CREATED_FIELDS, *(("owner_id",) if request.rep_id else ())),
            exists=False,
            owner_id=request.rep_id,
        )
        created = await self._event(
            principal,
            lead.lead_id,
            created=leads_pb2.LeadCreated(
                name=lead.name,
                company=lead.company,
                contact_phone=lead.contact_phone,
                contact_email=lead.contact_email,
                source=lead.source,
                account_id=lead.account_id,
            ),
        )
        at = await self._append(created)
        state = await self._visible(principal, lead.lead_id, at)
        if request.rep_id and domain.validate_assign(state, request.rep_id):
            at = await self._append(await self._assigned_event(principal, state, request.rep_id, "assigned when created"))
            state = await self._visible(principal, lead.lead_id, at)
        return api.CreateLeadResponse(lead=lead_to_proto(state))

    @grpc_method(*MANAGERS)
    async def AssignLead(self, request: api.AssignLeadRequest, principal: Principal):
        state = await self._lead(principal, request.lead_id)
        rep_id = await self._require_rep(principal, request.rep_id)
        reason = request.reason.strip()
        if len(reason) > MAX_REASON:
            raise InvalidCommand("reason", f"must be at most {MAX_REASON} characters")
        if not domain.validate_assign(state, rep_id):
            return api.AssignLeadResponse(lead=lead_to_proto(state))
        await self._check(state.lead_id, ("owner_id",), exists=True, owner_id=state.owner_id)
        at = await self._append(await self._assigned_event(principal, state, rep_id, reason))
        return api.AssignLeadResponse(lead=lead_to_proto(await self._visible(principal, state.lead_id, at)))

    @grpc_method()
    async def GetLead(self, request: api.GetLeadRequest, principal: Principal):
        return api.GetLeadResponse(lead=lead_to_proto(await self._lead(principal, request.lead_id)))

    @grpc_method()
    async def ListLeads(self, request: api.ListLeadsRequest, principal: Principal):
        if request.page_size < 0 or request.page_size > MAX_PAGE:
            raise InvalidCommand("page_size", f"must be between 1 and {MAX_PAGE} (0: {DEFAULT_PAGE})")
        if request.status and request.status not in STATUS_FROM_PROTO:
            raise InvalidCommand("status", f"unknown lead status {request.status}")
        owner = request.owner_id
        if not principal.has_any(*MANAGERS):
            if owner and owner != principal.subject:
                raise Forbidden("only managers may list another rep's leads")
            owner = principal.subject
        status = STATUS_FROM_PROTO.get(request.status)
        size = request.page_size or DEFAULT_PAGE
        found: list[LeadState] = []
        scanned = 0
        # Newest first, a chunk of the index at a time until the page is full.
        while len(found) < size:
            chunk = await self._leads.newest_page(principal.tenant, scanned, _INDEX_CHUNK)
            if not chunk:
                break
            scanned += _INDEX_CHUNK
            found.extend(
                lead for lead in chunk if (not owner or lead.owner_id == owner) and (status is None or lead.status is status)
            )
        return api.ListLeadsResponse(leads=[lead_to_proto(lead) for lead in found[:size]])

    @grpc_method(*SELLERS)
    async def ConvertLead(self, request: api.ConvertLeadRequest, principal: Principal):
        state = await self._lead(principal, request.lead_id)
        commands.require_id(request.opportunity_id, "opportunity_id")
        if await self._read_model.opportunity(principal.tenant, request.opportunity_id) is None:
            raise InvalidCommand("opportunity_id", f"opportunity {request.opportunity_id} does not exist; open it first")
        if not domain.validate_convert(state, request.opportunity_id):
            return api.ConvertLeadResponse(lead=lead_to_proto(state))
        await self._check(state.lead_id, ("opportunity_id", "status"), exists=True, owner_id=state.owner_id)
        current = state.current
        event = await self._event(
            principal,
            state.lead_id,
            converted=leads_pb2.LeadConverted(
                opportunity_id=request.opportunity_id, rep_id=current.rep_id, assigned_at=timestamp(current.assigned_at)
            ),
        )
        at = await self._append(event)
        return api.ConvertLeadResponse(lead=lead_to_proto(await self._visible(principal, state.lead_id, at)))

    @grpc_method()
    async def GetLeadResponseStats(self, request: api.GetLeadResponseStatsRequest, principal: Principal):
        now = await self._clock.now()
        until = moment(getattr(request, "to")) if request.HasField("to") else now
        since = moment(getattr(request, "from")) if request.HasField("from") else until - DEFAULT_STATS_PERIOD
        if since >= until:
            raise InvalidCommand("from", "must be before `to`")
        if until - since > MAX_STATS_PERIOD:
            raise InvalidCommand("from", f"the period may span at most {MAX_STATS_PERIOD.days} days")
        policy = await self._read_model.policy(principal.tenant)
        found = await self._leads.assigned_since(principal.tenant, since)
        managing = principal.has_any(*MANAGERS)
        reps = sorted({a.rep_id for lead in found for a in lead.assignments})
        managers = {rep: await self._manager_of(principal.tenant, rep) for rep in reps} if managing else {}
        stats = domain.response_stats(found, managers, since, until, now)
        response = api.GetLeadResponseStatsResponse(
            limit_seconds=int(policy.lead_response_limit.total_seconds()),
            to=timestamp(until),
        )
        getattr(response, "from").CopyFrom(timestamp(since))
        if managing:
            response.reps.extend(_distribution(d) for d in stats.reps)
            response.teams.extend(_distribution(d) for d in stats.teams)
            response.total.CopyFrom(_distribution(stats.total))
        else:
            mine = next((d for d in stats.reps if d.id == principal.subject), Distribution(id=principal.subject))
            response.reps.append(_distribution(mine))
            response.total.CopyFrom(_distribution(mine))
        return response

    async def _manager_of(self, tenant: str, rep_id: str) -> str:
        found = await self._read_model.entity(tenant, "rep", rep_id)
        return found[0].get("manager_id", "") if found else ""
