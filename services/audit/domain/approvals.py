"""The approval engine: multi-step approval workflows as a pure state machine.
Definitions are data (services/audit/workflows/*.yaml, loaded by `workflows.py`).

A `WorkflowDefinition` is a sequence of stages; a stage is one `Step`, or a
`ParallelGroup` whose steps all have to approve, in any order. A stage's steps open
together once the stage before it is fully approved. Each step names the roles that may
decide it, a deadline, and the role it escalates to when the deadline passes.

Functions go from (request, fact) to `Outcome(new request, effects)`. The adapter keeps
requests as a projection of their events (keyed `tenant/request`), applies facts in that
order and carries the effects out: arm and disarm step deadlines (ADR 0001), notify
people, and — on `RequestApproved` — apply the change as source SYSTEM, recording an
audit record whose reason names the request. A change a policy denies to every person
(the customer grade after closed-won) reaches the record only this way.

The rules:
- Only a holder of one of a step's approver roles decides it; once the step has been
  escalated, holders of its escalation role may decide it too.
- The submitter never decides their own request. With `distinct_approvers` (the default)
  one person decides at most one step of a request: four eyes mean two people.
- A rejection needs a reason; an approval needs one where the step says so.
- Decisions are final. One rejection ends the request; it is approved when every step
  of the last stage has approved.
- Every decision carries a caller-chosen `decision_id`. Repeating one (same step, actor,
  verdict and reason) returns the request unchanged and no effects, even after the
  request has finished, so a client retrying after a timeout is safe. Reusing the id for
  another decision is a conflict, and so is a second decision by the same actor on a step
  they already decided.
- `escalate_overdue` escalates each overdue step once, however often it is called.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from services.audit.domain.audit_log import JsonValue, check_json_value
from services.audit.domain.errors import Conflict, Forbidden, InvalidCommand, PreconditionFailed
from services.audit.domain.roles import KNOWN_ROLES

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class Verdict(str, Enum):
    APPROVE = "approve"
    REJECT = "reject"


class RequestStatus(str, Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class WrongRole(Forbidden):
    """The actor holds none of the roles the step needs; `required_roles` lists them."""

    def __init__(self, message: str, required_roles: frozenset[str]) -> None:
        super().__init__(message)
        self.required_roles = required_roles


# --- definitions ----------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    approver_roles: frozenset[str]
    deadline: timedelta
    escalation_role: str
    # Rejections always need a reason; some approvals (overriding a rule) need one too.
    reason_required: bool = False


@dataclass(frozen=True)
class ParallelGroup:
    """Steps that open together and must all approve before the workflow moves on."""

    steps: tuple[Step, ...]


Stage = Step | ParallelGroup


def _steps_of(stage: Stage) -> tuple[Step, ...]:
    return stage.steps if isinstance(stage, ParallelGroup) else (stage,)


@dataclass(frozen=True)
class WorkflowDefinition:
    name: str
    version: int
    description: str
    # What a request of this workflow may change.
    entity_type: str
    field: str
    submitter_roles: frozenset[str]
    stages: tuple[Stage, ...]
    # Roles told about the change once it is approved (besides the submitter).
    notify_on_approval: tuple[str, ...] = ()
    distinct_approvers: bool = True
    _stage_of_step: dict[str, int] = dataclasses.field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise InvalidCommand("name", f"{self.name!r} must be lowercase letters, digits and '_'")
        if self.version < 1:
            raise InvalidCommand("version", "must be at least 1")
        if not _NAME.match(self.entity_type) or not _NAME.match(self.field):
            raise InvalidCommand("entity_type", "entity type and field must be lowercase letters, digits and '_'")
        _require_roles(self.submitter_roles, "submitter_roles")
        _require_roles(frozenset(self.notify_on_approval), "notify_on_approval", allow_empty=True)
        if not self.stages:
            raise InvalidCommand("stages", "a workflow needs at least one step")
        stage_of: dict[str, int] = {}
        for index, stage in enumerate(self.stages):
            path = f"stages[{index}]"
            if isinstance(stage, ParallelGroup) and len(stage.steps) < 2:
                raise InvalidCommand(path, "a parallel group needs at least two steps; use a single step")
            for position, step in enumerate(_steps_of(stage)):
                step_path = f"{path}.steps[{position}]" if isinstance(stage, ParallelGroup) else path
                _validate_step(step, step_path)
                if step.name in stage_of:
                    raise InvalidCommand(f"{step_path}.name", f"step name {step.name!r} is used twice")
                stage_of[step.name] = index
        object.__setattr__(self, "_stage_of_step", stage_of)

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(step for stage in self.stages for step in _steps_of(stage))

    def step(self, name: str) -> Step:
        if name not in self._stage_of_step:
            known = ", ".join(step.name for step in self.steps)
            raise InvalidCommand("step", f"unknown step {name!r}; workflow {self.name} has steps {known}")
        return next(step for step in _steps_of(self.stages[self._stage_of_step[name]]) if step.name == name)

    def stage_of(self, step_name: str) -> int:
        self.step(step_name)
        return self._stage_of_step[step_name]


def _require_roles(roles: frozenset[str], path: str, allow_empty: bool = False) -> None:
    if not roles and not allow_empty:
        raise InvalidCommand(path, "needs at least one role")
    unknown = sorted(set(roles) - KNOWN_ROLES)
    if unknown:
        raise InvalidCommand(path, f"unknown roles {', '.join(unknown)}; roles are {', '.join(sorted(KNOWN_ROLES))}")


def _validate_step(step: Step, path: str) -> None:
    if not _NAME.match(step.name):
        raise InvalidCommand(f"{path}.name", f"{step.name!r} must be lowercase letters, digits and '_'")
    _require_roles(step.approver_roles, f"{path}.approver_roles")
    _require_roles(frozenset({step.escalation_role}), f"{path}.escalation_role")
    if step.deadline <= timedelta(0):
        raise InvalidCommand(f"{path}.deadline", "must be positive")


# --- requests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposedChange:
    """What an approved request applies: one field of one record, from `before` to `after`."""

    entity_type: str
    entity_id: str
    field: str
    before: JsonValue
    after: JsonValue

    def describe(self) -> str:
        return f"{self.entity_type} {self.entity_id}: {self.field} {self.before!r} → {self.after!r}"


@dataclass(frozen=True)
class StepDecision:
    decision_id: str
    step: str
    actor_id: str
    verdict: Verdict
    reason: str
    at: datetime
    # The actor's roles that entitled them to decide the step.
    actor_roles: tuple[str, ...] = ()

    def same_as(self, other: "StepDecision") -> bool:
        """The same decision, retried (its time may differ)."""
        return (self.step, self.actor_id, self.verdict, self.reason) == (
            other.step,
            other.actor_id,
            other.verdict,
            other.reason,
        )


@dataclass(frozen=True)
class StepState:
    name: str
    opened_at: datetime
    due_at: datetime
    escalated: bool = False
    decision: StepDecision | None = None


@dataclass(frozen=True)
class ApprovalRequest:
    request_id: str
    tenant_id: str
    workflow: WorkflowDefinition  # kept whole: editing a definition never moves requests in flight
    change: ProposedChange
    submitted_by: str
    submitted_at: datetime
    reason: str
    status: RequestStatus
    stage_index: int
    steps: tuple[StepState, ...]  # the steps opened so far, in opening order
    decisions: tuple[StepDecision, ...] = ()
    version: int = 1
    submitter_roles: tuple[str, ...] = ()

    def step_state(self, name: str) -> StepState | None:
        return next((state for state in self.steps if state.name == name), None)

    @property
    def open_steps(self) -> tuple[StepState, ...]:
        if self.status is not RequestStatus.PENDING:
            return ()
        return tuple(state for state in self.steps if state.decision is None)


# --- effects ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StepOpened:
    """Arm the step's deadline and show it to its approvers."""

    request_id: str
    step: str
    approver_roles: frozenset[str]
    due_at: datetime


