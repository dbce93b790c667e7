"""Appending audit entries to `audit.intake.v1`, keyed by tenant, acknowledged by the
broker before the caller goes on: a decision or change is never answered unaudited."""

from __future__ import annotations

import asyncio

from kernel.kafka import EventPublisher
from kernel.topics import AUDIT_INTAKE, TopicSpec
from services.audit.adapters.messages import entry_from_draft
from services.audit.domain.audit_log import AuditDraft, validate_draft


class AuditIntake:
    def __init__(self, publisher: EventPublisher, spec: TopicSpec = AUDIT_INTAKE) -> None:
        self._publisher = publisher
        self._spec = spec

    async def submit(self, drafts: list[AuditDraft]) -> None:
        for draft in drafts:
            validate_draft(draft)
        await asyncio.gather(
            *(
                self._publisher.publish(
                    self._spec,
                    entry_from_draft(draft),
                    key=draft.tenant_id,
                    tenant_id=draft.tenant_id,
                    event_time=draft.occurred_at,
                    event_id=draft.event_id,
                )
                for draft in drafts
            )
        )
