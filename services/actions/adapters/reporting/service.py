"""The reporting application service: reads the aggregates into reports, makes the
daily must-do lists and the weekly report, publishes them and hands them to the
notification outbox. Used by the ReportsService gRPC endpoint and by the worker's
scheduled runs."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from dealpulse.actions.v1 import reporting_events_pb2 as rpb
from kernel.auth import Principal
from kernel.clock import Clock
from kernel.envelope import deterministic_event_id
from kernel.kafka import EventPublisher
from kernel.notifications import Attachment, Channel, Notification, RedisOutbox
from kernel.topics import FOLLOWUP_METRICS, MUSTDO_PUBLISHED
from services.actions.adapters.messages import moment, timestamp
from services.actions.adapters.reporting import export
from services.actions.adapters.reporting.aggregator import PolicySource, TemplateSource
from services.actions.adapters.reporting.store import ReportingStore
from services.actions.domain.errors import Forbidden, InvalidCommand, NotFound
from services.actions.domain.policy import ProcessPolicy
from services.actions.domain.reporting.calendar import Week, due_daily_run, due_weekly_run, local_date
from services.actions.domain.reporting.compliance import (
    UNASSIGNED_TEAM,
    ComplianceReport,
    RepInfo,
    Tally,
    Thresholds,
    compliance_report,
)
from services.actions.domain.reporting.expectations import SUBMITTED, SUBMITTED_VALID
from services.actions.domain.reporting.followup import FollowUpMetrics, followup_metrics
from services.actions.domain.reporting.mustdo import MustDoList, candidates_for, rank_must_do
from services.actions.domain.reporting.process_score import ProcessScore, process_score
from services.actions.domain.reporting.visibility import TENANT_WIDE_ROLES, may_see_rep, visible_reps

log = logging.getLogger(__name__)
# Robots cap a message at 4096 bytes; leave room for the title and mentions.
_ROBOT_CHUNK_BYTES = 3500
# A scheduled run that crashed half-way is taken up again after this.
RUN_LEASE_SECONDS = 600
# Up to this many reps (a team, a small tenant) a report lists every missing action;
# above it, rows per rep only, and the drill-down is one team's report.
DRILLDOWN_MAX_REPS = 200


@dataclass(frozen=True)
class NotificationRoute:
    team_id: str
    wecom_webhook_url: str = ""
    dingtalk_webhook_url: str = ""
    dingtalk_secret: str = ""
    email_recipients: tuple[str, ...] = ()


def thresholds_of(policy: ProcessPolicy) -> Thresholds:
    return Thresholds(green=policy.compliance_green_percent / 100, yellow=policy.compliance_yellow_percent / 100)


def must_do_to_proto(must_do: MustDoList, manager_id: str) -> rpb.MustDoList:
    return rpb.MustDoList(
        tenant_id=must_do.tenant_id,
        list_id=must_do.list_id,
        rep_id=must_do.rep_id,
        manager_id=manager_id,
        day=must_do.day.isoformat(),
        generated_at=timestamp(must_do.generated_at),
        tasks=[
            rpb.MustDoTask(
                task_id=t.task_id,
                rank=t.rank,
                opportunity_id=t.candidate.opportunity_id,
                opportunity_name=t.candidate.opportunity_name,
                stage=t.candidate.stage,
                action_id=t.candidate.action_id,
                action_name_en=t.candidate.action_name_en,
                action_name_zh=t.candidate.action_name_zh,
                requirement=t.candidate.requirement,
                due_at=timestamp(t.candidate.due),
                amount_cents=t.candidate.amount_cents,
                currency=t.candidate.currency,
                attachment_template=rpb.AttachmentTemplate(
                    file=t.candidate.attachment_file,
                    description_en=t.candidate.attachment_description_en,
                    description_zh=t.candidate.attachment_description_zh,
                ),
                score=t.score,
                factors=[
                    rpb.RankingFactor(name=f.name, value=f.value, weight=f.weight, points=f.points, reason=f.reason)
                    for f in t.factors
                ],
                explanation=t.explanation,
            )
            for t in must_do.tasks
        ],
    )


class ReportingService:
    def __init__(
        self,
        store: ReportingStore,
        policy_of: PolicySource,
        template_of: TemplateSource,
        publisher: EventPublisher,
        outbox: RedisOutbox,
        clock: Clock,
    ) -> None:
        self._store = store
        self._policy_of = policy_of
        self._template_of = template_of
        self._publisher = publisher
        self._outbox = outbox
        self._clock = clock

    async def now(self) -> datetime:
        return await self._clock.now()

    # The roster ----------------------------------------------------------------------
    async def _roster(self, tenant: str, *count_maps: dict) -> dict[str, RepInfo]:
        """Registered reps, plus owners who were never registered (no team)."""
        reps = await self._store.reps(tenant)
        for counts in count_maps:
            for rep_id in counts:
                reps.setdefault(rep_id, RepInfo(rep_id, rep_id, UNASSIGNED_TEAM))
        return reps

    async def rep(self, tenant: str, rep_id: str) -> RepInfo:
        return (await self._store.reps(tenant)).get(rep_id) or RepInfo(rep_id, rep_id, UNASSIGNED_TEAM)

    # Compliance and process scores ----------------------------------------------------
    async def week_or_current(self, tenant: str, week_text: str) -> tuple[Week, datetime, ProcessPolicy]:
        policy = await self._policy_of(tenant)
        now = await self.now()
        week = Week.parse(week_text) if week_text else Week.containing(now, policy.zone)
        return week, now, policy

    async def compliance(
        self, tenant: str, week: Week, as_of: datetime, principal: Principal | None, team_id: str = ""
    ) -> ComplianceReport:
        """Over every rep the caller may see (of `team_id` if given). Each rep's missing
        actions come along when the report covers at most DRILLDOWN_MAX_REPS reps (a
        team, a rep, a small tenant); a bigger report is the summary, and its drill-down
        is the report of one team."""
        policy = await self._policy_of(tenant)
        counts, previous = await self._store.week_counts(tenant, week, week.previous())
        roster = await self._roster(tenant, counts, previous)
        reps = visible_reps(principal, roster.values(), team_id) if principal else [
            r for r in roster.values() if not team_id or r.team_id == team_id
        ]
        rep_ids = [r.rep_id for r in reps]
        running = as_of < week.end(policy.zone)
        return compliance_report(
            tenant_id=tenant,
            week=week,
            as_of=as_of,
            tz=policy.zone,
            reps=reps,
            counts=counts,
            previous_counts=previous,
            pending=await self._store.pending(tenant, week, rep_ids, as_of) if running else {},
            drilldown=await self._store.drilldown(tenant, week, rep_ids) if len(rep_ids) <= DRILLDOWN_MAX_REPS else None,
            thresholds=thresholds_of(policy),
        )

    async def process_scores(
        self, tenant: str, week: Week, as_of: datetime, principal: Principal, team_id: str = ""
    ) -> list[tuple[RepInfo, ProcessScore]]:
        policy = await self._policy_of(tenant)
        report = await self.compliance(tenant, week, as_of, principal, team_id)
        (counts,) = await self._store.week_counts(tenant, week)
        scores = []
        for line in report.reps:
            c = counts.get(line.rep.rep_id, {})
            scores.append(
                (
                    line.rep,
                    process_score(
                        submitted=c.get(SUBMITTED, 0),
                        submitted_valid=c.get(SUBMITTED_VALID, 0),
                        completion=line.line.tally,
                        quality_weight=policy.process_quality_weight_percent / 100,
                    ),
                )
            )
        return scores

    async def followup(self, tenant: str, week: Week, as_of: datetime, principal: Principal | None) -> list[FollowUpMetrics]:
        policy = await self._policy_of(tenant)
        (counts,) = await self._store.week_counts(tenant, week, kind="followup")
        roster = await self._roster(tenant, counts)
        rows = followup_metrics(week=week, as_of=as_of, tz=policy.zone, reps=roster.values(), counts=counts)
        if principal is None or principal.has_any(*TENANT_WIDE_ROLES):
            return rows
        if not principal.has_any("manager"):
            raise Forbidden("follow-up metrics are for managers, directors and admins")
        return [r for r in rows if r.team_id == principal.subject]

    async def publish_followup(self, tenant: str, weeks: list[Week], as_of: datetime) -> int:
        published = 0
        for week in weeks:
            for row in await self.followup(tenant, week, as_of, None):
                message = followup_to_proto(tenant, row, as_of)
                await self._publisher.publish(
                    FOLLOWUP_METRICS,
                    message,
                    key=f"{tenant}/{row.team_id}/{week}",
                    tenant_id=tenant,
                    event_time=as_of,
                    event_id=deterministic_event_id("followup", tenant, row.team_id, str(week), as_of.isoformat()),
                )
                published += 1
        return published

    # Must-do --------------------------------------------------------------------------
    async def must_do(self, tenant: str, rep: RepInfo, day: date | None, principal: Principal) -> rpb.MustDoList:
        if not may_see_rep(principal, rep.rep_id, rep.team_id):
            raise Forbidden(f"you may not see the must-do list of {rep.rep_id}")
        policy = await self._policy_of(tenant)
        now = await self.now()
        today = local_date(now, policy.zone)
        day = day or today
        if day > today:
            raise InvalidCommand("day", f"{day} is in the future (today is {today} in {policy.timezone})")
        found = await self._store.document(tenant, "mustdo", f"{day}:{rep.rep_id}")
        if found is not None:
            return rpb.MustDoList.FromString(found)
        if day < today:
            raise NotFound(f"no must-do list was made for {rep.rep_id} on {day}")
        listed, _ = await self._must_do_for(tenant, rep, day, now)
        await self._publish_must_do(listed)
        return listed

    async def _must_do_for(self, tenant: str, rep: RepInfo, day: date, now: datetime) -> tuple[rpb.MustDoList, bool]:
        """The day's list: the stored one, or a new one stored first-writer-wins."""
        name = f"{day}:{rep.rep_id}"
        found = await self._store.document(tenant, "mustdo", name)
        if found is not None:
            return rpb.MustDoList.FromString(found), False
        candidates = []
        for opportunity in await self._store.open_opportunities(tenant, rep.rep_id):
            stage = None
            if opportunity.template is not None:
                stage = (await self._template_of(tenant, opportunity.template)).stage(opportunity.stage)
            candidates.extend(candidates_for(opportunity, stage))
        ranked = rank_must_do(tenant_id=tenant, rep_id=rep.rep_id, day=day, now=now, candidates=candidates)
        listed = must_do_to_proto(ranked, rep.team_id)
        if not await self._store.put_document(tenant, "mustdo", name, listed.SerializeToString(), only_new=True):
            return rpb.MustDoList.FromString(await self._store.document(tenant, "mustdo", name)), False
        return listed, True

    async def _publish_must_do(self, listed: rpb.MustDoList) -> None:
        if not listed.tasks:
            return
        await self._publisher.publish(
            MUSTDO_PUBLISHED,
            listed,
            key=f"{listed.tenant_id}/{listed.rep_id}",
            tenant_id=listed.tenant_id,
            event_time=moment(listed.generated_at),
            event_id=listed.list_id,
        )

    async def morning_run(self, tenant: str, day: date, now: datetime) -> int:
        """Every rep's list for `day`, published and sent to each team's route. Safe to
        run again: lists, event ids and notification ids are all derived from the day."""
        policy = await self._policy_of(tenant)
        reps = await self._store.reps(tenant)
        for rep_id in await self._store.reps_with_open_opportunities(tenant):
            reps.setdefault(rep_id, RepInfo(rep_id, rep_id, UNASSIGNED_TEAM))
        by_team: dict[str, list[tuple[RepInfo, rpb.MustDoList]]] = {}
        for rep in sorted(reps.values(), key=lambda r: r.rep_id):
            listed, _ = await self._must_do_for(tenant, rep, day, now)
            await self._publish_must_do(listed)
            if listed.tasks:
                by_team.setdefault(rep.team_id, []).append((rep, listed))
        for team_id, lists in by_team.items():
            route = await self.route(tenant, team_id) or await self.route(tenant, "")
            if route is not None:
                await self._notify(tenant, route, f"mustdo/{tenant}/{day}/{team_id or '-'}",
                                   f"今日必做 Today's must-do · {day}", _must_do_sections(lists, policy),
                                   [rep.rep_id for rep, _ in lists], attachment=None)
        return sum(len(v) for v in by_team.values())

    # The weekly report -------------------------------------------------------------------
    async def weekly_run(self, tenant: str, week: Week, now: datetime) -> ComplianceReport:
        report = await self.compliance(tenant, week, now, None)
        await self._store.put_document(tenant, "weekly", str(week), export.to_json(report))
        teams = {t.team_id: t for t in report.teams}
        for team_id, team in teams.items():
            route = await self.route(tenant, team_id) or await self.route(tenant, "")
            if route is None:
                continue
            team_report = await self.compliance(tenant, week, now, None, team_id)
            body = _weekly_sections(team_report)
            xlsx = Attachment(f"compliance-{tenant}-{week}-{team_id or 'unassigned'}.xlsx", export.XLSX_TYPE, export.to_xlsx(team_report))
            await self._notify(tenant, route, f"weekly/{tenant}/{week}/{team_id or '-'}",
                               f"动作合规率周报 Action compliance · {week}", body, [], attachment=xlsx)
        return report

    # Scheduling ---------------------------------------------------------------------------
    async def tick(self) -> list[str]:
        """Run what is due for every tenant; returns the runs made (for the log)."""
        now = await self.now()
        done: list[str] = []
        for tenant in await self._store.tenants():
            policy = await self._policy_of(tenant)
            tz = policy.zone
            day = due_daily_run(now, policy.must_do_local_time, tz)
            if day is not None and await self._run_once(tenant, f"mustdo:{day}", lambda: self._morning(tenant, day, now)):
                done.append(f"{tenant} must-do {day}")
            week = due_weekly_run(now, policy.weekly_report_iso_weekday, policy.weekly_report_local_time, tz)
            if await self._run_once(tenant, f"weekly:{week}", lambda: self.weekly_run(tenant, week, now)):
                done.append(f"{tenant} weekly report {week}")
        return done

    async def _morning(self, tenant: str, day: date, now: datetime) -> None:
        await self.morning_run(tenant, day, now)
        policy = await self._policy_of(tenant)
        this_week = Week.containing(now, policy.zone)
        # Cohorts change until each has had its first week: this week's, last week's.
        await self.publish_followup(tenant, [this_week.previous(), this_week], now)

    async def _run_once(self, tenant: str, run: str, produce: Callable[[], Awaitable[object]]) -> bool:
        if not await self._store.claim_run(tenant, run, RUN_LEASE_SECONDS):
            return False
        try:
            await produce()
        except BaseException:
            # Let the next tick try again instead of waiting for the lease.
            await self._store.release_run(tenant, run)
            raise
        await self._store.complete_run(tenant, run)
        return True

    # Routes -----------------------------------------------------------------------------
    async def set_route(self, tenant: str, route: NotificationRoute) -> None:
        await self._store.put_document(tenant, "route", route.team_id or "-", json.dumps(route.__dict__ | {"email_recipients": list(route.email_recipients)}).encode())

    async def route(self, tenant: str, team_id: str) -> NotificationRoute | None:
        raw = await self._store.document(tenant, "route", team_id or "-")
        if raw is None:
            return None
        data = json.loads(raw)
        return NotificationRoute(**(data | {"email_recipients": tuple(data["email_recipients"])}))

    async def _notify(self, tenant: str, route: NotificationRoute, base_id: str, title: str, sections: list[str],
                      mentions: list[str], attachment: Attachment | None) -> None:
        chunks = _chunks(sections)
        for i, chunk in enumerate(chunks):
            part = f"/{i + 1}" if len(chunks) > 1 else ""
            heading = title + (f" ({i + 1}/{len(chunks)})" if len(chunks) > 1 else "")
            if route.wecom_webhook_url:
                await self._outbox.enqueue(Notification(f"{base_id}/wecom{part}", tenant, Channel.WECOM, heading, chunk,
                                                        webhook_url=route.wecom_webhook_url, mention_user_ids=tuple(mentions)))
            if route.dingtalk_webhook_url:
                await self._outbox.enqueue(Notification(f"{base_id}/dingtalk{part}", tenant, Channel.DINGTALK, heading, chunk,
                                                        webhook_url=route.dingtalk_webhook_url,
                                                        signing_secret=route.dingtalk_secret, mention_user_ids=tuple(mentions)))
        if route.email_recipients:
            await self._outbox.enqueue(Notification(f"{base_id}/email", tenant, Channel.EMAIL, title, "\n\n".join(sections),
                                                    recipients=route.email_recipients,
                                                    attachments=(attachment,) if attachment else ()))