@dataclass(frozen=True)
class StepCompleted:
    """Disarm the step's deadline."""

    request_id: str
    step: str
    verdict: Verdict
    actor_id: str
    reason: str


@dataclass(frozen=True)
class StepCancelled:
    """A parallel sibling of a rejected step: disarm its deadline, nobody needs to decide."""

    request_id: str
    step: str


@dataclass(frozen=True)
class StepEscalated:
    request_id: str
    step: str
    escalation_role: str
    due_at: datetime


@dataclass(frozen=True)
class NotifyRole:
    """Tell the people holding `role` for the subject (e.g. the account's marketing
    contact); the adapter resolves who they are."""

    request_id: str
    role: str
    message: str


@dataclass(frozen=True)
class NotifyActor:
    request_id: str
    actor_id: str
    message: str


@dataclass(frozen=True)
class RequestApproved:
    """Apply `change` (as source SYSTEM, reason naming the request)."""

    request_id: str
    tenant_id: str
    workflow: str
    change: ProposedChange
    approved_by: tuple[str, ...]


@dataclass(frozen=True)
class RequestRejected:
    request_id: str
    tenant_id: str
    workflow: str
    change: ProposedChange
    step: str
    rejected_by: str
    reason: str


Effect = (
    StepOpened
    | StepCompleted
    | StepCancelled
    | StepEscalated
    | NotifyRole
    | NotifyActor
    | RequestApproved
    | RequestRejected
)


