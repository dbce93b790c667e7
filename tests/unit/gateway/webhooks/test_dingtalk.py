import json
from datetime import UTC, datetime, timedelta

import pytest

from services.gateway.webhooks import dingtalk, msgcrypt
from services.gateway.webhooks.model import MalformedPayload, SignatureInvalid, thaw

from .conftest import AES_KEY, CORP, KEY_BYTES, NOW, TENANT, TOKEN, raw_encrypt, vendor_encrypt, vendor_sign

CONFIG = dingtalk.DingTalkConfig(
    token=TOKEN, aes_key=AES_KEY, receiver_ids=frozenset({CORP}), user_map={"u-ding-1": "rep-1"}
)
CHECK_MS = int(datetime(2026, 3, 1, 1, 30, tzinfo=UTC).timestamp() * 1000)


def callback(event, *, receiver=CORP, ts=None, nonce="abc123", sign_with=TOKEN, param="signature"):
    message = event if isinstance(event, bytes) else json.dumps(event, ensure_ascii=False).encode()
    enc = vendor_encrypt(message, receiver)
    ts = ts or str(int(NOW.timestamp() * 1000))  # DingTalk sends milliseconds
    return {param: vendor_sign(sign_with, ts, nonce, enc), "timestamp": ts, "nonce": nonce}, {"encrypt": enc}


def attendance(*entries):
    return {"EventType": "attendance_check_record", "CorpId": CORP, "DataList": list(entries)}


ENTRY = {
    "userId": "u-ding-1",
    "checkTime": CHECK_MS,
    "address": "浙江省杭州市余杭区 客户A",
    "latitude": 30.285413,
    "longitude": 120.017139,
    "bizId": "E171DCCE",
    "corpId": CORP,
    "locationMethod": "MAP",
    "deviceName": "phone",
}


def test_valid_attendance_callback_becomes_checkin_activities():
    off = {**ENTRY, "userId": "u-ding-2", "checkTime": CHECK_MS + 3_600_000, "checkType": "OffDuty", "id": 43047156750}
    query, body = callback(attendance(ENTRY, off))
    result = dingtalk.handle(CONFIG, TENANT, query, body, NOW)
    assert result.event_type == "attendance_check_record"
    first, second = result.activities
    assert first.source == "dingtalk" and first.kind == "checkin" and first.tenant_id == TENANT
    assert first.rep_id == "rep-1"  # mapped
    assert first.occurred_at == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    assert first.location.latitude == pytest.approx(30.285413) and first.location.address.startswith("浙江")
    assert first.source_id == f"u-ding-1:{CHECK_MS}"
    assert thaw(first.evidence) == {"EventType": "attendance_check_record", "CorpId": CORP, "DataList": [ENTRY]}
    assert second.kind == "checkout" and second.rep_id == "u-ding-2" and second.source_id == "43047156750"
    assert first.details["biz_id"] == "E171DCCE"


def test_body_as_raw_bytes_and_msg_signature_param():
    query, body = callback(attendance(ENTRY), param="msg_signature")
    assert len(dingtalk.handle(CONFIG, TENANT, query, json.dumps(body).encode(), NOW).activities) == 1


def test_list_record_field_names_are_accepted():
    entry = {
        "userId": "u9",
        "userCheckTime": CHECK_MS,
        "userAddress": "addr",
        "userLatitude": 1.5,
        "userLongitude": 2.5,
        "checkType": "OnDuty",
    }
    query, body = callback(attendance(entry))
    (a,) = dingtalk.handle(CONFIG, TENANT, query, body, NOW).activities
    assert (a.location.latitude, a.location.longitude, a.location.address) == (1.5, 2.5, "addr")
    assert a.kind == "checkin"


def test_retry_of_the_same_punch_has_the_same_source_id():
    q1, b1 = callback(attendance(ENTRY), nonce="n1")
    q2, b2 = callback(attendance(ENTRY), nonce="n2")
    a1 = dingtalk.handle(CONFIG, TENANT, q1, b1, NOW).activities[0]
    a2 = dingtalk.handle(CONFIG, TENANT, q2, b2, NOW).activities[0]
    assert a1.dedup_key == a2.dedup_key


def test_check_url_and_unknown_events_give_no_activities():
    for event in ({"EventType": "check_url"}, {"EventType": "user_add_org", "UserId": ["x"]}):
        query, body = callback(event)
        assert dingtalk.handle(CONFIG, TENANT, query, body, NOW).activities == []


def test_tampered_signature_is_401():
    query, body = callback(attendance(ENTRY))
    query["signature"] = query["signature"][:-1] + ("0" if query["signature"][-1] != "0" else "1")
    with pytest.raises(SignatureInvalid):
        dingtalk.handle(CONFIG, TENANT, query, body, NOW)


