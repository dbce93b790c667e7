"""The actions slice through the real stack: REST → gRPC → Kafka → Faust → Redis →
REST, the stall breaker on a moved clock, SSE push, bad input, and a worker crash."""

from __future__ import annotations

import json
import threading
from datetime import datetime
import time
import uuid

import httpx
import pytest

from dealpulse.actions.v1 import events_pb2
from kernel.auth import mint_token
from tests.e2e.conftest import GATEWAY, end_offsets, records_with_key
from tools import stack

ACTIONS_TOPICS = ["actions.opportunity.v1", "actions.account.v1", "actions.rep.v1", "actions.policy.v1"]
HOURS_49 = 49 * 3600


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def open_opportunity(bob) -> str:
    account, opportunity = new_id("acct"), new_id("opp")
    reply = bob.post("/v1/accounts", json={"account_id": account, "name": "Ruijin Hospital", "industry": "medical_devices"})
    assert reply.status_code == 201, reply.text
    reply = bob.post(
        "/v1/opportunities",
        json={"opportunity_id": opportunity, "account_id": account, "name": "CT scanner", "amount_cents": 420000000, "currency": "CNY"},
    )
    assert reply.status_code == 201, reply.text
    return opportunity


def wait_for(predicate, timeout=30.0, interval=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(interval)
    raise AssertionError(f"not true within {timeout}s")


class SseListener(threading.Thread):
    """Collects `event: alert` payloads from the gateway's stream."""

    def __init__(self, token: str) -> None:
        super().__init__(daemon=True)
        self.token = token
        self.alerts: list[dict] = []
        self.connected = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        try:
            with httpx.stream("GET", f"{GATEWAY}/v1/alerts/stream", headers=headers, timeout=None) as reply:
                self.connected.set()
                event = None
                for line in reply.iter_lines():
                    if line.startswith("event:"):
                        event = line.split(":", 1)[1].strip()
                    elif line.startswith("data:") and event == "alert":
                        self.alerts.append(json.loads(line.split(":", 1)[1]))
        except httpx.RemoteProtocolError:
            pass  # the gateway stopped at the end of the session


def test_walkthrough_read_your_write_then_stall_alert_on_sse(people):
    ann, bob, admin = people["ann"], people["bob"], people["admin"]
    opportunity = open_opportunity(bob)

    # Read-your-own-write: the very next read sees the new stage and the action.
    moved = bob.post(f"/v1/opportunities/{opportunity}/stage", json={"to_stage": "needs_diagnosis"})
    assert moved.status_code == 200, moved.text
    assert bob.get(f"/v1/opportunities/{opportunity}").json()["stage"] == "needs_diagnosis"
    acted = bob.post(
        f"/v1/opportunities/{opportunity}/actions",
        json={"action_id": new_id("act"), "kind": "call", "call_duration_seconds": 600},
    )
    assert acted.status_code == 201, acted.text
    view = bob.get(f"/v1/opportunities/{opportunity}").json()
    assert view["actions"][0]["valid"] is True
    assert view["last_valid_action_at"]

    listener = SseListener(ann.token)
    listener.start()
    assert listener.connected.wait(10)
    time.sleep(0.5)  # the subscription is registered once the response has started

    assert admin.post("/v1/admin/clock/advance", json={"seconds": HOURS_49}).status_code == 200
    alert = wait_for(lambda: next((a for a in listener.alerts if a["opportunity_id"] == opportunity), None))
    assert alert["stage"] == "needs_diagnosis"
    assert alert["owner_id"] == "bob" and alert["manager_id"] == "ann"

    alerts = ann.get("/v1/alerts", params={"opportunity_id": opportunity}).json()["alerts"]
    assert [a["alert_id"] for a in alerts] == [alert["alert_id"]]
    todos = ann.get("/v1/todos").json()["todos"]
    assert any(t["alert_id"] == alert["alert_id"] and t["assignee_id"] == "ann" for t in todos)
    # The rep sees his own alert; a rep of the same tenant who is not involved does not.
    assert bob.get("/v1/alerts", params={"opportunity_id": opportunity}).json()["alerts"]
    carol = people["person"]("carol", "rep")
    assert carol.get("/v1/alerts", params={"opportunity_id": opportunity}).json()["alerts"] == []


def test_tenant_threshold_and_valid_action_postpone_the_alert(people, settings, tenant):
    ann, bob, admin = people["ann"], people["bob"], people["admin"]
    assert ann.put("/v1/policies/stall", json={"threshold_hours": 2}).status_code == 200
    opportunity = open_opportunity(bob)
    deadline = bob.get(f"/v1/opportunities/{opportunity}").json()["stall_deadline"]
    opened = bob.get(f"/v1/opportunities/{opportunity}").json()["stage_entered_at"]
    assert (datetime.fromisoformat(deadline) - datetime.fromisoformat(opened)).total_seconds() == 2 * 3600
    # An invalid action (a 10 s call) does not move the deadline.
    bob.post(f"/v1/opportunities/{opportunity}/actions", json={"action_id": new_id("a"), "kind": "call", "call_duration_seconds": 10})
    assert bob.get(f"/v1/opportunities/{opportunity}").json()["stall_deadline"] == deadline
    assert admin.post("/v1/admin/clock/advance", json={"seconds": 3 * 3600}).status_code == 200
    wait_for(lambda: ann.get("/v1/alerts", params={"opportunity_id": opportunity}).json()["alerts"])


def test_worker_crash_between_stage_change_and_deadline_still_alerts_exactly_once(services, people, settings, tenant):
    ann, bob, admin = people["ann"], people["bob"], people["admin"]
    opportunity = open_opportunity(bob)
    assert bob.post(f"/v1/opportunities/{opportunity}/stage", json={"to_stage": "proposal"}).status_code == 200

    stack.stop("actions-worker", sig=9)
    stack.start("actions-worker", services)
    stack.wait_ready(["actions-worker"], timeout=120)

    assert admin.post("/v1/admin/clock/advance", json={"seconds": HOURS_49}).status_code == 200
    wait_for(lambda: ann.get("/v1/alerts", params={"opportunity_id": opportunity}).json()["alerts"], timeout=60)

    # Crash again after the alert: replaying must not raise it a second time.
    stack.stop("actions-worker", sig=9)
    stack.start("actions-worker", services)
    stack.wait_ready(["actions-worker"], timeout=120)
    assert admin.post("/v1/admin/clock/advance", json={"seconds": HOURS_49}).status_code == 200
    time.sleep(3)
    key = f"{tenant}/{opportunity}"
    # 98 h unhandled also escalated the alert to the director (after 24 h): the alert
    # topic carries each change of the one alert once — the raise and the escalation.
    published = [events_pb2.AlertRaised.FromString(r.value) for r in records_with_key(settings, "actions.alert.raised.v1", key)]
    assert len({a.alert_id for a in published}) == 1
    assert sorted(a.escalation_level for a in published) == [
        events_pb2.ESCALATION_LEVEL_MANAGER,
        events_pb2.ESCALATION_LEVEL_DIRECTOR,
    ]
    assert len(ann.get("/v1/alerts", params={"opportunity_id": opportunity}).json()["alerts"]) == 1


@pytest.mark.parametrize(
    "method, path, body, headers, status",
    [
        ("get", "/v1/opportunities/x", None, {}, 401),
        ("get", "/v1/opportunities/x", None, {"Authorization": "Bearer not-a-token"}, 401),
    ],
)
def test_unauthenticated_requests_get_401(services, method, path, body, headers, status):
    reply = httpx.request(method, f"{GATEWAY}{path}", json=body, headers=headers)
    assert reply.status_code == status
    assert reply.headers["content-type"].startswith("application/problem+json")


def test_bad_input_gets_a_clear_error_and_writes_nothing(people, settings):
    bob, ann = people["bob"], people["ann"]
    opportunity = open_opportunity(bob)
    other_tenant = httpx.Client(
        base_url=GATEWAY,
        headers={"Authorization": f"Bearer {mint_token(settings, subject='eve', tenant='another-tenant', roles=['manager'])}"},
    )
    before = end_offsets(settings, ACTIONS_TOPICS)
    cases = [
        (bob.put("/v1/policies/stall", json={"threshold_hours": 1}), 403),
        (bob.put("/v1/reps/bob", json={"display_name": "Bob", "manager_id": "bob"}), 403),
        (other_tenant.get(f"/v1/opportunities/{opportunity}"), 404),
        (other_tenant.post(f"/v1/opportunities/{opportunity}/stage", json={"to_stage": "proposal"}), 404),
        (bob.post(f"/v1/opportunities/{opportunity}/stage", json={"to_stage": "won-ish"}), (400, 422)),
        (bob.post(f"/v1/opportunities/{opportunity}/stage", json={"stage": "proposal"}), 422),
        (bob.post(f"/v1/opportunities/{opportunity}/actions", json={"action_id": "a1", "kind": "telepathy"}), 422),
        (bob.post("/v1/opportunities", json={"opportunity_id": "o", "account_id": "missing", "name": "x", "amount_cents": 1, "currency": "CNY"}), 404),
        (bob.post("/v1/opportunities", content=b"{not json", headers={"Content-Type": "application/json"}), 422),
        (ann.put("/v1/policies/stall", json={"threshold_hours": -1}), 422),
    ]
    for reply, expected in cases:
        expected = expected if isinstance(expected, tuple) else (expected,)
        assert reply.status_code in expected, (reply.request.url, reply.status_code, reply.text)
        assert reply.headers["content-type"].startswith("application/problem+json"), reply.text
        problem = reply.json()
        assert problem["status"] == reply.status_code and problem["title"]
    assert end_offsets(settings, ACTIONS_TOPICS) == before


def test_reps_work_only_on_their_own_opportunities(people, settings, tenant):
    bob, ann = people["bob"], people["ann"]
    carol = people["person"]("carol", "rep")
    opportunity = open_opportunity(bob)
    attempts = [
        carol.get(f"/v1/opportunities/{opportunity}"),
        carol.post(f"/v1/opportunities/{opportunity}/stage", json={"to_stage": "proposal"}),
        carol.post(f"/v1/opportunities/{opportunity}/actions", json={"action_id": "c1", "kind": "call", "call_duration_seconds": 600}),
        carol.post(
            "/v1/opportunities",
            json={"opportunity_id": new_id("opp"), "account_id": "any", "name": "x", "owner_id": "bob", "amount_cents": 1, "currency": "CNY"},
        ),
    ]
    assert [a.status_code for a in attempts] == [403, 403, 403, 403], [a.text for a in attempts]
    assert ann.get(f"/v1/opportunities/{opportunity}").status_code == 200
    assert ann.post(f"/v1/opportunities/{opportunity}/stage", json={"to_stage": "proposal"}).status_code == 200


def test_a_retried_action_is_recorded_once_and_a_changed_one_is_refused(people):
    bob = people["bob"]
    opportunity = open_opportunity(bob)
    body = {"action_id": new_id("act"), "kind": "call", "call_duration_seconds": 600}
    first = bob.post(f"/v1/opportunities/{opportunity}/actions", json=body)
    again = bob.post(f"/v1/opportunities/{opportunity}/actions", json=body)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json()["action"] == first.json()["action"]
    assert len(bob.get(f"/v1/opportunities/{opportunity}").json()["actions"]) == 1
    changed = bob.post(f"/v1/opportunities/{opportunity}/actions", json={**body, "call_duration_seconds": 30})
    assert changed.status_code == 409, changed.text
