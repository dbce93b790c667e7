"""The process score: how well a rep works the process in a week, 0-100.

score = quality_weight x quality + (1 - quality_weight) x completion, where
- quality is the share of the rep's submissions whose evidence verified (a form counts
  only above its completeness threshold, a call only past its minimum length: the
  verifiers decide, so a half-filled form scores nothing);
- completion is the compliance report's on-time completion rate.
The article's default weight for quality is 40 %.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.actions.domain.errors import InvalidCommand
from services.actions.domain.reporting.compliance import Tally


@dataclass(frozen=True)
class ProcessScore:
    submitted: int
    submitted_valid: int
    # None when nothing was submitted and nothing was due: no score to give.
    quality: float | None
    completion: float | None
    score: float | None
    quality_weight: float

    @property
    def explanation(self) -> str:
        if self.score is None:
            return "nothing was due and nothing was submitted this week"
        parts = []
        if self.quality is not None:
            parts.append(
                f"quality {self.quality * 100:.1f} % ({self.submitted_valid} of {self.submitted} submissions verified) "
                f"x {self.quality_weight * 100:g} %"
            )
        if self.completion is not None:
            parts.append(f"on-time completion {self.completion * 100:.1f} % x {(1 - self.quality_weight) * 100:g} %")
        return " + ".join(parts)


def require_weight(weight: float) -> float:
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 1:
        raise InvalidCommand("quality_weight", f"must be a share between 0 and 1; got {weight!r}")
    return float(weight)


def process_score(*, submitted: int, submitted_valid: int, completion: Tally, quality_weight: float) -> ProcessScore:
    weight = require_weight(quality_weight)
    for name, value in (("submitted", submitted), ("submitted_valid", submitted_valid)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidCommand(name, f"must be a whole number, not negative; got {value!r}")
    if submitted_valid > submitted:
        raise InvalidCommand("submitted_valid", f"{submitted_valid} valid of {submitted} submitted is impossible")
    rate = completion.rate
    if submitted:
        quality: float | None = submitted_valid / submitted
    else:
        # Work was due but nothing was submitted: no evidence, no quality.
        quality = 0.0 if rate is not None else None
    if quality is None and rate is None:
        score = None
    elif rate is None:
        # Submissions but nothing due yet (e.g. early in a stage): quality is all there is.
        score = quality * 100
    else:
        score = (weight * (quality or 0.0) + (1 - weight) * rate) * 100
    return ProcessScore(
        submitted=submitted,
        submitted_valid=submitted_valid,
        quality=quality,
        completion=rate,
        score=None if score is None else round(score, 1),
        quality_weight=weight,
    )