def test_signed_with_another_token_is_401():
    query, body = callback(attendance(ENTRY), sign_with="other-token")
    with pytest.raises(SignatureInvalid):
        dingtalk.handle(CONFIG, TENANT, query, body, NOW)


def test_swapped_ciphertext_is_401():
    query, _ = callback(attendance(ENTRY))
    _, other_body = callback(attendance({**ENTRY, "userId": "intruder"}))
    with pytest.raises(SignatureInvalid):
        dingtalk.handle(CONFIG, TENANT, query, other_body, NOW)


def test_other_corp_is_401():
    query, body = callback(attendance(ENTRY), receiver="ding-other-corp")
    with pytest.raises(SignatureInvalid):
        dingtalk.handle(CONFIG, TENANT, query, body, NOW)


@pytest.mark.parametrize("skew", [timedelta(minutes=6), -timedelta(minutes=6), timedelta(hours=12)])
def test_stale_or_future_timestamp_is_401(skew):
    ts = str(int((NOW + skew).timestamp() * 1000))
    query, body = callback(attendance(ENTRY), ts=ts)
    with pytest.raises(SignatureInvalid):
        dingtalk.handle(CONFIG, TENANT, query, body, NOW)
    # the same request is fine when it arrives in time
    assert dingtalk.handle(CONFIG, TENANT, query, body, NOW + skew).activities


def _signed(enc: str):
    ts = str(int(NOW.timestamp() * 1000))
    return {"signature": vendor_sign(TOKEN, ts, "n", enc), "timestamp": ts, "nonce": "n"}, {"encrypt": enc}


@pytest.mark.parametrize(
    "enc",
    [
        "%%%not-base64%%%",
        vendor_encrypt(b'{"EventType": "attendance_check_record"}', CORP)[:20],
        raw_encrypt(b"\x00" * 32),  # padding byte 0
    ],
)
def test_signed_but_undecodable_is_400(enc):
    query, body = _signed(enc)
    with pytest.raises(MalformedPayload) as e:
        dingtalk.handle(CONFIG, TENANT, query, body, NOW)
    assert e.value.field == "encrypt"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (b"not json", "encrypt"),
        (b"[1, 2]", "encrypt"),
        ({"DataList": []}, "EventType"),
        ({"EventType": "attendance_check_record"}, "DataList"),
        (attendance("x"), "DataList[0]"),
        (attendance(ENTRY, {**ENTRY, "userId": ""}), "DataList[1].userId"),
        (attendance({k: v for k, v in ENTRY.items() if k != "checkTime"}), "DataList[0].checkTime"),
        (attendance({**ENTRY, "checkTime": "yesterday"}), "DataList[0].checkTime"),
        (attendance({**ENTRY, "latitude": "north"}), "DataList[0].latitude"),
        (attendance({**ENTRY, "latitude": 95.0}), "DataList[0].latitude"),
        (attendance({**ENTRY, "longitude": None}), "DataList[0].latitude"),
        (attendance({**ENTRY, "checkType": "Lunch"}), "DataList[0].checkType"),
    ],
)
def test_malformed_events_are_400_with_a_field_path_and_write_nothing(event, field):
    query, body = callback(event)
    with pytest.raises(MalformedPayload) as e:
        dingtalk.handle(CONFIG, TENANT, query, body, NOW)
    assert e.value.field == field


@pytest.mark.parametrize("body", [b"{", b"[]", "nope", {"encrypt": 5}, {}])
def test_malformed_body_or_missing_encrypt(body):
    query = {"signature": "0" * 40, "timestamp": str(int(NOW.timestamp() * 1000)), "nonce": "n"}
    with pytest.raises((MalformedPayload, SignatureInvalid)) as e:
        dingtalk.handle(CONFIG, TENANT, query, body, NOW)
    if isinstance(body, dict):  # no ciphertext to authenticate: not from DingTalk
        assert isinstance(e.value, SignatureInvalid)
    else:
        assert isinstance(e.value, MalformedPayload) and e.value.field == "body"


def test_ack_is_an_encrypted_signed_success():
    ack = dingtalk.ack(CONFIG, NOW)
    assert set(ack) == {"msg_signature", "timeStamp", "nonce", "encrypt"}
    assert ack["msg_signature"] == vendor_sign(TOKEN, ack["timeStamp"], ack["nonce"], ack["encrypt"])
    assert msgcrypt.decrypt(KEY_BYTES, ack["encrypt"], CORP) == b"success"
    assert ack["timeStamp"] == str(int(NOW.timestamp() * 1000))


def test_config_rejects_bad_key():
    with pytest.raises(ValueError):
        dingtalk.DingTalkConfig(token=TOKEN, aes_key="short", receiver_ids=frozenset({CORP}))
    with pytest.raises(ValueError):
        dingtalk.DingTalkConfig(token="", aes_key=AES_KEY, receiver_ids=frozenset({CORP}))
