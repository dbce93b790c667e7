"""Leads and the lead-response rule: a lead assigned to a rep must get a first valid
response (a connected call of at least the tenant's minimum, an email the rep sent, a
WeCom contact added, an effective visit) within the tenant's limit (15 min), or an
alert goes to the rep and the manager.

Pure functions from (state, fact) to (new state, effects), applied in the order of the
lead's topic partition, so a replay rebuilds the same state and the same decisions.
The response deadline is a timer (ArmResponseTimer) swept into an event, like the
stall breaker's (docs/adr/0001-per-entity-timers.md).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum

from services.actions.domain.errors import AlreadyExists, InvalidCommand, PreconditionFailed

_ALERT_NAMESPACE = uuid.UUID("5d0f6a43-8f7c-4b0e-9a55-0f4f2d3c9b21")
# A lead reassigned more often than this is being juggled, not worked; the history
# lives inside the lead's record, so it must stay bounded.
MAX_ASSIGNMENTS = 50
MAX_TEXT = 200


class LeadStatus(str, Enum):
    UNASSIGNED = "unassigned"
    AWAITING_RESPONSE = "awaiting_response"
    RESPONDED = "responded"
    CONVERTED = "converted"


class ContactKind(str, Enum):
    CALL = "call"
    EMAIL = "email"
    WECOM_CONTACT = "wecom_contact"
    EFFECTIVE_VISIT = "effective_visit"


@dataclass(frozen=True)
class Contact:
    """A rep's contact with the lead, as the activity stream reported it."""

    activity_id: str
    rep_id: str
    kind: ContactKind
    at: datetime
    call_duration_seconds: int = 0

    def is_valid_response(self, min_call_duration: timedelta) -> bool:
        if self.kind is ContactKind.CALL:
            return self.call_duration_seconds >= min_call_duration.total_seconds()
        return True


@dataclass(frozen=True)
class Assignment:
    rep_id: str
    assigned_at: datetime
    # None when the lead had already been answered when it was assigned.
    deadline: datetime | None
    responded_at: datetime | None = None
    response_kind: ContactKind | None = None
    response_activity_id: str = ""
    overdue: bool = False
    ended_at: datetime | None = None
    alert_id: str = ""

    @property
    def awaited_response(self) -> bool:
        return self.deadline is not None

    @property
    def response_time(self) -> timedelta | None:
        return self.responded_at - self.assigned_at if self.responded_at else None


@dataclass(frozen=True)
class LeadState:
    tenant_id: str
    lead_id: str
    name: str
    company: str
    contact_phone: str
    contact_email: str
    source: str
    account_id: str
    created_at: datetime
    owner_id: str = ""
    assignments: tuple[Assignment, ...] = ()
    opportunity_id: str = ""
    converted_at: datetime | None = None
    version: int = 1

    @property
    def key(self) -> str:
        return f"{self.tenant_id}/{self.lead_id}"

    @property
    def current(self) -> Assignment | None:
        return self.assignments[-1] if self.assignments else None

    @property
    def first_response(self) -> Assignment | None:
        return next((a for a in self.assignments if a.responded_at is not None), None)

    @property
    def status(self) -> LeadStatus:
        if self.opportunity_id:
            return LeadStatus.CONVERTED
        if self.first_response is not None:
            return LeadStatus.RESPONDED
        return LeadStatus.AWAITING_RESPONSE if self.owner_id else LeadStatus.UNASSIGNED

    @property
    def open_alert_id(self) -> str:
        """The current assignment's alert while the lead stays unanswered."""
        current = self.current
        if current is None or self.first_response is not None or self.opportunity_id:
            return ""
        return current.alert_id


# --- effects ------------------------------------------------------------------------
@dataclass(frozen=True)
class ArmResponseTimer:
    rep_id: str
    assigned_at: datetime
    deadline: datetime


@dataclass(frozen=True)
class DisarmResponseTimer:
    pass


@dataclass(frozen=True)
class RaiseResponseAlert:
    alert_id: str
    lead: LeadState
    rep_id: str
    assigned_at: datetime
    deadline: datetime


@dataclass(frozen=True)
class CloseResponseAlert:
    """The open alert is answered: by a late response, a reassignment or a conversion."""

    alert_id: str
    actor_id: str
    at: datetime
    note: str


Effect = ArmResponseTimer | DisarmResponseTimer | RaiseResponseAlert | CloseResponseAlert


@dataclass(frozen=True)
class Outcome:
    state: LeadState
    effects: tuple[Effect, ...] = field(default_factory=tuple)


