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

# Each bounded context declares its topics in its own block below the actions one and
# adds its tuple here, so the registry stays the single list.
PUBLIC_TOPICS: tuple[TopicSpec, ...] = ACTIONS_TOPICS


def all_topics() -> tuple[TopicSpec, ...]:
    """Public topics followed by the dead-letter topics of those that are consumed."""
    return PUBLIC_TOPICS + tuple(t.dead_letter for t in PUBLIC_TOPICS if t.consumed)


def by_name(name: str) -> TopicSpec:
    for spec in all_topics():
        if spec.name == name:
            return spec
    raise KeyError(f"no topic {name!r} in the registry")
