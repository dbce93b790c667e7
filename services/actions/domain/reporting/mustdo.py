"""The daily must-do list: each rep's most important tasks for the day, each with its
due time, its attachment template, and why it ranks where it does.

A task is a mandatory action of an open opportunity's current stage that has no valid
evidence yet. Its score is a weighted sum of four factors, each between 0 and 1:
- deadline: 1 when overdue, falling linearly to 0 at `horizon` away;
- stall risk: how much of the stall threshold has run since the last valid action
  (1 when the opportunity is already stalled);
- deal value: the amount relative to the rep's largest open deal;
- stage gate: 1 / (mandatory actions still missing in the stage), so the last action
  that unblocks a gate ranks above one of many.
Ties go to the earlier due time, then ids, so the same facts give the same list.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.actions.domain.errors import InvalidCommand
from services.actions.domain.reporting.expectations import TrackedOpportunity
from services.actions.domain.templates.model import Stage

_NAMESPACE = uuid.UUID("5d0f8c1e-7a2b-4e9c-b3d4-1f2e3a4b5c6d")
DEFAULT_TASK_COUNT = 3


@dataclass(frozen=True)
class RankingWeights:
    deadline: float = 0.40
    stall_risk: float = 0.25
    deal_value: float = 0.20
    stage_gate: float = 0.15
    # A deadline further away than this adds nothing to urgency.
    horizon: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        weights = (self.deadline, self.stall_risk, self.deal_value, self.stage_gate)
        for name, value in zip(("deadline", "stall_risk", "deal_value", "stage_gate"), weights):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise InvalidCommand(f"weights.{name}", f"must be a number, not negative; got {value!r}")
        if not sum(weights) > 0:
            raise InvalidCommand("weights", "at least one weight must be more than 0")
        if not isinstance(self.horizon, timedelta) or self.horizon <= timedelta(0):
            raise InvalidCommand("weights.horizon", "must be a positive duration")


@dataclass(frozen=True)
class Candidate:
    opportunity_id: str
    opportunity_name: str
    stage: str
    action_id: str
    action_name_en: str
    action_name_zh: str
    due: datetime
    amount_cents: int
    currency: str
    stall_deadline: datetime | None
    stall_threshold: timedelta
    # Mandatory actions of the stage still without valid evidence (this one included).
    gate_gaps: int
    requirement: str
    attachment_file: str = ""
    attachment_description_en: str = ""
    attachment_description_zh: str = ""


def candidates_for(opportunity: TrackedOpportunity, stage: Stage | None) -> list[Candidate]:
    """The open mandatory actions of an opportunity's current stage."""
    if stage is None or stage.id != opportunity.stage:
        return []
    still_open = opportunity.open_expectations
    found = []
    for e in still_open:
        spec = stage.action(e.action_id)
        if spec is None:
            continue
        attachment = spec.attachment_template
        found.append(
            Candidate(
                opportunity_id=opportunity.opportunity_id,
                opportunity_name=opportunity.name,
                stage=opportunity.stage,
                action_id=e.action_id,
                action_name_en=e.name_en,
                action_name_zh=e.name_zh,
                due=e.due,
                amount_cents=opportunity.amount_cents,
                currency=opportunity.currency,
                stall_deadline=opportunity.stall_deadline,
                stall_threshold=opportunity.stall_threshold,
                gate_gaps=len(still_open),
                requirement=spec.evidence.requirement(),
                attachment_file=attachment.file if attachment else "",
                attachment_description_en=attachment.description.en if attachment else "",
                attachment_description_zh=attachment.description.zh if attachment else "",
            )
        )
    return found


@dataclass(frozen=True)
class Factor:
    name: str
    value: float
    weight: float
    reason: str

    @property
    def points(self) -> float:
        return self.value * self.weight


