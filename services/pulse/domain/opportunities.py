"""Facts pulse derives from the actions service's opportunity events.

- A requirement note (需求记录) is a valid note action on an opportunity; it belongs to the
  opportunity's account, so a visit to that customer can count it.
- A stage change is "complete" when the stage it leaves had every mandatory action
  verified; actions owns that fact and states it on the StageChanged event.
- The rep a stage change counts for is the opportunity's owner.
Opportunity events arrive in order per opportunity (one partition key), which this relies on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from services.pulse.domain.events import RequirementNoted, StageAdvanced


@dataclass(frozen=True)
class _Opportunity:
    account_id: str
    owner_id: str


class OpportunityFacts:
    def __init__(self) -> None:
        self._opportunities: dict[tuple[str, str], _Opportunity] = {}

    def opened(self, tenant_id: str, opportunity_id: str, account_id: str, owner_id: str) -> None:
        self._opportunities.setdefault((tenant_id, opportunity_id), _Opportunity(account_id, owner_id))

    def action_recorded(
        self, event_id: str, tenant_id: str, opportunity_id: str, at: datetime, *, valid: bool, is_note: bool, actor_id: str
    ) -> Optional[RequirementNoted]:
        if not (valid and is_note):
            return None
        found = self._opportunities.get((tenant_id, opportunity_id))
        return RequirementNoted(
            event_id=event_id,
            tenant_id=tenant_id,
            opportunity_id=opportunity_id,
            customer_id=found.account_id if found else "",
            at=at,
            rep_id=actor_id,
            shared=True,
        )

    def stage_changed(
        self,
        event_id: str,
        tenant_id: str,
        opportunity_id: str,
        at: datetime,
        from_stage: str,
        to_stage: str,
        actor_id: str,
        *,
        all_mandatory_verified: bool,
        stream: str = "",
    ) -> StageAdvanced:
        found = self._opportunities.get((tenant_id, opportunity_id))
        return StageAdvanced(
            event_id=event_id,
            tenant_id=tenant_id,
            opportunity_id=opportunity_id,
            rep_id=found.owner_id if found else actor_id,
            to_stage=to_stage,
            from_stage=from_stage,
            at=at,
            with_all_mandatory_verified=all_mandatory_verified,
            stream=stream,
        )
