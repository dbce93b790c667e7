"""The weekly anomaly report: computed from the audit store with the pure detector,
published once per tenant and finished week on `audit.anomaly.report.v1`, and kept in
Redis for the API.

A week is reported once it has been over for `grace` (entries still on their way
through the intake are chained by then). The report's ce_id is derived from
(tenant, week): a worker that crashed after publishing publishes the same report id
again, and two workers racing do the same.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from dealpulse.audit.v1 import events_pb2 as events
from kernel.envelope import deterministic_event_id
from kernel.kafka import EventPublisher
from kernel.topics import AUDIT_ANOMALY_REPORT, TopicSpec
from services.audit.adapters.messages import json_text, timestamp
from services.audit.adapters.store import AuditStore
from services.audit.domain.anomalies import AnomalyReport, AnomalyThresholds, detect, report_week
from services.audit.domain.audit_log import AuditQuery
from services.audit.domain.errors import InvalidCommand

log = logging.getLogger(__name__)

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
# Enough to hold every record of a tenant's week plus its context; a tenant beyond it
# needs the detector to stream, which the store's query does not yet offer.
MAX_RECORDS = 2_000_000


def week_start(week: str) -> date:
    """The Monday of an ISO week such as 2026-W10."""
    match = _WEEK.match(week)
    if match is None:
        raise InvalidCommand("week", f"{week!r} is not an ISO week like 2026-W10")
    try:
        return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise InvalidCommand("week", f"{week} does not exist") from None


def week_name(monday: date) -> str:
    year, number, _ = monday.isocalendar()
    return f"{year}-W{number:02d}"


def last_finished_week(now: datetime, thresholds: AnomalyThresholds) -> date:
    local = now.astimezone(ZoneInfo(thresholds.timezone)).date()
    return local - timedelta(days=local.weekday() + 7)


def report_to_proto(report: AnomalyReport, week: str, thresholds: AnomalyThresholds, generated_at: datetime) -> events.AnomalyReport:
    return events.AnomalyReport(
        tenant_id=report.tenant_id,
        week=week,
        timezone=thresholds.timezone,
        since=timestamp(report.since),
        until=timestamp(report.until),
        edits_examined=report.edits_examined,
        generated_at=timestamp(generated_at),
        findings=[
            events.AnomalyFinding(
                kind=f.kind,
                actor_id=f.actor_id,
                summary=f.summary,
                count=f.count,
                share=f.share or 0.0,
                evidence=[
                    events.AnomalyEvidence(
                        sequence=e.sequence,
                        occurred_at=timestamp(e.occurred_at),
                        entity_type=e.entity_type,
                        entity_id=e.entity_id,
                        field=e.field,
                        before_json=json_text(e.before),
                        after_json=json_text(e.after),
                    )
                    for e in f.evidence
                ],
            )
            for f in report.findings
        ],
    )


class AnomalyReports:
    def __init__(
        self,
        store: AuditStore,
        redis: Redis,
        *,
        thresholds: AnomalyThresholds = AnomalyThresholds(),
        grace: timedelta = timedelta(hours=1),
    ) -> None:
        self._store = store
        self._redis = redis
        self._thresholds = thresholds
        self._grace = grace

    @property
    def thresholds(self) -> AnomalyThresholds:
        return self._thresholds

    @staticmethod
    def _key(tenant: str, week: str) -> str:
        return f"dealpulse:audit:{tenant}:anomaly-report:{week}"

    async def compute(self, tenant: str, monday: date, generated_at: datetime) -> events.AnomalyReport:
        since, until = report_week(monday, self._thresholds)
        # Context before the week: closings within `soon_after_close`, and which account
        # each opportunity belongs to (its opening record).
        window = await self._store.query(
            AuditQuery(tenant, since=since - self._thresholds.soon_after_close, until=until), limit=MAX_RECORDS
        )
        found = {r.sequence: r for r in window}
        if window:
            openings = AuditQuery(tenant, entity_type="opportunity", field="")
            found.update((r.sequence, r) for r in await self._store.query(openings, limit=MAX_RECORDS))
        # Pure CPU over a week of records: off the event loop, so the worker's agents
        # (the chain writer, the approvals) keep moving meanwhile.
        report = await asyncio.to_thread(
            detect,
            [found[s] for s in sorted(found)],
            tenant_id=tenant,
            since=since,
            until=until,
            thresholds=self._thresholds,
        )
        return report_to_proto(report, week_name(monday), self._thresholds, generated_at)

    async def stored(self, tenant: str, week: str) -> events.AnomalyReport | None:
        raw = await self._redis.get(self._key(tenant, week))
        return events.AnomalyReport.FromString(raw) if raw is not None else None

    async def get(self, tenant: str, week: str, now: datetime) -> tuple[events.AnomalyReport, bool]:
        """The published report of `week` (empty: the last finished one), or one computed
        now; the flag is True for a computed (provisional) report."""
        monday = week_start(week) if week else last_finished_week(now, self._thresholds)
        published = await self.stored(tenant, week_name(monday))
        if published is not None:
            return published, False
        return await self.compute(tenant, monday, now), True

    async def publish_finished_weeks(
        self,
        publisher: EventPublisher,
        now: datetime,
        *,
        spec: TopicSpec = AUDIT_ANOMALY_REPORT,
        tenants: list[str] | None = None,
    ) -> int:
        """The weekly job: every tenant with an audit log (or those given) gets the
        report of the last finished week, once. Returns how many were published."""
        monday = last_finished_week(now, self._thresholds)
        _, until = report_week(monday, self._thresholds)
        if now < until + self._grace:
            monday -= timedelta(days=7)
        week = week_name(monday)
        published = 0
        if tenants is None:
            tenants = [t.decode() for t in await self._store.tenants()]
        for tenant in sorted(tenants):
            if await self._redis.exists(self._key(tenant, week)):
                continue
            report = await self.compute(tenant, monday, now)
            await publisher.publish(
                spec,
                report,
                key=tenant,
                tenant_id=tenant,
                event_time=now,
                event_id=deterministic_event_id("anomaly-report", tenant, week),
            )
            await self._redis.set(self._key(tenant, week), report.SerializeToString())
            published += 1
            await asyncio.sleep(0)  # let the worker's other tasks run between tenants
            log.info("anomaly report %s of %s: %d findings", week, tenant, len(report.findings))
        return published
