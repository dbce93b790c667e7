"""The audit service end to end through the gateway, on the real stack: an approval
runs with the right roles only and every step of it lands in the hash-chained log;
any edit to a stored audit record is caught by verify; the weekly anomaly report and
the CSV export are served to auditors. (The grade change applied through actions is
in test_grade_change.py.)"""

from __future__ import annotations

import csv
import io
import json
import time
import uuid

import pytest
from redis import Redis

WAIT_SECONDS = 45


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
    """An idempotent call (fixed ids) repeated while the service says "not yet" (503/504):
    the audit worker may still be joining its consumer groups right after start-up."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        reply = call()
        if reply.status_code not in (503, 504) or time.monotonic() > deadline:
            return ok(reply, status)
        time.sleep(1)


def approval_records(auditor, request_id: str) -> list[dict]:
    found = ok(auditor.get("/v1/audit/records", params={"entity_type": "approval_request", "entity_id": request_id}))
    return found.get("records", [])


def test_an_approval_runs_with_the_right_roles_only_and_is_audited(people):
    bob, ann, person = people["bob"], people["ann"], people["person"]
    fay, carl, dan = person("fay", "finance"), person("carl", "rep"), person("dan", "director")
    request_id = f"grade-{uuid.uuid4().hex[:8]}"
    body = {
        "request_id": request_id,
        "workflow": "customer_grade_change",
        "change": {"entity_type": "account", "entity_id": f"acct-{request_id}", "field": "grade", "before": "B", "after": "A"},
        "reason": "three-year framework contract signed",
    }
    submitted = retried(lambda: bob.post("/v1/approvals", json=body), 201)
    assert submitted["status"] == "pending" and [s["name"] for s in submitted["steps"]] == ["manager_approval"]
    assert submitted["change"]["after"] == "A"

    def decide(client, step, verdict="approve", reason=""):
        return client.post(
            f"/v1/approvals/{request_id}/decisions",
            json={"step": step, "verdict": verdict, "reason": reason, "decision_id": f"{request_id}-{client.subject}-{step}"},
        )

    # Only a manager decides the first step; the submitter never decides their own request.
    for wrong in (fay, carl, bob):
        refused = decide(wrong, "manager_approval")
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert "needs one of the roles manager" in decide(fay, "manager_approval").json()["detail"]
    assert decide(fay, "finance_review").status_code == 409  # not open yet
    assert [r["request_id"] for r in ok(ann.get("/v1/approvals/pending"))["requests"]] == [request_id]
    assert ok(fay.get("/v1/approvals/pending"))["requests"] == []

    after_manager = ok(decide(ann, "manager_approval"))
    assert after_manager["steps"][0]["decided_by"] == "ann" and after_manager["steps"][1]["name"] == "finance_review"
    assert ok(decide(ann, "manager_approval")) == after_manager  # a retry of the same decision
    assert decide(ann, "finance_review").status_code == 403  # four eyes: another person
    assert decide(dan, "finance_review").status_code == 403  # not escalated
    done = ok(decide(fay, "finance_review", reason="payment history checked"))
    assert done["status"] == "approved"
    assert carl.get(f"/v1/approvals/{request_id}").status_code == 403
    assert ok(bob.get(f"/v1/approvals/{request_id}"))["status"] == "approved"

    # Every step is in the tamper-evident log, in order, with who and why.
    records = eventually(lambda: (r := approval_records(dan, request_id)) and len(r) >= 4 and r, "the approval's audit records")
    assert [(r["entry"]["field"], r["entry"]["actor_id"]) for r in records] == [
        ("", "bob"),
        ("step_manager_approval", "ann"),
        ("step_finance_review", "fay"),
        ("status", "system"),
    ]
    assert records[2]["entry"]["reason"] == "payment history checked" and records[3]["entry"]["after"] == "approved"
    assert carl.get("/v1/audit/records").status_code == 403  # reps do not read the log


def test_any_edit_of_a_stored_audit_record_is_caught_by_verify(people, settings, tenant):
    bob, admin, person = people["bob"], people["admin"], people["person"]
    dan = person("dan", "director")
    account_id = f"acct-{uuid.uuid4().hex[:6]}"
    ok(bob.post("/v1/accounts", json={"account_id": account_id, "name": "Ruijin Hospital", "industry": "medical_devices"}), 201)

    def chained():
        found = ok(dan.get("/v1/audit/records", params={"entity_type": "account", "entity_id": account_id}))
        return found.get("records")

    (created, *_) = eventually(chained, "the account's audit record")
    assert ok(admin.get("/v1/audit/verify"))["ok"] is True
    assert bob.get("/v1/audit/verify").status_code == 403

    export = admin.get("/v1/audit/records/export", params={"format": "csv", "entity_type": "account", "entity_id": account_id})
    assert export.status_code == 200 and export.headers["content-disposition"].endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert rows and rows[0]["entity_id"] == account_id

    # Someone with access to Redis rewrites history: the account was "created" by another rep.
    sequence = created["sequence"]
    redis = Redis.from_url(settings.redis_url)
    try:
        key = f"dealpulse:audit:{tenant}:records"
        stored = json.loads(redis.hget(key, str(sequence)))
        stored["actor_id"] = "carl"
        redis.hset(key, str(sequence), json.dumps(stored))
    finally:
        redis.close()
    verdict = ok(admin.get("/v1/audit/verify"))
    assert verdict["ok"] is False and verdict["problem"] == "edited" and verdict["problem_sequence"] == sequence
    assert verdict["checked"] == sequence - 1


def test_auditors_get_the_weekly_anomaly_report(people):
    dan, bob = people["person"]("dan", "director"), people["bob"]
    report = retried(lambda: dan.get("/v1/audit/anomaly-report"))
    assert report["report"]["week"] and "findings" in report["report"]
    assert bob.get("/v1/audit/anomaly-report").status_code == 403
    assert dan.get("/v1/audit/anomaly-report", params={"week": "2026-13"}).status_code == 422
