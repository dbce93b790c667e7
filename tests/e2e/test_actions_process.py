"""Issue 3 through the real stack: an opportunity of a shipped template driven from its
first stage to closed-won through the gateway, blocked at a gate until its evidence is
valid (the activity evidence arrives on the activity stream); a stall alert that
escalates rep -> manager -> director and is then handled.

Hooks left for the reporting helper: the must-do list and the weekly report parts of
the issue's end-to-end test belong in their own test module (test_actions_reporting.py)
using the same `people` fixture and this module's `open_on_template`."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

from dealpulse.activity.v1 import events_pb2 as activity
from kernel.envelope import deterministic_event_id
from kernel.kafka import AioKafkaTransport, EventPublisher
from kernel.topics import ACTIVITY_EVENT
from tests.e2e.test_slice import new_id, wait_for

TEMPLATE = "medical_devices"


def open_on_template(bob) -> str:
    account, opportunity = new_id("acct"), new_id("opp")
    assert bob.post("/v1/accounts", json={"account_id": account, "name": "Ruijin", "industry": TEMPLATE}).status_code == 201
    reply = bob.post(
        "/v1/opportunities",
        json={
            "opportunity_id": opportunity,
            "account_id": account,
            "name": "CT scanner",
            "amount_cents": 420000000,
            "currency": "CNY",
            "template_id": TEMPLATE,
        },
    )
    assert reply.status_code == 201, reply.text
    assert (reply.json()["template_id"], reply.json()["template_version"], reply.json()["stage"]) == (TEMPLATE, 1, "lead")
    return opportunity


def publish_call(settings, tenant: str, rep: str, minutes: int, *, lead_id: str = "", at: datetime | None = None) -> str:
    """A connected call as the gateway's DingTalk adapter would put it on the stream."""
    activity_id = deterministic_event_id(tenant, "e2e", uuid.uuid4().hex)
    event = activity.ActivityEvent(tenant_id=tenant, activity_id=activity_id, source_id=activity_id, rep_id=rep, lead_id=lead_id)
    event.occurred_at.FromDatetime(at or datetime.now(timezone.utc))
    event.call.duration_seconds = minutes * 60

    async def send() -> None:
        transport = AioKafkaTransport(settings.kafka_bootstrap, client_id="e2e-activity")
        await transport.start()
        try:
            await EventPublisher(transport.send, "dealpulse/gateway").publish(
                ACTIVITY_EVENT, event, key=f"{tenant}/{rep}", tenant_id=tenant, event_time=datetime.now(timezone.utc),
                event_id=activity_id,
            )
        finally:
            await transport.stop()

    asyncio.run(send())
    return activity_id


def test_a_template_opportunity_is_gated_until_its_evidence_is_valid_then_closes_won(people, settings, tenant):
    bob, ann = people["bob"], people["ann"]
    opportunity = open_on_template(bob)
    blocked = bob.post(f"/v1/opportunities/{opportunity}/stage", json={"to_stage": "qualification"})
    assert blocked.status_code == 409, blocked.text
    assert blocked.headers["content-type"].startswith("application/problem+json")
    assert {e["action_id"] for e in blocked.json()["errors"]} == {"first_contact_call", "hospital_profile"}

    fields = bob.get(f"/v1/templates/{TEMPLATE}").json()["document"]["stages"][0]["actions"][1]["evidence"]["required_fields"]
    thin = {"form": {fields[0]: "Ruijin Hospital"}}
    reply = bob.post(
        f"/v1/opportunities/{opportunity}/actions",
        json={"action_id": "profile-1", "template_action_id": "hospital_profile", "submission": thin},
    )
    assert reply.status_code == 201 and reply.json()["action"]["valid"] is False, reply.text
    short_call = publish_call(settings, tenant, "bob", minutes=1)

    def short_call_judged():
        reply = bob.post(
            f"/v1/opportunities/{opportunity}/actions",
            json={"action_id": f"call-{uuid.uuid4().hex[:6]}", "template_action_id": "first_contact_call",
                  "submission": {"activity_ids": [short_call]}},
        ).json()["action"]
        return not reply["valid"] and not any("not known" in r for r in reply["invalid_reasons"])

    wait_for(short_call_judged)  # a 1-minute call is known, and too short to count
    still = bob.post(f"/v1/opportunities/{opportunity}/stage", json={"to_stage": "qualification"})
    assert still.status_code == 409 and {e["action_id"] for e in still.json()["errors"]} == {"first_contact_call", "hospital_profile"}

    full = {"form": {name: f"value of {name}" for name in fields}}
    assert bob.post(
        f"/v1/opportunities/{opportunity}/actions",
        json={"action_id": "profile-2", "template_action_id": "hospital_profile", "submission": full},
    ).json()["action"]["valid"] is True
    call = publish_call(settings, tenant, "bob", minutes=5)

    def record_call():
        reply = bob.post(
            f"/v1/opportunities/{opportunity}/actions",
            json={"action_id": f"call-{uuid.uuid4().hex[:6]}", "template_action_id": "first_contact_call",
                  "submission": {"activity_ids": [call]}},
        )
        return reply.json()["action"]["valid"]

    wait_for(record_call)
    moved = bob.post(f"/v1/opportunities/{opportunity}/stage", json={"to_stage": "qualification"})
    assert moved.status_code == 200 and moved.json()["stage"] == "qualification", moved.text

    # The remaining gates: a rep may not override, a manager may with a reason.
    template = bob.get(f"/v1/templates/{TEMPLATE}").json()["document"]
    path = ["qualification"]
    by_id = {s["id"]: s for s in template["stages"]}
    while path[-1] != "closed_won":
        path.append(next(n for n in by_id[path[-1]]["next"] if n != "closed_lost"))
    for stage in path[1:]:
        refused = bob.post(f"/v1/opportunities/{opportunity}/stage", json={"to_stage": stage, "override_reason": "urgent"})
        assert refused.status_code in (403, 409), refused.text
        reply = ann.post(
            f"/v1/opportunities/{opportunity}/stage",
            json={"to_stage": stage, "override_reason": "tender deadline; evidence follows"},
        )
        assert reply.status_code == 200, reply.text
    assert bob.get(f"/v1/opportunities/{opportunity}").json()["stage"] == "closed_won"