@dataclass(frozen=True)
class MustDoTask:
    task_id: str
    rank: int
    candidate: Candidate
    score: float
    factors: tuple[Factor, ...]

    @property
    def explanation(self) -> str:
        ordered = sorted(self.factors, key=lambda f: -f.points)
        return f"score {self.score:.2f}: " + "; ".join(f"{f.reason} (+{f.points:.2f})" for f in ordered)


@dataclass(frozen=True)
class MustDoList:
    list_id: str
    tenant_id: str
    rep_id: str
    day: date
    generated_at: datetime
    tasks: tuple[MustDoTask, ...]


def must_do_list_id(tenant_id: str, rep_id: str, day: date) -> str:
    """One list per rep per local day: regenerating it yields the same id."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join((tenant_id, rep_id, day.isoformat()))))


def _hours(delta: timedelta) -> str:
    hours = abs(delta.total_seconds()) / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.1f} days"


def _clip(value: float) -> float:
    return min(1.0, max(0.0, value))


def _factors(c: Candidate, now: datetime, largest: int, weights: RankingWeights) -> tuple[Factor, ...]:
    to_due = c.due - now
    if to_due <= timedelta(0):
        deadline = Factor("deadline", 1.0, weights.deadline, f"overdue by {_hours(to_due)}")
    else:
        deadline = Factor("deadline", _clip(1 - to_due / weights.horizon), weights.deadline, f"due in {_hours(to_due)}")
    if c.stall_deadline is None:
        stall = Factor("stall_risk", 0.0, weights.stall_risk, "no stall timer")
    else:
        left = c.stall_deadline - now
        if left <= timedelta(0):
            stall = Factor("stall_risk", 1.0, weights.stall_risk, f"stalled for {_hours(left)}")
        else:
            used = _clip(1 - left / c.stall_threshold) if c.stall_threshold > timedelta(0) else 1.0
            stall = Factor("stall_risk", used, weights.stall_risk, f"stalls in {_hours(left)}")
    share = c.amount_cents / largest if largest > 0 else 0.0
    value = Factor(
        "deal_value",
        _clip(share),
        weights.deal_value,
        f"deal of {c.amount_cents / 100:,.0f} {c.currency}" + (" (your largest)" if largest and c.amount_cents == largest else f" ({share * 100:.0f} % of your largest)"),
    )
    gate = Factor(
        "stage_gate",
        1 / c.gate_gaps if c.gate_gaps > 0 else 0.0,
        weights.stage_gate,
        "the last action missing before the stage gate" if c.gate_gaps == 1 else f"1 of {c.gate_gaps} actions missing before the stage gate",
    )
    return deadline, stall, value, gate


def rank_must_do(
    *,
    tenant_id: str,
    rep_id: str,
    day: date,
    now: datetime,
    candidates: Iterable[Candidate],
    weights: RankingWeights = RankingWeights(),
    count: int = DEFAULT_TASK_COUNT,
) -> MustDoList:
    if now.tzinfo is None:
        raise InvalidCommand("now", "must be timezone-aware")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 20:
        raise InvalidCommand("count", f"must be a whole number from 1 to 20; got {count!r}")
    if not rep_id:
        raise InvalidCommand("rep_id", "is required")
    pool = list(candidates)
    largest = max((c.amount_cents for c in pool), default=0)
    scored = []
    for c in pool:
        factors = _factors(c, now, largest, weights)
        scored.append((round(sum(f.points for f in factors), 6), c, factors))
    scored.sort(key=lambda s: (-s[0], s[1].due, s[1].opportunity_id, s[1].action_id))
    list_id = must_do_list_id(tenant_id, rep_id, day)
    tasks = tuple(
        MustDoTask(
            task_id=str(uuid.uuid5(_NAMESPACE, "\x1f".join((list_id, c.opportunity_id, c.stage, c.action_id)))),
            rank=i + 1,
            candidate=c,
            score=score,
            factors=factors,
        )
        for i, (score, c, factors) in enumerate(scored[:count])
    )
    return MustDoList(list_id, tenant_id, rep_id, day, now, tasks)
