"""The sales pipeline's stages. Industry templates (with their own stages and
mandatory actions) replace this default; until then every opportunity uses it."""

from __future__ import annotations

from services.actions.domain.errors import InvalidCommand

DEFAULT_STAGES: tuple[str, ...] = (
    "lead",
    "qualification",
    "needs_diagnosis",
    "proposal",
    "negotiation",
    "closed_won",
    "closed_lost",
)
CLOSED_STAGES = frozenset({"closed_won", "closed_lost"})


def require_stage(stage: str, field: str = "stage", stages: tuple[str, ...] = DEFAULT_STAGES) -> str:
    if stage not in stages:
        raise InvalidCommand(field, f"unknown stage {stage!r}; stages are {', '.join(stages)}")
    return stage


def is_closed(stage: str) -> bool:
    return stage in CLOSED_STAGES
