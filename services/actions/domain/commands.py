"""Command validation: every check a command must pass before its event is appended.
A rejected command raises a DomainError and appends nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.actions.domain.errors import AlreadyExists, InvalidCommand, NotFound, PreconditionFailed
from services.actions.domain.evidence import ActionKind, Evidence
from services.actions.domain.opportunity import OpportunityState, RecordedAction
from services.actions.domain.pipeline import DEFAULT_STAGES, is_closed, require_stage

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Devices' clocks drift; an action stamped slightly ahead of ours is still believable.
MAX_CLOCK_SKEW = timedelta(minutes=5)


def require_id(value: str, field: str) -> str:
    if not _ID.match(value or ""):
        raise InvalidCommand(field, "must be 1-128 characters of letters, digits, '.', '_', ':' or '-'")
    return value


def require_text(value: str, field: str, max_length: int = 200) -> str:
    if not value or not value.strip():
        raise InvalidCommand(field, "is required")
    if len(value) > max_length:
        raise InvalidCommand(field, f"must be at most {max_length} characters")
    return value.strip()


@dataclass(frozen=True)
class OpenOpportunity:
    opportunity_id: str
    account_id: str
    name: str
    owner_id: str
    stage: str
    amount_cents: int
    currency: str
    # The stages of the opportunity's template (the generic pipeline's by default).
    stages: tuple[str, ...] = DEFAULT_STAGES


def validate_open(command: OpenOpportunity, existing: OpportunityState | None, account_exists: bool) -> bool:
    """True when the command must append an event; False when it repeats what exists."""
    require_id(command.opportunity_id, "opportunity_id")
    require_id(command.account_id, "account_id")
    require_text(command.name, "name")
    require_id(command.owner_id, "owner_id")
    require_stage(command.stage, stages=command.stages)
    if is_closed(command.stage):
        raise InvalidCommand("stage", "an opportunity cannot be opened closed")
    if command.amount_cents < 0:
        raise InvalidCommand("amount_cents", "must not be negative")
    if not _CURRENCY.match(command.currency):
        raise InvalidCommand("currency", "must be an ISO 4217 code such as CNY or USD")
    if existing is not None:
        same = (existing.account_id, existing.name, existing.owner_id, existing.amount_cents, existing.currency) == (
            command.account_id,
            command.name.strip(),
            command.owner_id,
            command.amount_cents,
            command.currency,
        )
        if same:
            return False
        raise AlreadyExists(f"opportunity {command.opportunity_id} already exists with other details")
    if not account_exists:
        raise NotFound(f"account {command.account_id} not found")
    return True


def validate_stage_change(state: OpportunityState, to_stage: str, stages: tuple[str, ...] = DEFAULT_STAGES) -> bool:
    """True when the stage must change; False when the opportunity is already there."""
    require_stage(to_stage, "to_stage", stages)
    if to_stage == state.stage:
        return False
    if is_closed(state.stage):
        raise PreconditionFailed(f"opportunity is {state.stage}; closed opportunities do not move")
    return True


def validate_action(
    state: OpportunityState,
    recorded: RecordedAction | None,
    *,
    action_id: str,
    kind: ActionKind,
    evidence: Evidence,
    occurred_at: datetime | None,
    now: datetime,
) -> bool:
    """True when the action must be recorded; False when it repeats the one already
    stored under `action_id` (a client retry). `occurred_at` is None when the client
    left it to the service: a retry then cannot restate it, so it is not compared."""
    require_id(action_id, "action_id")
    if len(evidence.note) > 10_000:
        raise InvalidCommand("note", "must be at most 10000 characters")
    if evidence.call_duration_seconds < 0:
        raise InvalidCommand("call_duration_seconds", "must not be negative")
    if occurred_at is not None:
        if occurred_at > now + MAX_CLOCK_SKEW:
            raise InvalidCommand("occurred_at", "lies in the future")
        if occurred_at < state.opened_at:
            raise InvalidCommand("occurred_at", "is before the opportunity was opened")
    if recorded is not None:
        same_time = occurred_at is None or recorded.occurred_at == occurred_at
        if recorded.kind is kind and recorded.evidence == evidence and same_time:
            return False
        raise AlreadyExists(f"action {action_id} was already recorded with other details")
    return True
