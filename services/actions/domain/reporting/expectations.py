"""What each opportunity owes: the mandatory template actions of its current stage,
each due a fixed offset after the stage was entered, and the aggregate changes each
opportunity fact causes.

The stream adapter keeps one `TrackedOpportunity` per opportunity and applies the
returned `Change`s (counter increments and drill-down entries per rep and tenant-local
ISO week of the due time) in the same Redis transaction, so the weekly report reads a
handful of counters instead of millions of action records.

Counting rules (what "action completion rate" means):
- an expectation is counted in the week its due time falls in;
- it is done on time when a valid submission arrives at or before its due time, late
  after that (a late action is still missing for that week, and the drill-down says
  when it was done);
- leaving the stage before the due time withdraws it (nobody owes an action of a stage
  the deal has left); an overdue one stays missing;
- invalid submissions count only toward quality (the share of valid submissions).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.actions.domain.errors import InvalidCommand
from services.actions.domain.pipeline import is_closed
from services.actions.domain.reporting.calendar import Week
from services.actions.domain.templates.model import Stage, TemplateRef

DUE = "due"
DONE_ON_TIME = "done_on_time"
DONE_LATE = "done_late"
WITHDRAWN = "withdrawn"
SUBMITTED = "submitted"
SUBMITTED_VALID = "submitted_valid"
COMPLIANCE_METRICS = (DUE, DONE_ON_TIME, DONE_LATE, WITHDRAWN, SUBMITTED, SUBMITTED_VALID)

# Follow-up cohort metrics, counted in the week the opportunity was assigned.
ASSIGNED = "assigned"
ADVANCED = "advanced"
CYCLE_SECONDS = "cycle_seconds"
ADVANCED_FIRST_WEEK = "advanced_first_week"
FOLLOWUP_METRICS = (ASSIGNED, ADVANCED, CYCLE_SECONDS, ADVANCED_FIRST_WEEK)
FIRST_WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Expectation:
    action_id: str
    name_en: str
    name_zh: str
    due: datetime
    done_at: datetime | None = None


@dataclass(frozen=True)
class TrackedOpportunity:
    tenant_id: str
    opportunity_id: str
    name: str
    owner_id: str
    amount_cents: int
    currency: str
    template: TemplateRef | None
    stage: str
    opened_at: datetime
    stage_entered_at: datetime
    stall_threshold: timedelta
    # The first stage the opportunity was assigned in, and when it first moved on
    # (to anything but a loss): the lead follow-up cycle.
    first_stage: str
    advanced_at: datetime | None = None
    last_valid_action_at: datetime | None = None
    expectations: tuple[Expectation, ...] = ()
    # Action ids already counted: a command retried with the same id counts once.
    seen_actions: frozenset[str] = field(default_factory=frozenset)

    @property
    def open_expectations(self) -> tuple[Expectation, ...]:
        return tuple(e for e in self.expectations if e.done_at is None)

    @property
    def stall_deadline(self) -> datetime | None:
        if is_closed(self.stage):
            return None
        quiet_since = max(filter(None, (self.stage_entered_at, self.last_valid_action_at)))
        return quiet_since + self.stall_threshold


@dataclass(frozen=True)
class Count:
    """Add `amount` to a rep's `metric` in a week."""

    rep_id: str
    week: Week
    metric: str
    amount: int = 1


@dataclass(frozen=True)
class MissingEntry:
    """One drill-down row: an expectation that is (or was, until done late) missing."""

    rep_id: str
    week: Week
    opportunity_id: str
    opportunity_name: str
    stage: str
    action_id: str
    action_name_en: str
    action_name_zh: str
    due: datetime
    done_late_at: datetime | None = None

    @property
    def key(self) -> str:
        return drilldown_key(self.rep_id, self.opportunity_id, self.stage, self.action_id)


def drilldown_key(rep_id: str, opportunity_id: str, stage: str, action_id: str) -> str:
    return "\x1f".join((rep_id, opportunity_id, stage, action_id))


@dataclass(frozen=True)
class Forget:
    """Remove a drill-down row (done on time, or withdrawn)."""

    rep_id: str
    week: Week
    key: str


@dataclass(frozen=True)
class FollowUpCount:
    """Add `amount` to a rep's follow-up cohort `metric` (week of assignment)."""

    rep_id: str
    week: Week
    metric: str
    amount: int = 1


Change = Count | MissingEntry | Forget | FollowUpCount


@dataclass(frozen=True)
class Applied:
    state: TrackedOpportunity
    changes: tuple[Change, ...] = ()


def _expectations_for(stage: Stage | None, entered_at: datetime) -> tuple[Expectation, ...]:
    if stage is None:
        return ()
    return tuple(
        Expectation(a.id, a.name.en, a.name.zh, entered_at + a.due_offset) for a in stage.mandatory_actions
    )


def _registered(state: TrackedOpportunity, tz: ZoneInfo) -> list[Change]:
    changes: list[Change] = []
    for e in state.expectations:
        week = Week.containing(e.due, tz)
        changes.append(Count(state.owner_id, week, DUE))
        changes.append(_missing(state, e, week))
    return changes


def _missing(state: TrackedOpportunity, e: Expectation, week: Week, done_late_at: datetime | None = None) -> MissingEntry:
    return MissingEntry(
        state.owner_id, week, state.opportunity_id, state.name, state.stage, e.action_id, e.name_en, e.name_zh, e.due,
        done_late_at,
    )


