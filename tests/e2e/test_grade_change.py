"""Customer grade after the win, end to end through the gateway (issue 5, the article's
"为什么销售总在'已成交'阶段反复修改客户等级"): a rep's direct edit of a closed-won
customer's grade is refused naming the rule and the refusal is in the audit log; the
approval path (rep submits → manager approves → finance reviews) changes it, BI gets
the event on actions.grade.changed.v1 and the marketing contact's WeCom robot is told.
A rejected request changes nothing and the rep is told."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dealpulse.actions.v1 import account_grade_pb2
from tests.e2e.conftest import records_with_key

WAIT_SECONDS = 45


class RobotReceiver:
    """A local stand-in for a WeCom group robot: records what it is sent, answers errcode 0."""

    def __init__(self) -> None:
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append({"path": self.path, "payload": json.loads(body)})
                answer = b'{"errcode":0,"errmsg":"ok"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/cgi-bin/webhook/send?key=marketing"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()


@pytest.fixture
def robot():
    receiver = RobotReceiver()
    yield receiver
    receiver.stop()


def eventually(check, what: str, timeout: float = WAIT_SECONDS):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.3)


def ok(reply, status=200):
    assert reply.status_code == status, reply.text
    return reply.json()


def retried(call, status=200):
    """An idempotent call (fixed ids) repeated while a service says "not yet, retry"
    (503/504): the audit worker may still be catching up when the stack has just started."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        reply = call()
        if reply.status_code not in (503, 504) or time.monotonic() > deadline:
            return ok(reply, status)
        time.sleep(1)


def decide(client, request_id: str, step: str, verdict: str, reason: str = ""):
    body = {"step": step, "verdict": verdict, "reason": reason, "decision_id": f"{request_id}-{step}"}
    return retried(lambda: client.post(f"/v1/approvals/{request_id}/decisions", json=body))


def won_customer(people, robot, account_id: str) -> None:
    ann, bob = people["ann"], people["bob"]
    ok(bob.post("/v1/accounts", json={"account_id": account_id, "name": "Ruijin Hospital", "industry": "medical_devices"}), 201)
    graded = ok(bob.patch(f"/v1/accounts/{account_id}", json={"grade": "B", "address": "197 Ruijin 2nd Rd, Shanghai",
                                                            "latitude": 31.2089, "longitude": 121.4673}))
    assert graded["grade"] == "B" and graded["customer_won"] is False
    ok(ann.put(f"/v1/accounts/{account_id}/marketing-contact",
               json={"marketing_contact_id": "mia", "display_name": "Mia", "wecom_webhook_url": robot.url, "mention_id": "mia"}))
    opportunity = f"{account_id}-ct"
    ok(bob.post("/v1/opportunities", json={"opportunity_id": opportunity, "account_id": account_id, "name": "CT scanner",
                                            "amount_cents": 420000000, "currency": "CNY"}), 201)
    ok(bob.post(f"/v1/opportunities/{opportunity}/stage", json={"to_stage": "closed_won"}))
    account = ok(bob.get(f"/v1/accounts/{account_id}"))
    assert account["customer_won"] is True and account["won_opportunity_ids"] == [opportunity]


