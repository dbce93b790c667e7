"""Stage gates: an opportunity leaves a stage only when every mandatory action of that
stage has a valid verdict. Invalid verdicts do not count.

Closing an opportunity as lost is never gated (nobody has to prove work to admit a
loss), but `closed_lost` must still be one of the stage's `next` stages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.actions.domain.errors import InvalidCommand, PreconditionFailed
from services.actions.domain.evidence import Verdict
from services.actions.domain.templates.model import LocalizedText, Template

UNGATED_TARGETS = frozenset({"closed_lost"})


@dataclass(frozen=True)
class MissingAction:
    action_id: str
    name: LocalizedText
    evidence_kind: str
    # Why it does not count yet: the verifier's reasons, or what is required when
    # nothing was submitted.
    why: tuple[str, ...]
    submitted: bool

    def __str__(self) -> str:
        return f"{self.action_id} ({self.name.en}): {'; '.join(self.why)}"


class GateBlocked(PreconditionFailed):
    """The stage cannot be left yet; `missing` says what is still to do."""

    def __init__(self, from_stage: str, to_stage: str, missing: tuple[MissingAction, ...]) -> None:
        self.from_stage = from_stage
        self.to_stage = to_stage
        self.missing = missing
        listing = "; ".join(str(m) for m in missing)
        super().__init__(
            f"cannot move from {from_stage} to {to_stage}: {len(missing)} mandatory action(s) not verified: {listing}"
        )


def missing_for_advance(
    template: Template, from_stage: str, to_stage: str, verified: Mapping[str, Verdict]
) -> list[MissingAction]:
    """The mandatory actions of `from_stage` without a valid verdict, in template order;
    empty when the move may go ahead.

    `verified` maps template action ids to the opportunity's verdict for that action in
    this stage (see `best_verdicts`). Raises InvalidCommand for stages the template does
    not have, PreconditionFailed for a move the template does not allow.
    """
    source = template.stage(from_stage)
    if source is None:
        raise InvalidCommand("from_stage", f"template {template.ref} has no stage '{from_stage}'")
    target = template.stage(to_stage)
    if target is None:
        raise InvalidCommand(
            "to_stage", f"template {template.ref} has no stage '{to_stage}'; stages are {', '.join(template.stage_ids)}"
        )
    if source.terminal:
        raise PreconditionFailed(f"the opportunity is {from_stage}; closed opportunities do not move")
    if to_stage not in source.next:
        raise PreconditionFailed(f"{from_stage} may move only to {', '.join(source.next)}; not to {to_stage}")
    if to_stage in UNGATED_TARGETS:
        return []
    missing: list[MissingAction] = []
    for action in source.mandatory_actions:
        verdict = verified.get(action.id)
        if verdict is not None and verdict.valid:
            continue
        if verdict is None:
            why: tuple[str, ...] = (f"not submitted; needs {action.evidence.requirement()}",)
        else:
            why = verdict.reasons or ("submitted but not valid",)
        missing.append(MissingAction(action.id, action.name, action.evidence.kind, why, submitted=verdict is not None))
    return missing


def require_advance(template: Template, from_stage: str, to_stage: str, verified: Mapping[str, Verdict]) -> None:
    """missing_for_advance, raising GateBlocked when anything is missing."""
    missing = missing_for_advance(template, from_stage, to_stage, verified)
    if missing:
        raise GateBlocked(from_stage, to_stage, tuple(missing))


def best_verdicts(submissions: Iterable[tuple[str, Verdict]]) -> dict[str, Verdict]:
    """Collapse an opportunity's submissions in one stage (in the order they were made)
    into one verdict per action: any valid submission makes the action done; otherwise
    the latest invalid one explains why not."""
    best: dict[str, Verdict] = {}
    for action_id, verdict in submissions:
        current = best.get(action_id)
        if current is None or not current.valid:
            best[action_id] = verdict
    return best