@dataclass(frozen=True)
class Outcome:
    state: ApprovalRequest
    effects: tuple[Effect, ...] = ()


# --- transitions ------------------------------------------------------------------------


def _require_id(value: str, name: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise InvalidCommand(name, "must be 1-128 characters of letters, digits, '.', '_', ':' or '-'")
    return value


def _require_reason(reason: str, name: str, why: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidCommand(name, f"is required: {why}")
    if len(reason) > 2000:
        raise InvalidCommand(name, "must be at most 2000 characters")
    return reason.strip()


def _require_time(moment: datetime, name: str) -> None:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise InvalidCommand(name, "must be a datetime with a time zone")


def _open_stage(request: ApprovalRequest, index: int, at: datetime) -> tuple[ApprovalRequest, list[Effect]]:
    effects: list[Effect] = []
    opened = []
    for step in _steps_of(request.workflow.stages[index]):
        due_at = at + step.deadline
        opened.append(StepState(step.name, at, due_at))
        effects.append(StepOpened(request.request_id, step.name, step.approver_roles, due_at))
        for role in sorted(step.approver_roles):
            message = (
                f"{request.workflow.name} request {request.request_id} ({request.change.describe()}) "
                f"awaits step {step.name}, due {due_at.isoformat()}"
            )
            effects.append(NotifyRole(request.request_id, role, message))
    return replace(request, stage_index=index, steps=(*request.steps, *opened)), effects


def submit(
    workflow: WorkflowDefinition,
    *,
    request_id: str,
    tenant_id: str,
    change: ProposedChange,
    submitted_by: str,
    submitter_roles: Iterable[str],
    reason: str,
    at: datetime,
    existing: ApprovalRequest | None = None,
) -> Outcome:
    """Open a request and its first stage. `existing` is the request already stored under
    `request_id`, if any: submitting it again returns it unchanged."""
    _require_id(request_id, "request_id")
    _require_id(tenant_id, "tenant_id")
    _require_id(submitted_by, "submitted_by")
    _require_id(change.entity_id, "change.entity_id")
    _require_time(at, "at")
    reason = _require_reason(reason, "reason", "say why the change is needed")
    if (change.entity_type, change.field) != (workflow.entity_type, workflow.field):
        raise InvalidCommand(
            "change.field",
            f"workflow {workflow.name} changes {workflow.entity_type}.{workflow.field}, "
            f"not {change.entity_type}.{change.field}",
        )
    check_json_value(change.before, "change.before")
    check_json_value(change.after, "change.after")
    if change.before == change.after:
        raise InvalidCommand("change.after", "equals the current value; there is nothing to approve")
    roles = frozenset(submitter_roles)
    if roles.isdisjoint(workflow.submitter_roles):
        raise WrongRole(
            f"submitting {workflow.name} needs one of the roles {', '.join(sorted(workflow.submitter_roles))}; "
            f"{submitted_by} has {', '.join(sorted(roles)) or 'none'}",
            workflow.submitter_roles,
        )
    if existing is not None:
        same = (
            existing.tenant_id,
            existing.workflow.name,
            existing.workflow.version,
            existing.change,
            existing.submitted_by,
            existing.reason,
        ) == (tenant_id, workflow.name, workflow.version, change, submitted_by, reason)
        if same:
            return Outcome(existing)
        raise Conflict(f"request {request_id} already exists with other details")
    request = ApprovalRequest(
        request_id=request_id,
        tenant_id=tenant_id,
        workflow=workflow,
        change=change,
        submitted_by=submitted_by,
        submitted_at=at,
        reason=reason,
        status=RequestStatus.PENDING,
        stage_index=0,
        steps=(),
        submitter_roles=tuple(sorted(roles)),
    )
    opened, effects = _open_stage(request, 0, at)
    return Outcome(opened, tuple(effects))


def decide(
    request: ApprovalRequest,
    *,
    actor_id: str,
    actor_roles: Iterable[str],
    step: str,
    verdict: Verdict | str,
    reason: str,
    decision_id: str,
    at: datetime,
) -> Outcome:
    """Record one approver's verdict on one step."""
    _require_id(decision_id, "decision_id")
    _require_id(actor_id, "actor_id")
    _require_time(at, "at")
    try:
        verdict = Verdict(verdict)
    except ValueError:
        raise InvalidCommand("verdict", f"must be one of {', '.join(v.value for v in Verdict)}") from None
    reason = reason.strip() if isinstance(reason, str) else reason
    decision = StepDecision(decision_id, step, actor_id, verdict, reason, at)

    for previous in request.decisions:
        if previous.decision_id == decision_id:
            if previous.same_as(decision):
                return Outcome(request)  # a retry: nothing new happens
            raise Conflict(
                f"decision {decision_id} was already used by {previous.actor_id} to {previous.verdict.value} "
                f"step {previous.step}; a new decision needs a new id"
            )

    workflow = request.workflow
    definition = workflow.step(step)
    if at < request.submitted_at:
        raise InvalidCommand("at", f"is before request {request.request_id} was submitted")
    state = request.step_state(step)
    done = state.decision if state is not None else None
    if done is not None and done.actor_id == actor_id:
        raise Conflict(
            f"{actor_id} already decided to {done.verdict.value} step {step} (decision {done.decision_id}); "
            "decisions are final"
        )
    if request.status is not RequestStatus.PENDING:
        raise PreconditionFailed(
            f"request {request.request_id} is already {request.status.value}; it takes no decisions"
        )
    if done is not None:
        raise PreconditionFailed(f"step {step} was already decided by {done.actor_id}")
    if state is None:
        current = ", ".join(s.name for s in request.open_steps)
        raise PreconditionFailed(f"step {step} is not open yet; request {request.request_id} waits for {current}")

    allowed_roles = definition.approver_roles | ({definition.escalation_role} if state.escalated else frozenset())
    roles = frozenset(actor_roles)
    if roles.isdisjoint(allowed_roles):
        raise WrongRole(
            f"step {step} of {workflow.name} needs one of the roles {', '.join(sorted(allowed_roles))}; "
            f"{actor_id} has {', '.join(sorted(roles)) or 'none'}",
            allowed_roles,
        )
    if actor_id == request.submitted_by:
        raise Forbidden(f"{actor_id} submitted request {request.request_id} and cannot decide it")
    if workflow.distinct_approvers:
        other = next((d for d in request.decisions if d.actor_id == actor_id), None)
        if other is not None:
            raise Forbidden(
                f"{actor_id} already decided step {other.step}; workflow {workflow.name} needs a different person "
                "for each step"
            )
    if verdict is Verdict.REJECT:
        reason = _require_reason(reason, "reason", "a rejection must say why")
    elif definition.reason_required:
        reason = _require_reason(reason, "reason", f"step {step} approves only with a reason")
    elif not isinstance(reason, str):
        raise InvalidCommand("reason", "must be text")
    decision = replace(decision, reason=reason, actor_roles=tuple(sorted(roles & allowed_roles)))

    decided = replace(
        request,
        steps=tuple(replace(s, decision=decision) if s.name == step else s for s in request.steps),
        decisions=(*request.decisions, decision),
        version=request.version + 1,
    )
    effects: list[Effect] = [StepCompleted(request.request_id, step, verdict, actor_id, reason)]
    if verdict is Verdict.REJECT:
        return _rejected(decided, decision, effects)
    if any(s.decision is None for s in decided.steps):
        return Outcome(decided, tuple(effects))  # a parallel sibling still has to decide
    next_stage = decided.stage_index + 1
    if next_stage < len(workflow.stages):
        opened, opening = _open_stage(decided, next_stage, at)
        return Outcome(opened, (*effects, *opening))
    return _approved(decided, effects)


def _rejected(request: ApprovalRequest, decision: StepDecision, effects: list[Effect]) -> Outcome:
    for sibling in request.steps:
        if sibling.decision is None:
            effects.append(StepCancelled(request.request_id, sibling.name))
    effects.append(
        RequestRejected(
            request.request_id,
            request.tenant_id,
            request.workflow.name,
            request.change,
            decision.step,
            decision.actor_id,
            decision.reason,
        )
    )
    effects.append(
        NotifyActor(
            request.request_id,
            request.submitted_by,
            f"{decision.actor_id} rejected {request.change.describe()} at step {decision.step}: {decision.reason}",
        )
    )
    return Outcome(replace(request, status=RequestStatus.REJECTED), tuple(effects))


def _approved(request: ApprovalRequest, effects: list[Effect]) -> Outcome:
    approvers = tuple(d.actor_id for d in request.decisions)
    effects.append(
        RequestApproved(request.request_id, request.tenant_id, request.workflow.name, request.change, approvers)
    )
    message = f"approved by {', '.join(approvers)}: {request.change.describe()}"
    for role in request.workflow.notify_on_approval:
        effects.append(NotifyRole(request.request_id, role, message))
    effects.append(NotifyActor(request.request_id, request.submitted_by, message))
    return Outcome(replace(request, status=RequestStatus.APPROVED), tuple(effects))


def escalate_overdue(request: ApprovalRequest, now: datetime) -> Outcome:
    """Escalate every open step whose deadline has passed, once each. The escalation
    role is notified and may decide the step from then on."""
    _require_time(now, "now")
    overdue = [s for s in request.open_steps if s.due_at <= now and not s.escalated]
    if not overdue:
        return Outcome(request)
    effects: list[Effect] = []
    names = {s.name for s in overdue}
    for state in overdue:
        step = request.workflow.step(state.name)
        effects.append(StepEscalated(request.request_id, step.name, step.escalation_role, state.due_at))
        effects.append(
            NotifyRole(
                request.request_id,
                step.escalation_role,
                f"{request.workflow.name} request {request.request_id} ({request.change.describe()}) is overdue at "
                f"step {step.name} (due {state.due_at.isoformat()}); you may now decide it",
            )
        )
    escalated = replace(
        request,
        steps=tuple(replace(s, escalated=True) if s.name in names else s for s in request.steps),
        version=request.version + 1,
    )
    return Outcome(escalated, tuple(effects))


# --- who sees what ----------------------------------------------------------------------


def _allowed_roles(request: ApprovalRequest, state: StepState) -> frozenset[str]:
    step = request.workflow.step(state.name)
    return step.approver_roles | ({step.escalation_role} if state.escalated else frozenset())


def decidable_steps(request: ApprovalRequest, actor_id: str, actor_roles: Iterable[str]) -> tuple[str, ...]:
    """The open steps `actor_id` may decide now (what their pending list shows)."""
    roles = frozenset(actor_roles)
    if request.status is not RequestStatus.PENDING or actor_id == request.submitted_by:
        return ()
    if request.workflow.distinct_approvers and any(d.actor_id == actor_id for d in request.decisions):
        return ()
    return tuple(s.name for s in request.open_steps if not roles.isdisjoint(_allowed_roles(request, s)))


def may_view(request: ApprovalRequest, actor_id: str, actor_roles: Iterable[str], auditors: frozenset[str]) -> bool:
    """The submitter, the deciders, holders of any role the workflow's steps name, and
    auditors may read a request."""
    roles = frozenset(actor_roles)
    if actor_id == request.submitted_by or any(d.actor_id == actor_id for d in request.decisions):
        return True
    involved = set(auditors)
    for step in request.workflow.steps:
        involved |= step.approver_roles | {step.escalation_role}
    return not roles.isdisjoint(involved)
