"""Is an action valid evidence of work? Invalid actions are recorded (with reasons) but
neither count toward gates nor reset the stall timer."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from services.actions.domain.policy import ProcessPolicy


class ActionKind(str, Enum):
    CALL = "call"
    EMAIL = "email"
    VISIT = "visit"
    NOTE = "note"


@dataclass(frozen=True)
class Evidence:
    call_duration_seconds: int = 0
    email_message_id: str = ""
    checkin_id: str = ""
    note: str = ""


@dataclass(frozen=True)
class Verdict:
    valid: bool
    reasons: tuple[str, ...] = ()


def verify(kind: ActionKind, evidence: Evidence, policy: ProcessPolicy) -> Verdict:
    reasons: list[str] = []
    if kind is ActionKind.CALL:
        minimum = int(policy.min_call_duration.total_seconds())
        if evidence.call_duration_seconds < minimum:
            reasons.append(f"call lasted {evidence.call_duration_seconds}s; an effective call lasts at least {minimum}s")
    elif kind is ActionKind.EMAIL:
        if not evidence.email_message_id.strip():
            reasons.append("an email action needs the message id of the email sent or received")
    elif kind is ActionKind.VISIT:
        if not evidence.checkin_id.strip():
            reasons.append("a visit needs the check-in that proves it")
    elif kind is ActionKind.NOTE:
        if len(evidence.note.strip()) < policy.min_note_length:
            reasons.append(f"a note needs at least {policy.min_note_length} characters of content")
    return Verdict(valid=not reasons, reasons=tuple(reasons))
