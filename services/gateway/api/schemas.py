"""Request bodies of the REST API. Strict: no type coercion ("12" is not 12), unknown
fields are rejected, so a client's typo is an error rather than a silently dropped
field. The services validate again; these checks only turn away what can never pass.
Nothing here carries a tenant: the tenant always comes from the token.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
PositiveFinite = Annotated[float, Field(gt=0, allow_inf_nan=False)]
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _require_rfc3339(value: object) -> object:
    if not (isinstance(value, str) and _RFC3339.match(value)):
        raise ValueError("must be an RFC 3339 date-time with a UTC offset, e.g. 2024-05-01T10:00:00+08:00")
    return value


# JSON has no datetime type, so strict mode would refuse every value: parse the string,
# but only RFC 3339 (pydantic alone would also take epoch numbers of ambiguous unit).
Rfc3339Timestamp = Annotated[AwareDatetime, Field(strict=False), BeforeValidator(_require_rfc3339)]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CreateAccountBody(RequestBody):
    account_id: Identifier
    name: Text
    industry: Text
    owner_id: Identifier | None = Field(None, description="Defaults to the caller.")


class RegisterRepBody(RequestBody):
    display_name: Text
    manager_id: Identifier | None = Field(None, description="Who this rep's stalled deals escalate to.")


class StallPolicyBody(RequestBody):
    threshold_hours: PositiveFinite = Field(
        description="How long an opportunity may sit in a stage without a valid action."
    )


class OpenOpportunityBody(RequestBody):
    opportunity_id: Identifier
    account_id: Identifier
    name: Text
    owner_id: Identifier | None = Field(None, description="Defaults to the caller.")
    stage: Identifier | None = Field(None, description="Defaults to the pipeline's first stage.")
    amount_cents: int = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. CNY or USD.")


class ChangeStageBody(RequestBody):
    to_stage: Identifier


class RecordActionBody(RequestBody):
    action_id: Identifier
    kind: Literal["call", "email", "visit", "note"]
    call_duration_seconds: int | None = Field(None, ge=0)
    email_message_id: Identifier | None = None
    checkin_id: Identifier | None = None
    note: str | None = Field(None, max_length=4000)
    occurred_at: Rfc3339Timestamp | None = Field(None, description="Defaults to now; never in the future.")


class AdvanceClockBody(RequestBody):
    seconds: PositiveFinite
