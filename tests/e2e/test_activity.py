"""Activity ingestion to the dashboard through the real stack: a signed DingTalk check-in
and a CSV backfill row → gateway → Kafka → pulse worker (verdict published) → pulse
replica → dashboard board and drill-down to the vendor's original (redacted) payload."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from dealpulse.pulse.v1 import events_pb2 as pulse_pb
from kernel.auth import mint_token
from kernel.envelope import decode
from tests.e2e.conftest import GATEWAY, records_with_key
from tests.unit.gateway.webhooks.conftest import AES_KEY, vendor_encrypt, vendor_sign

TOKEN = "dingtalk-callback-token"
CORP = "ding-corp-e2e"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def wait_for(predicate, timeout=60.0, interval=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(interval)
    raise AssertionError(f"not true within {timeout}s")


def dingtalk_callback(tenant: str, punch: dict, token: str = TOKEN) -> httpx.Response:
    event = {"EventType": "attendance_check_record", "CorpId": CORP, "DataList": [punch]}
    encrypted = vendor_encrypt(json.dumps(event).encode(), CORP)
    timestamp, nonce = str(int(time.time() * 1000)), "e2e-nonce"
    query = {"msg_signature": vendor_sign(token, timestamp, nonce, encrypted), "timestamp": timestamp, "nonce": nonce}
    return httpx.post(f"{GATEWAY}/webhooks/dingtalk/{tenant}", params=query, json={"encrypt": encrypted}, timeout=30)


def test_signed_check_in_reaches_the_dashboard_with_drill_down(people, settings, tenant):
    ann, bob = people["ann"], people["bob"]
    config = {"dingtalk": {"token": TOKEN, "aes_key": AES_KEY, "receiver_ids": [CORP], "user_map": {"u-bob": "bob"}}}
    assert ann.put("/v1/webhooks/config", json=config).status_code == 200

    checked_in = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=70)
    punch = {"userId": "u-bob", "checkTime": int(checked_in.timestamp() * 1000), "checkType": "OnDuty",
             "latitude": 31.2, "longitude": 121.4, "address": "Somewhere", "accessToken": "leaked-secret"}
    reply = dingtalk_callback(tenant, punch)
    assert reply.status_code == 200, reply.text
    assert set(reply.json()) == {"msg_signature", "timeStamp", "nonce", "encrypt"}
    assert dingtalk_callback(tenant, punch).status_code == 200  # DingTalk's retry: ignored
    forged = dingtalk_callback(tenant, {**punch, "checkTime": punch["checkTime"] + 1}, token="forged")
    assert forged.status_code == 401 and forged.headers["content-type"] == "application/problem+json"

    # The rep's next activity (a backfilled call) ends the visit 45 minutes later.
    call_at = (checked_in + timedelta(minutes=45)).isoformat()
    csv = f"source,source_id,rep_id,kind,occurred_at,duration_minutes\ncrm,call-1,bob,call,{call_at},5\ncrm,call-2,bob,call,tomorrow,5\n"
    reply = bob.post("/v1/activities/csv", content=csv, headers={"Content-Type": "text/csv"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["accepted"] == 1 and reply.json()["errors"][0]["row"] == 3

    activities = records_with_key(settings, "gateway.activity.v1", f"{tenant}/bob")
    assert len(activities) == 2, "the retried callback recorded nothing"

    def verdict():
        found = [decode(pulse_pb.VisitVerdict, r.value, r.headers)[1]
                 for r in records_with_key(settings, "pulse.visit.verdict.v1", f"{tenant}/bob")]
        return [v for v in found if v.ended_by == pulse_pb.VISIT_END_NEXT_ACTIVITY]

    (judged, *_) = wait_for(verdict)
    assert not judged.effective and judged.on_site_seconds == 45 * 60
    assert any("no known customer" in reason for reason in judged.reasons)

    day = checked_in.astimezone(SHANGHAI).date().isoformat()

    def board():
        reply = ann.get("/v1/pulse/board", params={"day": day, "manager_id": "ann"})
        assert reply.status_code == 200, reply.text
        rows = {r["rep_id"]: r for r in reply.json()["reps"]}
        visits = next((i for i in rows.get("bob", {}).get("indicators", [])
                       if i["indicator"] == "INDICATOR_EFFECTIVE_VISITS_PER_REP_PER_DAY"), None)
        return visits if visits and any("not effective" in row["subject"] for row in visits["rows"]) else None

    visits = wait_for(board)
    assert visits["value"] == 0.0

    reply = ann.get("/v1/pulse/drilldown", params={"indicator": "effective_visits_per_rep_per_day",
                                                   "rep_id": "bob", "day": day})
    assert reply.status_code == 200, reply.text
    (event,) = [e for e in reply.json()["events"] if e["event_id"] == judged.visit_id]
    assert event["kind"] == "activity.check_in" and event["topic"] == "gateway.activity.v1"
    evidence = event["payload"]["evidence"]
    assert evidence["DataList"][0]["userId"] == "u-bob" and evidence["DataList"][0]["accessToken"] == "***"
    assert event["payload"]["source"] == "ACTIVITY_SOURCE_DINGTALK"

    # Another tenant's manager sees none of it.
    eve = mint_token(settings, subject="eve", tenant=f"other-{time.time_ns()}", roles=["manager"])
    other = httpx.get(f"{GATEWAY}/v1/pulse/board", params={"day": day}, headers={"Authorization": f"Bearer {eve}"}, timeout=30)
    assert other.status_code == 200 and "bob" not in {r["rep_id"] for r in other.json()["reps"]}