def test_a_won_customers_grade_changes_only_through_the_approval(people, robot, settings, tenant):
    ann, bob, person = people["ann"], people["bob"], people["person"]
    fay = person("fay", "finance")
    account_id = f"ruijin-{uuid.uuid4().hex[:6]}"
    won_customer(people, robot, account_id)

    # The rep's direct edit is refused, naming the rule and the way to ask instead.
    denied = bob.patch(f"/v1/accounts/{account_id}", json={"grade": "A"})
    assert denied.status_code == 403, denied.text
    assert denied.headers["content-type"].startswith("application/problem+json")
    problem = denied.json()
    assert problem["rule_id"] == "customer-grade-locked-after-win"
    assert "customer-grade-locked-after-win" in problem["detail"]
    assert problem["approval_workflow"] == "customer_grade_change"
    # Contact information stays the rep's to keep current; nothing else does.
    assert ok(bob.patch(f"/v1/accounts/{account_id}", json={"contact_phone": "+86 21 6437 0045"}))["contact_phone"]
    other = bob.patch(f"/v1/accounts/{account_id}", json={"address": "elsewhere"})
    assert other.status_code == 403 and other.json()["rule_id"] == "rep-contact-only-after-won"
    assert ok(bob.get(f"/v1/accounts/{account_id}"))["grade"] == "B"

    # ... and the refusal is in the audit log.
    def refusal():
        records = ok(ann.get("/v1/audit/records", params={"entity_type": "account", "entity_id": account_id, "field": "grade"}))
        return [r for r in records.get("records", []) if r["entry"].get("decision", {}).get("rule_id") == "customer-grade-locked-after-win"]

    (audited,) = eventually(refusal, "the audited refusal")
    assert audited["entry"]["actor_id"] == "bob" and audited["entry"]["decision"].get("allowed", False) is False

    # The approval path: rep submits, manager approves, finance reviews.
    submitted = retried(lambda: bob.post(f"/v1/accounts/{account_id}/grade-change-requests",
                                         json={"grade": "A", "reason": "annual volume doubled after the CT installation"}), 202)
    request_id = submitted["request"]["request_id"]
    assert submitted["request"]["status"] == "pending" and submitted["request"]["to_grade"] == "A"
    decide(ann, request_id, "manager_approval", "approve")
    assert ok(bob.get(f"/v1/accounts/{account_id}"))["grade"] == "B"  # not before the last approval
    decide(fay, request_id, "finance_review", "approve", "contract volume verified")

    account = eventually(lambda: (a := ok(bob.get(f"/v1/accounts/{account_id}")))["grade"] == "A" and a, "the approved grade")
    assert account["grade_approval_request_id"] == request_id

    # BI's signal, once, naming the request.
    def signals():
        records = records_with_key(settings, "actions.grade.changed.v1", f"{tenant}/{account_id}")
        return [account_grade_pb2.CustomerGradeChanged.FromString(r.value) for r in records]

    found = eventually(lambda: [s for s in signals() if s.approval_request_id == request_id], "the BI event")
    assert [(s.from_grade, s.to_grade, s.changed_by, list(s.approved_by)) for s in found] == [("B", "A", "bob", ["ann", "fay"])]

    # The marketing contact's robot got the real WeCom markdown payload.
    (message,) = eventually(lambda: robot.received, "the marketing contact's WeCom message")
    assert message["payload"]["msgtype"] == "markdown"
    content = message["payload"]["markdown"]["content"]
    assert "Ruijin Hospital" in content and "B → A" in content and request_id in content and "<@mia>" in content


def test_a_rejected_grade_change_changes_nothing_and_tells_the_rep(people, robot, tenant):
    ann, bob, person = people["ann"], people["bob"], people["person"]
    fay = person("fay", "finance")
    account_id = f"ruijin-{uuid.uuid4().hex[:6]}"
    won_customer(people, robot, account_id)

    request_id = retried(lambda: bob.post(f"/v1/accounts/{account_id}/grade-change-requests",
                                          json={"grade": "D", "reason": "they complained twice"}), 202)["request"]["request_id"]
    decide(ann, request_id, "manager_approval", "approve")
    decide(fay, request_id, "finance_review", "reject", "payments are on time")

    todo = eventually(
        lambda: [t for t in ok(bob.get("/v1/todos"))["todos"] if t["todo_id"] == f"approval-{request_id}"], "the rep's to-do"
    )[0]
    assert "payments are on time" in todo["title"] and "fay" in todo["title"]
    assert ok(bob.get(f"/v1/accounts/{account_id}"))["grade"] == "B"
    assert robot.received == []
