"""Nothing a user did is lost when Redis or the broker restarts, and a record no one
can decode is parked on the dead-letter topic without stalling the worker."""

from __future__ import annotations

import subprocess
import uuid
from datetime import datetime, timezone

from kafka import KafkaProducer

from dealpulse.actions.v1 import events_pb2 as events
from kernel.envelope import Envelope
from kernel.topics import POLICY

from tests.e2e.conftest import records_with_key
from tests.e2e.test_slice import new_id, open_opportunity, wait_for


def restart(component: str) -> None:
    subprocess.run(["bash", f"deploy/local/{component}.sh", "stop"], check=True)
    subprocess.run(["bash", f"deploy/local/{component}.sh", "start"], check=True)


def test_redis_restart_keeps_the_projection_and_the_armed_deadline(people):
    bob = people["bob"]
    opportunity = open_opportunity(bob)
    before = bob.get(f"/v1/opportunities/{opportunity}").json()

    restart("redis")

    after = wait_for(lambda: (r := bob.get(f"/v1/opportunities/{opportunity}")).status_code == 200 and r.json())
    assert after == before
    moved = bob.post(f"/v1/opportunities/{opportunity}/stage", json={"to_stage": "qualification"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["stall_deadline"] > before["stall_deadline"]


def test_broker_restart_loses_no_acknowledged_event_and_the_slice_recovers(people, settings, tenant):
    bob = people["bob"]
    opportunity = open_opportunity(bob)
    acted = bob.post(
        f"/v1/opportunities/{opportunity}/actions",
        json={"action_id": new_id("act"), "kind": "email", "email_message_id": "<m1@example.com>"},
    )
    assert acted.status_code == 201, acted.text

    restart("kafka")

    # The first writes after a broker restart may wait for reconnection; none may be lost.
    def moved():
        reply = bob.post(f"/v1/opportunities/{opportunity}/stage", json={"to_stage": "proposal"})
        return reply.status_code == 200 and reply.json()

    view = wait_for(moved, timeout=120, interval=2)
    assert view["stage"] == "proposal"
    assert [a["valid"] for a in view["actions"]] == [True]
    kinds = [r.headers for r in records_with_key(settings, "actions.opportunity.v1", f"{tenant}/{opportunity}")]
    assert len(kinds) == 3  # opened, action recorded, stage changed: each exactly once


def test_undecodable_record_goes_to_the_dead_letter_topic_and_the_worker_moves_on(people, settings, tenant):
    key = f"{tenant}/garbage-{uuid.uuid4().hex[:6]}"
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    producer.send("actions.opportunity.v1", key=key.encode(), value=b"\x00not protobuf", headers=[("ce_id", b"x")])
    producer.flush()
    producer.close()

    parked = wait_for(lambda: records_with_key(settings, "actions.opportunity.v1.dlq", key), timeout=60, interval=1)
    headers = dict(parked[0].headers)
    assert headers["dlq_reason"].startswith(b"missing header")
    assert headers["dlq_source_topic"] == b"actions.opportunity.v1"
    assert parked[0].value == b"\x00not protobuf"
    # The worker did not stall on it.
    assert open_opportunity(people["bob"])


def test_a_well_formed_record_the_rules_cannot_apply_is_dead_lettered_not_retried_forever(people, settings, tenant):
    zero = events.TenantPolicyEvent(tenant_id=tenant, actor_id="intruder", stall=events.StallPolicy(threshold_seconds=0))
    envelope = Envelope.for_topic(POLICY, source="test", subject=tenant, tenant_id=tenant, time=datetime.now(timezone.utc))
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    producer.send(POLICY.name, key=tenant.encode(), value=zero.SerializeToString(), headers=envelope.to_headers())
    producer.flush()
    producer.close()

    parked = wait_for(lambda: records_with_key(settings, "actions.policy.v1.dlq", tenant), timeout=60, interval=1)
    assert dict(parked[0].headers)["dlq_reason"].startswith(b"cannot apply: policy of")
    # The tenant's policy is untouched and the worker still applies the next one.
    ann = people["ann"]
    assert ann.get("/v1/policies/stall").json()["threshold_seconds"] == 48 * 3600
    assert ann.put("/v1/policies/stall", json={"threshold_hours": 24}).status_code == 200
