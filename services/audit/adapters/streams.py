"""The audit stream worker: Faust agents that turn every domain event into audit
entries on the intake (and, with the approvals, apply approval events), plus the chain
writer's own consumer loop, started as a task of the same process."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import faust

from kernel.envelope import Envelope, EnvelopeError, decode
from kernel.faust_app import registry_topic, send_dead_letter, sweep_on_timer
from kernel.topics import TopicSpec, by_name
from dealpulse.audit.v1 import events_pb2 as audit_events
from kernel.topics import AUDIT_APPROVAL
from kernel.clock import Clock
from kernel.kafka import EventPublisher
from kernel.retry import retry_in_place
from services.audit.adapters.anomaly_reports import AnomalyReports
from services.audit.adapters.approval_projector import ApprovalDeadlineSweeper, ApprovalProjector, UnprocessableApproval
from services.audit.adapters.domain_changes import TRANSLATORS
from services.audit.adapters.intake import AuditIntake
from services.audit.domain.audit_log import validate_draft
from services.audit.domain.errors import InvalidCommand

log = logging.getLogger(__name__)
SWEEP_INTERVAL_SECONDS = 0.5
# How often the worker looks for a finished week without its anomaly report: cheap
# (one Redis EXISTS per tenant) and short enough that a moved test clock is seen soon.
REPORT_CHECK_SECONDS = 5.0


class Unprocessable(Exception):
    """A well-formed record no version of the rules can apply: dead-lettered."""


async def retrying(what: str, attempt: Callable[[], Awaitable[None]]) -> None:
    await retry_in_place(what, attempt, unretryable=(Unprocessable,))


def agent(app: faust.App, spec: TopicSpec, message_type, handle, *, name: str) -> None:
    """One agent per topic: decode, dead-letter what cannot be decoded, handle the rest
    as (envelope, payload, partition, offset)."""

    async def consume(stream):
        async for event in stream.events():
            try:
                envelope, payload = decode(message_type, event.value, event.headers)
                if envelope.tenant_id != payload.tenant_id:
                    raise EnvelopeError("ce_tenantid does not match the payload's tenant_id")
            except EnvelopeError as exc:
                await _park(app, spec, event, str(exc))
                continue
            message = event.message
            where = f"{spec.name}@{message.partition}:{message.offset}"
            try:
                await retrying(where, lambda: handle(envelope, payload, message.partition, message.offset))
            except Unprocessable as exc:
                await _park(app, spec, event, f"cannot apply: {exc}")

    consume.__name__ = name
    app.agent(registry_topic(app, spec), name=name)(consume)


async def _park(app: faust.App, spec: TopicSpec, event, reason: str) -> None:
    log.warning("dead-lettering %s@%d: %s", spec.name, event.message.offset, reason)
    await retrying(f"dead-lettering {spec.name}", lambda: send_dead_letter(app, spec, event, reason))


def install_domain_auditing(app: faust.App, intake: AuditIntake) -> None:
    """Record every change the actions service appends."""
    for topic, (message_type, translate) in TRANSLATORS.items():

        async def handle(envelope: Envelope, payload, partition: int, offset: int, translate=translate) -> None:
            try:
                drafts = translate(envelope, payload)
                for draft in drafts:
                    validate_draft(draft)
            except InvalidCommand as exc:
                raise Unprocessable(str(exc)) from exc
            await intake.submit(drafts)

        agent(app, by_name(topic), message_type, handle, name=f"audit_{topic.replace('.', '_')}")


def install_approvals(app: faust.App, projector: ApprovalProjector, sweeper: ApprovalDeadlineSweeper) -> None:
    """Fold approval events into the projection; sweep due step deadlines."""

    async def handle(envelope: Envelope, payload, partition: int, offset: int) -> None:
        try:
            await projector.on_event(envelope, payload, partition, offset)
        except UnprocessableApproval as exc:
            raise Unprocessable(str(exc)) from exc

    agent(app, AUDIT_APPROVAL, audit_events.ApprovalEvent, handle, name="audit_approvals")

    sweep_on_timer(app, "sweep_approval_deadlines", [sweeper.sweep], SWEEP_INTERVAL_SECONDS)


def install_weekly_anomaly_report(app: faust.App, reports: AnomalyReports, publisher: EventPublisher, clock: Clock) -> None:
    """Publish each tenant's anomaly report once its local week is over."""

    @app.timer(interval=REPORT_CHECK_SECONDS)
    async def publish_weekly_anomaly_reports() -> None:
        try:
            await reports.publish_finished_weeks(publisher, await clock.now())
        except Exception:
            log.exception("publishing weekly anomaly reports failed; retrying in %.0fs", REPORT_CHECK_SECONDS)