def followup_to_proto(tenant: str, row: FollowUpMetrics, as_of: datetime) -> rpb.FollowUpMetrics:
    message = rpb.FollowUpMetrics(
        tenant_id=tenant,
        team_id=row.team_id,
        week=str(row.week),
        assigned=row.assigned,
        advanced=row.advanced,
        advanced_first_week=row.advanced_first_week,
        first_week_conversion=row.first_week_conversion or 0.0,
        final=row.final,
        computed_at=timestamp(as_of),
    )
    if row.average_cycle_days is not None:
        message.average_cycle_days = row.average_cycle_days
    return message


def _must_do_sections(lists: list[tuple[RepInfo, rpb.MustDoList]], policy: ProcessPolicy) -> list[str]:
    sections = []
    for rep, listed in lists:
        lines = [f"**{rep.display_name}** ({rep.rep_id})"]
        for t in listed.tasks:
            due = moment(t.due_at).astimezone(policy.zone).strftime("%m-%d %H:%M")
            line = f"{t.rank}. [{due}] {t.action_name_zh} / {t.action_name_en} — {t.opportunity_name}"
            if t.attachment_template.file:
                line += f"\n   模板 template: {t.attachment_template.file}"
            lines.append(line)
        sections.append("\n".join(lines))
    return sections


def _weekly_sections(report: ComplianceReport) -> list[str]:
    def pct(rate):
        return "—" if rate is None else f"{rate * 100:.1f} %"

    sections = [
        f"团队合计 Total: {pct(report.total.rate)} ({report.total.status.value}), "
        f"上周 previous {pct(report.total.previous_rate)}"
    ]
    for line in report.reps:
        t = line.line.tally
        sections.append(
            f"- {line.rep.display_name}: {pct(t.rate)} **{line.line.status.value}** "
            f"({t.done_on_time}/{t.counted}, missing {t.missing}), trend {line.line.trend.value}"
        )
    return sections


def _chunks(sections: list[str]) -> list[str]:
    chunks: list[str] = []
    current = ""
    for section in sections:
        section = section if len(section.encode()) <= _ROBOT_CHUNK_BYTES else section.encode()[:_ROBOT_CHUNK_BYTES].decode(errors="ignore")
        candidate = f"{current}\n\n{section}" if current else section
        if len(candidate.encode()) > _ROBOT_CHUNK_BYTES and current:
            chunks.append(current)
            current = section
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks
