"""Activity ingestion through the HTTP routes: real vendor payload shapes, signatures
checked, duplicates ignored, bad input refused without recording anything."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

import httpx
import pytest
import pytest_asyncio

from dealpulse.activity.v1 import events_pb2 as pb
from kernel.clock import FixedClock
from services.gateway.adapters.activity_publisher import EventLogUnavailable, partition_key, to_event
from services.gateway.app import create_app
from services.gateway.webhooks import msgcrypt
from services.gateway.webhooks.email_events import sign_hmac
from services.gateway.webhooks.model import Activity

from .fakes import TENANT, FakeRedis
from .webhooks.conftest import AES_KEY, CORP, KEY_BYTES, NOW, TOKEN, WECOM_CORP, vendor_encrypt, vendor_sign

EMAIL_SECRET = "email-webhook-secret-0123456789"
CONFIG = {
    "dingtalk": {"token": TOKEN, "aes_key": AES_KEY, "receiver_ids": [CORP], "user_map": {"u-ding-1": "bob"}},
    "wecom": {"token": TOKEN, "encoding_aes_key": AES_KEY, "receiver_ids": [WECOM_CORP], "user_map": {"zhangsan": "bob"}},
    "email": {"secret": EMAIL_SECRET, "own_domains": ["acme.example"], "address_map": {"Bob@acme.example": "bob"}},
}
CHECK_MS = int(NOW.timestamp() * 1000) - 600_000


class HashRedis(FakeRedis):
    """FakeRedis plus the hash commands the webhook store uses."""

    def __init__(self) -> None:
        super().__init__()
        self.hashes: dict[str, dict[str, bytes]] = {}

    async def hget(self, key: str, field: str) -> bytes | None:
        self._require_up()
        return self.hashes.get(key, {}).get(field)

    async def hmget(self, key: str, fields: list[str]) -> list[bytes | None]:
        self._require_up()
        return [self.hashes.get(key, {}).get(f) for f in fields]

    async def hset(self, key: str, field: str | None = None, value: str | None = None, mapping=None) -> int:
        self._require_up()
        target = self.hashes.setdefault(key, {})
        items = dict(mapping or {})
        if field is not None:
            items[field] = value
        for k, v in items.items():
            target[k] = v.encode() if isinstance(v, str) else v
        return len(items)


class RecordingActivities:
    def __init__(self) -> None:
        self.published: list[Activity] = []
        self.down = False

    async def publish(self, activities: Sequence[Activity], received_at: datetime) -> None:
        if self.down:
            raise EventLogUnavailable("broker down")
        for activity in activities:
            to_event(activity, received_at)  # every activity must map onto the contract
        self.published.extend(activities)

    async def close(self) -> None:
        pass


@pytest.fixture
def activities() -> RecordingActivities:
    return RecordingActivities()


@pytest.fixture
def redis() -> HashRedis:
    return HashRedis()


@pytest_asyncio.fixture
async def client(settings, actions, redis, alert_feed, activities) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings, actions=actions, redis=redis, alert_feed=alert_feed, activities=activities, wall_clock=FixedClock(NOW)
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http


@pytest_asyncio.fixture
async def configured(client, auth) -> httpx.AsyncClient:
    response = await client.put("/v1/webhooks/config", json=CONFIG, headers=auth("manager"))
    assert response.status_code == 200, response.text
    return client


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


# ------------------------------------------------------------------ configuration


async def test_config_is_stored_per_tenant_and_shown_without_secrets(configured, auth):
    shown = (await configured.get("/v1/webhooks/config", headers=auth("manager"))).json()
    assert shown["dingtalk"]["token"] == "***" and shown["dingtalk"]["aes_key"] == "***"
    assert shown["email"]["secret"] == "***" and shown["email"]["address_map"] == {"bob@acme.example": "bob"}
    other = (await configured.get("/v1/webhooks/config", headers=auth("manager", tenant="globex"))).json()
    assert other == {}


async def test_reps_may_not_change_the_config(client, auth):
    assert_problem(await client.put("/v1/webhooks/config", json=CONFIG, headers=auth("rep")), 403)


async def test_invalid_aes_key_is_422(client, auth):
    bad = {"dingtalk": {**CONFIG["dingtalk"], "aes_key": "!" * 43}}
    assert_problem(await client.put("/v1/webhooks/config", json=bad, headers=auth("manager")), 422)


# ------------------------------------------------------------------ DingTalk


def dingtalk_request(event: dict, *, token: str = TOKEN, receiver: str = CORP) -> tuple[dict, dict]:
    enc = vendor_encrypt(json.dumps(event).encode(), receiver)
    ts = str(int(NOW.timestamp() * 1000))
    return {"msg_signature": vendor_sign(token, ts, "n0nce", enc), "timestamp": ts, "nonce": "n0nce"}, {"encrypt": enc}


PUNCH = {"userId": "u-ding-1", "checkTime": CHECK_MS, "address": "客户A", "latitude": 31.2, "longitude": 121.4}


async def test_dingtalk_check_in_is_recorded_and_acknowledged(configured, activities):
    query, body = dingtalk_request({"EventType": "attendance_check_record", "DataList": [PUNCH]})
    response = await configured.post(f"/webhooks/dingtalk/{TENANT}", params=query, json=body)
    assert response.status_code == 200, response.text
    ack = response.json()
    assert msgcrypt.decrypt(KEY_BYTES, ack["encrypt"], CORP) == b"success"
    assert ack["msg_signature"] == vendor_sign(TOKEN, ack["timeStamp"], ack["nonce"], ack["encrypt"])
    (activity,) = activities.published
    event = to_event(activity, NOW)
    assert event.WhichOneof("activity") == "check_in" and event.rep_id == "bob" and event.tenant_id == TENANT
    assert event.check_in.location.latitude == pytest.approx(31.2) and event.check_in.vendor_user_id == "u-ding-1"
    assert event.occurred_at.ToMilliseconds() == CHECK_MS
    assert event.evidence["DataList"][0]["userId"] == "u-ding-1"
    assert partition_key(activity) == f"{TENANT}/bob"


async def test_dingtalk_retry_is_ignored(configured, activities):
    query, body = dingtalk_request({"EventType": "attendance_check_record", "DataList": [PUNCH]})
    for _ in range(2):
        assert (await configured.post(f"/webhooks/dingtalk/{TENANT}", params=query, json=body)).status_code == 200
    assert len(activities.published) == 1


async def test_dingtalk_bad_signature_is_401_and_records_nothing(configured, activities):
    query, body = dingtalk_request({"EventType": "attendance_check_record", "DataList": [PUNCH]}, token="forged")
    assert_problem(await configured.post(f"/webhooks/dingtalk/{TENANT}", params=query, json=body), 401)
    assert activities.published == []


async def test_dingtalk_for_a_tenant_without_config_is_401(configured, activities):
    query, body = dingtalk_request({"EventType": "attendance_check_record", "DataList": [PUNCH]})
    assert_problem(await configured.post("/webhooks/dingtalk/globex", params=query, json=body), 401)
    assert activities.published == []


async def test_dingtalk_malformed_punch_is_400_and_records_nothing(configured, activities):
    broken = {k: v for k, v in PUNCH.items() if k != "checkTime"}
    query, body = dingtalk_request({"EventType": "attendance_check_record", "DataList": [PUNCH, broken]})
    problem = assert_problem(await configured.post(f"/webhooks/dingtalk/{TENANT}", params=query, json=body), 400)
    assert problem["errors"] == [{"field": "DataList[1].checkTime", "problem": "missing"}]
    assert activities.published == []


async def test_event_log_down_is_503_and_the_retry_records_it(configured, activities):
    query, body = dingtalk_request({"EventType": "attendance_check_record", "DataList": [PUNCH]})
    activities.down = True
    response = await configured.post(f"/webhooks/dingtalk/{TENANT}", params=query, json=body)
    assert_problem(response, 503)
    assert response.headers["retry-after"] == "5"
    activities.down = False  # not remembered as seen: the vendor's retry goes through
    assert (await configured.post(f"/webhooks/dingtalk/{TENANT}", params=query, json=body)).status_code == 200
    assert len(activities.published) == 1


# ------------------------------------------------------------------ WeCom


def wecom_request(inner: str, *, token: str = TOKEN) -> tuple[dict, bytes]:
    enc = vendor_encrypt(inner.encode(), WECOM_CORP)
    ts = str(int(NOW.timestamp()))
    body = f"<xml><ToUserName><![CDATA[{WECOM_CORP}]]></ToUserName><AgentID>1</AgentID><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
    return {"msg_signature": vendor_sign(token, ts, "n", enc), "timestamp": ts, "nonce": "n"}, body.encode()


CONTACT_XML = (
    f"<xml><ToUserName><![CDATA[{WECOM_CORP}]]></ToUserName><CreateTime>{int(NOW.timestamp()) - 60}</CreateTime>"
    "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event>"
    "<ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID>"
    "<ExternalUserID><![CDATA[wmEXT1]]></ExternalUserID><WelcomeCode><![CDATA[SECRET-CODE]]></WelcomeCode></xml>"
)


async def test_wecom_url_verification_echoes(configured):
    enc = vendor_encrypt(b"echo-1234", WECOM_CORP)
    ts = str(int(NOW.timestamp()))
    query = {"msg_signature": vendor_sign(TOKEN, ts, "n", enc), "timestamp": ts, "nonce": "n", "echostr": enc}
    response = await configured.get(f"/webhooks/wecom/{TENANT}", params=query)
    assert response.status_code == 200 and response.text == "echo-1234"


async def test_wecom_external_contact_is_recorded_with_the_welcome_code_redacted(configured, activities):
    query, body = wecom_request(CONTACT_XML)
    response = await configured.post(f"/webhooks/wecom/{TENANT}", params=query, content=body)
    assert response.status_code == 200 and response.text == ""
    (activity,) = activities.published
    event = to_event(activity, NOW)
    assert event.external_contact.change == pb.EXTERNAL_CONTACT_CHANGE_ADDED
    assert event.external_contact_id == "wmEXT1" and event.rep_id == "bob"
    assert event.evidence["WelcomeCode"] == "***"
    again = await configured.post(f"/webhooks/wecom/{TENANT}", params=query, content=body)
    assert again.status_code == 200 and len(activities.published) == 1


async def test_wecom_bad_signature_is_401(configured, activities):
    query, body = wecom_request(CONTACT_XML, token="forged")
    assert_problem(await configured.post(f"/webhooks/wecom/{TENANT}", params=query, content=body), 401)
    assert activities.published == []


async def test_wecom_dial_records_become_calls(configured, auth, activities):
    records = {"errcode": 0, "record": [{"call_time": int(NOW.timestamp()) - 900, "total_duration": 310, "call_type": 1,
                                         "caller": {"userid": "zhangsan", "duration": 310},
                                         "callee": [{"phone": "13800000000", "duration": 310}]}]}
    response = await configured.post("/v1/activities/wecom-dial-records", json=records, headers=auth("rep"))
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1
    event = to_event(activities.published[0], NOW)
    assert event.call.duration_seconds == 310 and event.rep_id == "bob" and list(event.call.callees) == ["13800000000"]


# ------------------------------------------------------------------ email


def signed_email(payload: dict, secret: str = EMAIL_SECRET) -> tuple[bytes, dict]:
    body = json.dumps(payload).encode()
    ts = str(int(NOW.timestamp()))
    return body, {"X-Dealpulse-Signature": sign_hmac(secret, body, ts), "X-Dealpulse-Timestamp": ts,
                  "Content-Type": "application/json"}


MAIL = {"message_id": "<m1@acme.example>", "from": "bob@acme.example", "to": ["li@hospital.example"],
        "subject": "报价", "sent_at": "2026-03-01T07:50:00Z", "direction": "outbound", "lead_id": "lead-9"}


async def test_email_webhook_maps_the_mailbox_to_its_rep(configured, activities):
    body, headers = signed_email(MAIL)
    response = await configured.post(f"/webhooks/email/{TENANT}", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1 and response.json()["duplicates"] == 0
    event = to_event(activities.published[0], NOW)
    assert event.rep_id == "bob" and event.lead_id == "lead-9"
    assert event.email.direction == pb.EMAIL_DIRECTION_OUTBOUND and getattr(event.email, "from") == "bob@acme.example"
    again = await configured.post(f"/webhooks/email/{TENANT}", content=body, headers=headers)
    assert again.json() == {"accepted": 0, "duplicates": 1, "activity_ids": []}


async def test_email_webhook_bad_signature_is_401(configured, activities):
    body, headers = signed_email(MAIL, secret="another-secret-0123456789")
    assert_problem(await configured.post(f"/webhooks/email/{TENANT}", content=body, headers=headers), 401)
    assert activities.published == []


async def test_email_webhook_malformed_is_400(configured, activities):
    body, headers = signed_email({**MAIL, "direction": "sideways"})
    problem = assert_problem(await configured.post(f"/webhooks/email/{TENANT}", content=body, headers=headers), 400)
    assert problem["errors"][0]["field"] == "direction"
    assert activities.published == []


EML = (
    b"From: Bob <bob@acme.example>\r\nTo: li@hospital.example\r\nSubject: demo\r\n"
    b"Date: Sun, 01 Mar 2026 07:40:00 +0000\r\nMessage-ID: <eml-1@acme.example>\r\n"
    b"Authorization: Bearer leaked\r\n\r\nHello\r\n"
)


async def test_eml_upload_is_outbound_from_an_own_domain(configured, auth, activities):
    response = await configured.post(
        "/v1/activities/eml", content=EML, headers={**auth("rep", subject="bob"), "Content-Type": "message/rfc822"}
    )
    assert response.status_code == 200, response.text
    event = to_event(activities.published[0], NOW)
    assert event.email.direction == pb.EMAIL_DIRECTION_OUTBOUND and event.rep_id == "bob"
    assert "Authorization" not in event.evidence["headers"]


async def test_eml_upload_needs_a_token(configured):
    assert_problem(await configured.post("/v1/activities/eml", content=EML), 401)


async def test_empty_eml_is_400(configured, auth, activities):
    assert_problem(await configured.post("/v1/activities/eml", content=b"", headers=auth("rep")), 400)
    assert activities.published == []


# ------------------------------------------------------------------ CSV


CSV = (
    "source,source_id,rep_id,kind,occurred_at,customer_id,opportunity_id,duration_minutes,note\n"
    "crm,1,bob,visit,2026-02-27T09:00:00+08:00,ruijin,,40,\n"
    "crm,2,bob,call,yesterday,ruijin,,5,\n"
    "crm,3,bob,note,2026-02-27T09:20:00+08:00,ruijin,ct-1,,needs 2 CT rooms\n"
    "crm,4,bob,note,2026-02-27T09:25:00+08:00,,,,orphan note\n"
)


async def test_csv_import_reports_each_bad_row_and_records_the_rest(client, auth, activities):
    response = await client.post("/v1/activities/csv", content=CSV, headers={**auth("rep"), "Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["rows"] == 4 and report["accepted"] == 2 and report["duplicates"] == 0
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(3, "occurred_at"), (5, "opportunity_id")]
    visit, note = (to_event(a, NOW) for a in activities.published)
    assert visit.visit.duration_seconds == 2400 and visit.customer_id == "ruijin"
    assert note.requirement_note.text == "needs 2 CT rooms" and note.opportunity_id == "ct-1"
    again = (await client.post("/v1/activities/csv", content=CSV, headers=auth("rep"))).json()
    assert again["accepted"] == 0 and again["duplicates"] == 2 and len(activities.published) == 2


async def test_csv_with_a_bad_header_is_400_and_records_nothing(client, auth, activities):
    problem = assert_problem(await client.post("/v1/activities/csv", content="who,what\n1,2\n", headers=auth("rep")), 400)
    assert problem["errors"][0]["field"] == "header"
    assert activities.published == []


async def test_duplicates_are_per_tenant(client, auth, activities):
    row = "source,source_id,rep_id,kind,occurred_at\ncrm,1,bob,call,2026-02-27T09:00:00+08:00\n"
    for tenant in (TENANT, "globex"):
        response = await client.post("/v1/activities/csv", content=row, headers=auth("rep", tenant=tenant))
        assert response.json()["accepted"] == 1
    assert {a.tenant_id for a in activities.published} == {TENANT, "globex"}