def _check_stage(template: TemplateRef | None, stage: Stage | None, stage_id: str) -> None:
    if template is not None and stage is not None and stage.id != stage_id:
        raise InvalidCommand("stage", f"the template stage given is '{stage.id}', the opportunity is in '{stage_id}'")


def opened(
    *,
    tenant_id: str,
    opportunity_id: str,
    name: str,
    owner_id: str,
    amount_cents: int,
    currency: str,
    template: TemplateRef | None,
    stage: str,
    stage_spec: Stage | None,
    at: datetime,
    stall_threshold: timedelta,
    tz: ZoneInfo,
) -> Applied:
    """A new opportunity, assigned to its owner in its first stage. `stage_spec` is the
    template's definition of that stage (None without a template)."""
    if at.tzinfo is None:
        raise InvalidCommand("at", "must be timezone-aware")
    if not owner_id:
        raise InvalidCommand("owner_id", "is required")
    _check_stage(template, stage_spec, stage)
    state = TrackedOpportunity(
        tenant_id=tenant_id,
        opportunity_id=opportunity_id,
        name=name,
        owner_id=owner_id,
        amount_cents=amount_cents,
        currency=currency,
        template=template,
        stage=stage,
        opened_at=at,
        stage_entered_at=at,
        stall_threshold=stall_threshold,
        first_stage=stage,
        expectations=_expectations_for(stage_spec, at),
    )
    changes: list[Change] = [FollowUpCount(owner_id, Week.containing(at, tz), ASSIGNED)]
    changes.extend(_registered(state, tz))
    return Applied(state, tuple(changes))


def stage_changed(
    state: TrackedOpportunity,
    *,
    from_stage: str,
    to_stage: str,
    to_stage_spec: Stage | None,
    at: datetime,
    stall_threshold: timedelta,
    tz: ZoneInfo,
) -> Applied:
    """The opportunity moved on. A move validated against a stage it is no longer in
    was not applied by the actions service either, so it changes nothing here."""
    if from_stage != state.stage or is_closed(state.stage) or to_stage == state.stage:
        return Applied(state)
    _check_stage(state.template, to_stage_spec, to_stage)
    changes: list[Change] = []
    for e in state.open_expectations:
        if e.due > at:
            week = Week.containing(e.due, tz)
            changes.append(Count(state.owner_id, week, WITHDRAWN))
            changes.append(Forget(state.owner_id, week, drilldown_key(state.owner_id, state.opportunity_id, state.stage, e.action_id)))
    advanced_at = state.advanced_at
    if advanced_at is None and to_stage != "closed_lost":
        advanced_at = at
        cohort = Week.containing(state.opened_at, tz)
        cycle = max(0, int((at - state.opened_at).total_seconds()))
        changes.append(FollowUpCount(state.owner_id, cohort, ADVANCED))
        changes.append(FollowUpCount(state.owner_id, cohort, CYCLE_SECONDS, cycle))
        if at - state.opened_at <= FIRST_WEEK:
            changes.append(FollowUpCount(state.owner_id, cohort, ADVANCED_FIRST_WEEK))
    moved = replace(
        state,
        stage=to_stage,
        stage_entered_at=at,
        stall_threshold=stall_threshold,
        advanced_at=advanced_at,
        last_valid_action_at=None,
        expectations=() if is_closed(to_stage) else _expectations_for(to_stage_spec, at),
    )
    changes.extend(_registered(moved, tz))
    return Applied(moved, tuple(changes))


def action_recorded(
    state: TrackedOpportunity,
    *,
    action_id: str,
    template_action_id: str,
    valid: bool,
    at: datetime,
    tz: ZoneInfo,
) -> Applied:
    """A submission: counted for quality in the week it was made; if valid and it is a
    mandatory action of the current stage, it completes that expectation."""
    if not action_id:
        raise InvalidCommand("action_id", "is required")
    if action_id in state.seen_actions:
        return Applied(state)
    submitted_week = Week.containing(at, tz)
    changes: list[Change] = [Count(state.owner_id, submitted_week, SUBMITTED)]
    if valid:
        changes.append(Count(state.owner_id, submitted_week, SUBMITTED_VALID))
    seen = state.seen_actions | {action_id}
    if not valid or is_closed(state.stage) or at < state.stage_entered_at:
        return Applied(replace(state, seen_actions=seen), tuple(changes))
    expectations = list(state.expectations)
    for i, e in enumerate(expectations):
        if e.action_id != template_action_id or e.done_at is not None:
            continue
        expectations[i] = replace(e, done_at=at)
        week = Week.containing(e.due, tz)
        if at <= e.due:
            changes.append(Count(state.owner_id, week, DONE_ON_TIME))
            changes.append(Forget(state.owner_id, week, drilldown_key(state.owner_id, state.opportunity_id, state.stage, e.action_id)))
        else:
            changes.append(Count(state.owner_id, week, DONE_LATE))
            changes.append(_missing(state, e, week, done_late_at=at))
        break
    # One copy of the state per submission: this runs for every action record.
    updated = replace(
        state,
        seen_actions=seen,
        last_valid_action_at=max(filter(None, (state.last_valid_action_at, at))),
        expectations=tuple(expectations),
    )
    return Applied(updated, tuple(changes))
