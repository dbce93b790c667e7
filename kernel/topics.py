"""The topic registry: the single source for every topic's name, key, partitions,
retention, schema and owner.

Topic creation (`python -m kernel.topic_admin create`), the Strimzi `KafkaTopic`
resources and the AsyncAPI catalogue (`python -m tools.render_topics`) are all
generated from this list, so they cannot drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

FOREVER = -1
DAY_MS = 24 * 60 * 60 * 1000

_NAME = re.compile(r"^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)+\.v[0-9]+(\.dlq)?$")


@dataclass(frozen=True)
class TopicSpec:
    name: str
    owner: str
    key: str
    schema: str
    summary: str
    partitions: int = 6
    retention_ms: int = FOREVER
    compacted: bool = False
    # Topics a service consumes get a dead-letter twin for undecodable records.
    consumed: bool = False
    config: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"topic name {self.name!r} breaks <domain>.<entity>[.<event>].v<N>")

    @property
    def event_type(self) -> str:
        """CloudEvents `ce_type`: reverse-DNS-ish, mirroring the topic name."""
        return f"io.dealpulse.{self.name}"

    @property
    def dead_letter(self) -> "TopicSpec":
        return TopicSpec(
            name=f"{self.name}.dlq",
            owner=self.owner,
            key=self.key,
            schema="bytes (the undecodable record as received)",
            summary=f"Records of {self.name} no consumer could decode; headers "
            "dlq_reason, dlq_source_topic, dlq_source_partition, dlq_source_offset say why.",
            partitions=1,
            retention_ms=30 * DAY_MS,
        )

    def broker_config(self) -> dict[str, str]:
        config = {
            "cleanup.policy": "compact" if self.compacted else "delete",
            "retention.ms": str(self.retention_ms),
        }
        config.update(self.config)
        return config


OPPORTUNITY = TopicSpec(
    name="actions.opportunity.v1",
    owner="actions",
    key="<tenant_id>/<opportunity_id>",
    schema="dealpulse.actions.v1.OpportunityEvent",
    summary="Every change to an opportunity (opened, stage changed, action recorded, "
    "stall deadline reached), in order per opportunity.",
    partitions=6,
    consumed=True,
)
ACCOUNT = TopicSpec(
    name="actions.account.v1",
    owner="actions",
    key="<tenant_id>/<account_id>",
    schema="dealpulse.actions.v1.AccountEvent",
    summary="Accounts created and changed.",
    partitions=3,
    consumed=True,
)
REP = TopicSpec(
    name="actions.rep.v1",
    owner="actions",
    key="<tenant_id>/<rep_id>",
    schema="dealpulse.actions.v1.RepEvent",
    summary="Reps and who they report to (the escalation chain).",
    partitions=3,
    consumed=True,
)
POLICY = TopicSpec(
    name="actions.policy.v1",
    owner="actions",
    key="<tenant_id>",
    schema="dealpulse.actions.v1.TenantPolicyEvent",
    summary="Each tenant's process thresholds; compacted, the latest per tenant wins.",
    partitions=3,
    compacted=True,
    consumed=True,
)
ALERT_RAISED = TopicSpec(
    name="actions.alert.raised.v1",
    owner="actions",
    key="<tenant_id>/<opportunity_id>",
    schema="dealpulse.actions.v1.AlertRaised",
    summary="Process alerts (a stalled opportunity, ...). The event id is deterministic: "
    "a redelivered alert carries the same ce_id.",
    partitions=6,
    retention_ms=400 * DAY_MS,
    consumed=True,
)
TODO_CREATED = TopicSpec(
    name="actions.todo.created.v1",
    owner="actions",
    key="<tenant_id>/<assignee_id>",
    schema="dealpulse.actions.v1.TodoCreated",
    summary="To-dos the system assigns (e.g. a manager's follow-up of a stalled opportunity).",
    partitions=3,
    retention_ms=400 * DAY_MS,
    consumed=True,
)

ACTIONS_TOPICS: tuple[TopicSpec, ...] = (
    OPPORTUNITY,
    ACCOUNT,
    REP,
    POLICY,
    ALERT_RAISED,
    TODO_CREATED,
)

# ---- activity ingestion (gateway adapters) and pulse analytics -------------------------
# 20,000 events/s is well under what one partition carries; the partition count is
# the ceiling on pulse worker processes sharing a topic (scale-out), so it is sized
# for 12 workers. Keys put one rep's events on one partition, in order.
ACTIVITY_EVENT = TopicSpec(
    name="gateway.activity.v1",
    owner="gateway",
    key="<tenant_id>/<rep_id> (<tenant_id>/~ when the rep is unknown)",
    schema="dealpulse.activity.v1.ActivityEvent",
    summary="Raw rep activities (check-in/out, visit, call, email, external contact, "
    "requirement note) from DingTalk, WeCom, email and CSV backfill, with the original "
    "payload as redacted evidence. ce_id = activity_id, derived from (tenant, source, "
    "source id): a vendor retry carries the same id. Kept forever: pulse replays it.",
    partitions=12,
    consumed=True,
)

ACTIVITY_TOPICS: tuple[TopicSpec, ...] = (ACTIVITY_EVENT,)

PULSE_VISIT_VERDICT = TopicSpec(
    name="pulse.visit.verdict.v1",
    owner="pulse",
    key="<tenant_id>/<rep_id>",
    schema="dealpulse.pulse.v1.VisitVerdict",
    summary="Effective-visit verdicts with their reasons and evidence ids, revised while "
    "late events can still change them: the latest record per visit_id wins. "
    "ce_id is derived from the verdict's content.",
    partitions=12,
    retention_ms=400 * DAY_MS,
    consumed=True,
)
PULSE_INDICATOR_CHANGED = TopicSpec(
    name="pulse.indicator.changed.v1",
    owner="pulse",
    key="<tenant_id>/<scope> (scope = rep:<rep_id> or customer:<customer_id>)",
    schema="dealpulse.pulse.v1.IndicatorChanged",
    summary="Process-health indicator changes per rep and day (lead response, stage "
    "progression, forecast A/B share, effective visits) and per customer (data "
    "completeness with the missing fields), with red/yellow/green state: the latest "
    "record per (indicator, scope, window) wins. ce_id is derived from the change itself "
    "(value and state before and after), so consumers de-duplicate redeliveries and a "
    "scope returning to an earlier value is a new event.",
    partitions=12,
    retention_ms=400 * DAY_MS,
)

PULSE_TOPICS: tuple[TopicSpec, ...] = (PULSE_VISIT_VERDICT, PULSE_INDICATOR_CHANGED)

# ---- audit: the tamper-evident log, approvals, and the grade-change signal for BI ------
# The intake and the log are keyed by tenant and have the same partition count: the
# chain writer consuming intake partition p is the only writer of the chains on log
# partition p (it writes there explicitly), so each tenant's chain has one writer.
AUDIT_INTAKE = TopicSpec(
    name="audit.intake.v1",
    owner="audit",
    key="<tenant_id>",
    schema="dealpulse.audit.v1.AuditEntry",
    summary="Facts to audit (domain changes, permission decisions, Record calls) before "
    "they are chained; the audit worker drops an entry whose event_id is already chained.",
    partitions=6,
    retention_ms=30 * DAY_MS,
    consumed=True,
)
AUDIT_RECORD = TopicSpec(
    name="audit.record.v1",
    owner="audit",
    key="<tenant_id>",
    schema="dealpulse.audit.v1.AuditRecord",
    summary="The hash-chained audit log, kept forever: record n of a tenant carries the "
    "hash of record n-1. The queryable store is a projection rebuilt from this topic.",
    partitions=6,
    consumed=True,
)
AUDIT_APPROVAL = TopicSpec(
    name="audit.approval.v1",
    owner="audit",
    key="<tenant_id>/<request_id>",
    schema="dealpulse.audit.v1.ApprovalEvent",
    summary="Approval requests submitted, decided and escalated; a request is the fold "
    "of its events.",
    partitions=6,
    consumed=True,
)
AUDIT_APPROVAL_COMPLETED = TopicSpec(
    name="audit.approval.completed.v1",
    owner="audit",
    key="<tenant_id>/<entity_id>",
    schema="dealpulse.audit.v1.ApprovalCompleted",
    summary="Approval requests approved or rejected. The service owning the record "
    "applies an approved change (as source system); ce_id is derived from the request.",
    partitions=6,
    consumed=True,
)
AUDIT_NOTIFICATION_REQUESTED = TopicSpec(
    name="audit.notification.requested.v1",
    owner="audit",
    key="<tenant_id>",
    schema="dealpulse.audit.v1.NotificationRequested",
    summary="People to tell about approvals (a step awaits them, it escalated, their "
    "request finished); ce_id is derived from the cause.",
    partitions=3,
    retention_ms=30 * DAY_MS,
)
CUSTOMER_GRADE_CHANGED = TopicSpec(
    name="actions.grade.changed.v1",
    owner="actions",
    key="<tenant_id>/<account_id>",
    schema="dealpulse.actions.v1.CustomerGradeChanged",
    summary="For BI: a customer's grade changed (edited directly before the customer was "
    "won; once won, only after the customer_grade_change approval). Recompute the "
    "customer's segment from this event instead of waiting for the nightly extract; it "
    "carries the customer's name, industry and owner. ce_id is derived from the approval "
    "request (or the account event of a direct edit): a redelivery has the same ce_id.",
    partitions=3,
)

AUDIT_ANOMALY_REPORT = TopicSpec(
    name="audit.anomaly.report.v1",
    owner="audit",
    key="<tenant_id>",
    schema="dealpulse.audit.v1.AnomalyReport",
    summary="Each tenant's weekly anomaly report (edits concentrated on Friday evenings or "
    "at month end, many grade changes by one actor, edits soon after close), every finding "
    "with the audit records behind it; published once the local week is over. ce_id is "
    "derived from (tenant, week).",
    partitions=3,
)

AUDIT_TOPICS: tuple[TopicSpec, ...] = (
    AUDIT_INTAKE,
    AUDIT_RECORD,
    AUDIT_APPROVAL,
    AUDIT_APPROVAL_COMPLETED,
    AUDIT_NOTIFICATION_REQUESTED,
    CUSTOMER_GRADE_CHANGED,
    AUDIT_ANOMALY_REPORT,
)

# ---- actions: tenant templates -------------------------------------------------------
TEMPLATE = TopicSpec(
    name="actions.template.v1",
    owner="actions",
    key="<tenant_id>/<template_id>",
    schema="dealpulse.actions.v1.TemplatePublished",
    summary="Tenants' own industry templates (copies and customised versions) as whole "
    "documents; a published (id, version) never changes. Kept forever: opportunities "
    "pinned to a version are judged by it to the end.",
    partitions=3,
    consumed=True,
)

ACTIONS_TEMPLATE_TOPICS: tuple[TopicSpec, ...] = (TEMPLATE,)

# ---- actions: reporting (must-do lists, follow-up metrics) ----------------------------
MUSTDO_PUBLISHED = TopicSpec(
    name="actions.mustdo.published.v1",
    owner="actions",
    key="<tenant_id>/<rep_id>",
    schema="dealpulse.actions.v1.MustDoList",
    summary="Each rep's daily must-do list (top tasks with due time, attachment template and "
    "the ranking explained), made once per rep per tenant-local day. The event id is the "
    "list id, derived from (tenant, rep, day): a regenerated list carries the same ce_id.",
    partitions=6,
    retention_ms=400 * DAY_MS,
)
FOLLOWUP_METRICS = TopicSpec(
    name="actions.followup.metrics.v1",
    owner="actions",
    key="<tenant_id>/<team_id>/<week>",
    schema="dealpulse.actions.v1.FollowUpMetrics",
    summary="Lead follow-up metrics per team and weekly assignment cohort: average days from "
    "assignment to the next stage and first-week conversion. Compacted: the latest figures "
    "of a cohort win; republished every morning until the cohort is final.",
    partitions=3,
    compacted=True,
)

REPORTING_TOPICS: tuple[TopicSpec, ...] = (MUSTDO_PUBLISHED, FOLLOWUP_METRICS)

# ---- actions: leads (assignment, first response, conversion) -------------------------
LEAD = TopicSpec(
    name="actions.lead.v1",
    owner="actions",
    key="<tenant_id>/<lead_id>",
    schema="dealpulse.actions.v1.LeadEvent",
    summary="Every change to a lead (created, assigned or reassigned to a rep, contacted, "
    "response deadline reached, converted to an opportunity), in order per lead. "
    "`contacted` events carry the activity id as evidence and its ce_id is derived from it.",
    partitions=6,
    consumed=True,
)

ACTIONS_LEAD_TOPICS: tuple[TopicSpec, ...] = (LEAD,)

# Each bounded context declares its topics in its own block below the actions one and
# adds its tuple here, so the registry stays the single list.
PUBLIC_TOPICS: tuple[TopicSpec, ...] = ACTIONS_TOPICS + ACTIVITY_TOPICS + PULSE_TOPICS + AUDIT_TOPICS + ACTIONS_TEMPLATE_TOPICS + REPORTING_TOPICS + ACTIONS_LEAD_TOPICS


def all_topics() -> tuple[TopicSpec, ...]:
    """Public topics followed by the dead-letter topics of those that are consumed."""
    return PUBLIC_TOPICS + tuple(t.dead_letter for t in PUBLIC_TOPICS if t.consumed)


def by_name(name: str) -> TopicSpec:
    for spec in all_topics():
        if spec.name == name:
            return spec
    raise KeyError(f"no topic {name!r} in the registry")