# --- commands (validated before the event is appended) ----------------------------------
def _text(value: str, name: str, *, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidCommand(name, "is required")
    if len(value) > MAX_TEXT:
        raise InvalidCommand(name, f"must be at most {MAX_TEXT} characters")
    return value


@dataclass(frozen=True)
class NewLead:
    lead_id: str
    name: str
    company: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    source: str = ""
    account_id: str = ""

    def normalised(self) -> "NewLead":
        """The lead as it will be stored, or InvalidCommand naming the field."""
        lead = NewLead(
            lead_id=self.lead_id,
            name=_text(self.name, "name", required=True),
            company=_text(self.company, "company"),
            contact_phone=_text(self.contact_phone, "contact_phone"),
            contact_email=_text(self.contact_email, "contact_email"),
            source=_text(self.source, "source"),
            account_id=self.account_id,
        )
        if lead.contact_email and ("@" not in lead.contact_email or " " in lead.contact_email):
            raise InvalidCommand("contact_email", f"{lead.contact_email!r} is not an email address")
        if not (lead.contact_phone or lead.contact_email or lead.account_id):
            raise InvalidCommand("contact_phone", "a lead needs a way to reach it: a phone, an email or an account")
        return lead

    def matches(self, state: LeadState) -> bool:
        return (self.name, self.company, self.contact_phone, self.contact_email, self.source, self.account_id) == (
            state.name,
            state.company,
            state.contact_phone,
            state.contact_email,
            state.source,
            state.account_id,
        )


def validate_create(command: NewLead, existing: LeadState | None) -> bool:
    """True when the lead must be created; False for an identical repeat."""
    if existing is None:
        return True
    if command.matches(existing):
        return False
    raise AlreadyExists(f"lead {command.lead_id} already exists with other details")


def validate_assign(state: LeadState, rep_id: str) -> bool:
    """True when the assignment changes something; False when the rep already has it."""
    if state.opportunity_id:
        raise PreconditionFailed(f"lead {state.lead_id} was converted to opportunity {state.opportunity_id}")
    if state.owner_id == rep_id:
        return False
    if len(state.assignments) >= MAX_ASSIGNMENTS:
        raise PreconditionFailed(f"lead {state.lead_id} was already assigned {MAX_ASSIGNMENTS} times")
    return True


def validate_convert(state: LeadState, opportunity_id: str) -> bool:
    """True when the conversion must be recorded; False for an identical repeat."""
    if state.opportunity_id == opportunity_id:
        return False
    if state.opportunity_id:
        raise PreconditionFailed(f"lead {state.lead_id} was already converted to opportunity {state.opportunity_id}")
    if not state.owner_id:
        raise PreconditionFailed(f"lead {state.lead_id} is not assigned to anyone; assign it before converting it")
    return True


# --- facts ----------------------------------------------------------------------------
def created(tenant_id: str, lead: NewLead, at: datetime) -> Outcome:
    return Outcome(
        LeadState(
            tenant_id=tenant_id,
            lead_id=lead.lead_id,
            name=lead.name,
            company=lead.company,
            contact_phone=lead.contact_phone,
            contact_email=lead.contact_email,
            source=lead.source,
            account_id=lead.account_id,
            created_at=at,
        )
    )


def _replace_current(state: LeadState, assignment: Assignment) -> tuple[Assignment, ...]:
    return (*state.assignments[:-1], assignment)


def assigned(state: LeadState, rep_id: str, at: datetime, limit: timedelta, actor_id: str) -> Outcome:
    """The rep owns the lead from `at`; unless it was answered, their response is due by
    `at + limit`. An alert open for the previous rep is closed: the reassignment is the
    manager's answer to it."""
    if state.opportunity_id or state.owner_id == rep_id:
        return Outcome(replace(state, version=state.version + 1))
    effects: list[Effect] = []
    history = state.assignments
    if state.current is not None:
        history = _replace_current(state, replace(state.current, ended_at=at))
    if state.open_alert_id:
        effects.append(CloseResponseAlert(state.open_alert_id, actor_id, at, f"reassigned to {rep_id}"))
    answered = state.first_response is not None
    deadline = None if answered else at + limit
    moved = replace(
        state,
        owner_id=rep_id,
        assignments=(*history, Assignment(rep_id, at, deadline))[-MAX_ASSIGNMENTS:],
        version=state.version + 1,
    )
    effects.append(DisarmResponseTimer() if deadline is None else ArmResponseTimer(rep_id, at, deadline))
    return Outcome(moved, tuple(effects))


def contacted(state: LeadState, contact: Contact, min_call_duration: timedelta) -> Outcome:
    """The first valid response of the rep the lead is assigned to, made after the
    assignment, answers the lead. Contacts by anyone else, before the assignment, or
    after the first response change nothing here (duplicate touches are judged apart)."""
    current = state.current
    unchanged = Outcome(replace(state, version=state.version + 1))
    if (
        current is None
        or state.first_response is not None
        or state.opportunity_id
        or contact.rep_id != current.rep_id
        or contact.at < current.assigned_at
        or not contact.is_valid_response(min_call_duration)
    ):
        return unchanged
    answered = replace(
        current, responded_at=contact.at, response_kind=contact.kind, response_activity_id=contact.activity_id
    )
    effects: list[Effect] = [DisarmResponseTimer()]
    if current.alert_id:
        late = contact.at - current.deadline if current.deadline else timedelta(0)
        effects.append(
            CloseResponseAlert(
                current.alert_id, contact.rep_id, contact.at, f"answered by {contact.kind.value} {_minutes(late)} late"
            )
        )
    return Outcome(replace(state, assignments=_replace_current(state, answered), version=state.version + 1), tuple(effects))


def response_alert_id(state: LeadState, rep_id: str, deadline: datetime) -> str:
    """Deterministic, so a redelivered deadline raises the alert it already raised."""
    return str(uuid.uuid5(_ALERT_NAMESPACE, f"{state.key}\x1f{rep_id}\x1f{deadline.isoformat()}"))


def response_deadline_reached(state: LeadState, rep_id: str, deadline: datetime) -> Outcome:
    """Raise the alert once, and only if this deadline is still the lead's current one
    and unanswered (a response or a reassignment since then superseded it)."""
    current = state.current
    if (
        current is None
        or current.rep_id != rep_id
        or current.deadline != deadline
        or current.responded_at is not None
        or current.alert_id
        or state.first_response is not None
        or state.opportunity_id
    ):
        return Outcome(state)
    alert_id = response_alert_id(state, rep_id, deadline)
    overdue = replace(current, overdue=True, alert_id=alert_id)
    alerted = replace(state, assignments=_replace_current(state, overdue), version=state.version + 1)
    return Outcome(alerted, (RaiseResponseAlert(alert_id, alerted, rep_id, current.assigned_at, deadline),))


def converted(state: LeadState, opportunity_id: str, at: datetime, actor_id: str) -> Outcome:
    if state.opportunity_id:
        return Outcome(replace(state, version=state.version + 1))
    effects: list[Effect] = [DisarmResponseTimer()]
    if state.open_alert_id:
        effects.append(CloseResponseAlert(state.open_alert_id, actor_id, at, f"converted to opportunity {opportunity_id}"))
    return Outcome(replace(state, opportunity_id=opportunity_id, converted_at=at, version=state.version + 1), tuple(effects))


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:.1f} min"


# --- response-time distributions ----------------------------------------------------------
@dataclass(frozen=True)
class Distribution:
    id: str
    assignments: int = 0
    answered: int = 0
    answered_within_limit: int = 0
    overdue_unanswered: int = 0
    pending: int = 0
    p50_seconds: float = 0.0
    p90_seconds: float = 0.0
    within_limit_percent: float = 0.0
    lead_ids: tuple[str, ...] = ()


def percentile(values: list[float], q: float) -> float:
    """Nearest rank (q in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _distribution(group_id: str, rows: list[tuple[str, Assignment]], now: datetime) -> Distribution:
    times: list[float] = []
    within = overdue = pending = 0
    for _, a in rows:
        if a.responded_at is not None:
            times.append(a.response_time.total_seconds())
            within += a.responded_at <= a.deadline
        elif a.deadline <= now:
            overdue += 1
        else:
            pending += 1
    decided = len(times) + overdue
    return Distribution(
        id=group_id,
        assignments=len(rows),
        answered=len(times),
        answered_within_limit=within,
        overdue_unanswered=overdue,
        pending=pending,
        p50_seconds=percentile(times, 50),
        p90_seconds=percentile(times, 90),
        within_limit_percent=round(100 * within / decided, 2) if decided else 0.0,
        lead_ids=tuple(sorted({lead_id for lead_id, _ in rows})),
    )


def _counted(a: Assignment, since: datetime, until: datetime) -> bool:
    """Assignments that waited for a response in the period; one reassigned away
    unanswered before its deadline was never given its full time, so it is left out."""
    if not a.awaited_response or not since <= a.assigned_at < until:
        return False
    return not (a.responded_at is None and a.ended_at is not None and a.ended_at < a.deadline)


@dataclass(frozen=True)
class ResponseStats:
    reps: tuple[Distribution, ...]
    teams: tuple[Distribution, ...]
    total: Distribution


def response_stats(
    leads: Iterable[LeadState], manager_of: Mapping[str, str], since: datetime, until: datetime, now: datetime
) -> ResponseStats:
    """First-response times of the assignments made in [since, until), per rep, per team
    (the rep's manager) and in total. A late response counts as answered, not within
    the limit; an assignment still unanswered past its deadline counts against the share."""
    rows = [(lead.lead_id, a) for lead in leads for a in lead.assignments if _counted(a, since, until)]
    by_rep: dict[str, list] = {}
    by_team: dict[str, list] = {}
    for lead_id, a in rows:
        by_rep.setdefault(a.rep_id, []).append((lead_id, a))
        by_team.setdefault(manager_of.get(a.rep_id, ""), []).append((lead_id, a))
    return ResponseStats(
        reps=tuple(_distribution(rep, found, now) for rep, found in sorted(by_rep.items())),
        teams=tuple(_distribution(team, found, now) for team, found in sorted(by_team.items())),
        total=_distribution("", rows, now),
    )