def test_an_unhandled_stall_alert_escalates_to_the_director_and_is_then_handled(people, tenant):
    bob, ann, admin, person = people["bob"], people["ann"], people["admin"], people["person"]
    assert ann.put("/v1/reps/ann", json={"display_name": "Ann", "manager_id": "dora"}).status_code == 200
    dora = person("dora", "director")
    opportunity = open_on_template(bob)
    assert admin.post("/v1/admin/clock/advance", json={"seconds": 49 * 3600}).status_code == 200
    alert = wait_for(lambda: next(iter(ann.get("/v1/alerts", params={"opportunity_id": opportunity}).json()["alerts"]), None))
    assert (alert["escalation_level"], alert["status"]) == ("manager", "open")
    assert admin.post("/v1/admin/clock/advance", json={"seconds": 25 * 3600}).status_code == 200
    escalated = wait_for(
        lambda: next((a for a in dora.get("/v1/alerts").json()["alerts"]
                      if a["alert_id"] == alert["alert_id"] and a["escalation_level"] == "director"), None)
    )
    assert escalated["director_id"] == "dora"
    assert any(t["assignee_id"] == "dora" for t in dora.get("/v1/todos").json()["todos"])
    no_reason = ann.post(f"/v1/opportunities/{opportunity}/alerts/{alert['alert_id']}/snooze", json={"reason": "", "snooze_hours": 4})
    assert no_reason.status_code == 422
    handled = ann.post(f"/v1/opportunities/{opportunity}/alerts/{alert['alert_id']}/handle", json={"note": "called bob"})
    assert handled.status_code == 200, handled.text
    assert (handled.json()["status"], handled.json()["status_actor_id"]) == ("handled", "ann")


def test_a_lead_unanswered_within_the_limit_alerts_the_rep_and_the_manager(people, settings, tenant):
    bob, ann, admin = people["bob"], people["ann"], people["admin"]
    quiet, answered = new_id("lead"), new_id("lead")
    for lead in (quiet, answered):
        reply = ann.post("/v1/leads", json={"lead_id": lead, "name": "Dr. Wang", "contact_phone": "+86 21 6437 0045", "rep_id": "bob"})
        assert reply.status_code == 201, reply.text
        assert (reply.json()["status"], reply.json()["owner_id"]) == ("awaiting_response", "bob")
    assigned_at = datetime.fromisoformat(reply.json()["assignments"][0]["assigned_at"].replace("Z", "+00:00"))
    # Bob calls the second lead back after 3 minutes (event time): the first response.
    publish_call(settings, tenant, "bob", minutes=2, lead_id=answered, at=assigned_at + timedelta(minutes=3))
    done = wait_for(lambda: (lead := bob.get(f"/v1/leads/{answered}").json())["status"] == "responded" and lead)
    assert done["response_seconds"] == 180
    assert admin.post("/v1/admin/clock/advance", json={"seconds": 16 * 60}).status_code == 200
    alert = wait_for(lambda: next((a for a in ann.get("/v1/alerts").json()["alerts"] if a["lead_id"] == quiet), None))
    assert (alert["kind"], alert["owner_id"], alert["manager_id"], alert["status"]) == ("lead_response_overdue", "bob", "ann", "open")
    assert any(a["alert_id"] == alert["alert_id"] for a in bob.get("/v1/alerts").json()["alerts"])
    assert not any(a["lead_id"] == answered for a in ann.get("/v1/alerts").json()["alerts"])
    assert bob.get(f"/v1/leads/{quiet}").json()["assignments"][0]["overdue"] is True
    stats = ann.get("/v1/leads/response-stats").json()
    (rep,) = stats["reps"]
    assert (rep["id"], rep["answered"], rep["answered_within_limit"], rep["overdue_unanswered"]) == ("bob", 1, 1, 1)
    assert (rep["p50_seconds"], rep["within_limit_percent"], stats["teams"][0]["id"]) == (180.0, 50.0, "ann")
