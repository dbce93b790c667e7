import json
from datetime import UTC, datetime, timedelta

import pytest

from services.gateway.webhooks import wecom
from services.gateway.webhooks.model import MalformedPayload, SignatureInvalid, thaw

from .conftest import AES_KEY, NOW, TENANT, TOKEN, WECOM_CORP, vendor_encrypt, vendor_sign

CONFIG = wecom.WeComConfig(
    token=TOKEN, encoding_aes_key=AES_KEY, receiver_ids=frozenset({WECOM_CORP}), user_map={"zhangsan": "rep-7"}
)
CREATE = int(datetime(2026, 3, 1, 7, 59, tzinfo=UTC).timestamp())


EXTERNAL = "woAJ2GCAAAXtWyujaWJHDDGi0mACAAA"


def contact_xml(change="add_external_contact", user="zhangsan", external=EXTERNAL, create=CREATE, extra=""):
    return (
        f"<xml><ToUserName><![CDATA[{WECOM_CORP}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
        f"<CreateTime>{create}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[{change}]]></ChangeType>"
        f"<UserID><![CDATA[{user}]]></UserID><ExternalUserID><![CDATA[{external}]]></ExternalUserID>"
        f"<State><![CDATA[expo-2026]]></State><WelcomeCode><![CDATA[WELCOMECODE-SECRET]]></WelcomeCode>{extra}</xml>"
    )


def callback(inner: str | bytes, *, receiver=WECOM_CORP, ts=None, nonce="1372623149", token=TOKEN):
    enc = vendor_encrypt(inner.encode() if isinstance(inner, str) else inner, receiver)
    ts = ts or str(int(NOW.timestamp()))  # WeCom sends seconds
    body = f"<xml><ToUserName><![CDATA[{WECOM_CORP}]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID>" \
           f"<Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
    return {"msg_signature": vendor_sign(token, ts, nonce, enc), "timestamp": ts, "nonce": nonce}, body.encode()


def test_add_external_contact_becomes_an_activity():
    query, body = callback(contact_xml())
    result = wecom.handle(CONFIG, TENANT, query, body, NOW)
    assert result.event == "change_external_contact"
    (a,) = result.activities
    assert a.source == "wecom" and a.kind == "external_contact_added"
    assert a.rep_id == "rep-7" and a.external_contact_id == "woAJ2GCAAAXtWyujaWJHDDGi0mACAAA"
    assert a.occurred_at == datetime(2026, 3, 1, 7, 59, tzinfo=UTC)
    assert a.evidence["WelcomeCode"] == "***"  # secret redacted
    assert a.evidence["ExternalUserID"] == "woAJ2GCAAAXtWyujaWJHDDGi0mACAAA"
    assert a.details["state"] == "expo-2026"


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ("edit_external_contact", "external_contact_edited"),
        ("add_half_external_contact", "external_contact_half_added"),
        ("del_external_contact", "external_contact_deleted"),
        ("del_follow_user", "external_contact_follow_deleted"),
        ("transfer_fail", "external_contact_transfer_failed"),
    ],
)
def test_change_types(change, kind):
    query, body = callback(contact_xml(change=change))
    assert wecom.handle(CONFIG, TENANT, query, body, NOW).activities[0].kind == kind


def test_retries_share_the_source_id_and_distinct_events_do_not():
    a1 = wecom.handle(CONFIG, TENANT, *callback(contact_xml(), nonce="1"), NOW).activities[0]
    a2 = wecom.handle(CONFIG, TENANT, *callback(contact_xml(), nonce="2"), NOW).activities[0]
    a3 = wecom.handle(CONFIG, TENANT, *callback(contact_xml(change="del_external_contact")), NOW).activities[0]
    assert a1.source_id == a2.source_id != a3.source_id


def test_other_events_are_acknowledged_without_activities():
    inner = "<xml><ToUserName>c</ToUserName><MsgType>text</MsgType><Content>hi</Content></xml>"
    assert wecom.handle(CONFIG, TENANT, *callback(inner), NOW).activities == []


def test_tampered_signature_is_401():
    query, body = callback(contact_xml())
    query["msg_signature"] = "f" * 40
    with pytest.raises(SignatureInvalid):
        wecom.handle(CONFIG, TENANT, query, body, NOW)


def test_other_corp_is_401():
    with pytest.raises(SignatureInvalid):
        wecom.handle(CONFIG, TENANT, *callback(contact_xml(), receiver="ww-other"), NOW)


@pytest.mark.parametrize("skew", [timedelta(minutes=5, seconds=30), -timedelta(minutes=30)])
def test_replayed_callback_is_401(skew):
    query, body = callback(contact_xml(), ts=str(int((NOW + skew).timestamp())))
    with pytest.raises(SignatureInvalid):
        wecom.handle(CONFIG, TENANT, query, body, NOW)


def test_url_verification_returns_the_decrypted_echostr():
    enc = vendor_encrypt(b"1616140317555161061", WECOM_CORP)
    ts = str(int(NOW.timestamp()))
    query = {"msg_signature": vendor_sign(TOKEN, ts, "n", enc), "timestamp": ts, "nonce": "n", "echostr": enc}
    assert wecom.verify_url(CONFIG, query, NOW) == b"1616140317555161061"
    with pytest.raises(SignatureInvalid):
        wecom.verify_url(CONFIG, {**query, "msg_signature": "0" * 40}, NOW)
    with pytest.raises(SignatureInvalid):
        wecom.verify_url(CONFIG, {k: v for k, v in query.items() if k != "echostr"}, NOW)


@pytest.mark.parametrize(
    "body",
    [
        b"<xml><Encrypt>abc",
        b"not xml",
        b"<root><Encrypt>x</Encrypt></root>",
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><xml><Encrypt>&lol;</Encrypt></xml>',
    ],
)
def test_malformed_envelope_is_400(body):
    with pytest.raises(MalformedPayload) as e:
        wecom.handle(CONFIG, TENANT, {"msg_signature": "x", "timestamp": "1", "nonce": "n"}, body, NOW)
    assert e.value.field == "body"


def test_envelope_without_encrypt_is_401():
    with pytest.raises(SignatureInvalid):
        wecom.handle(CONFIG, TENANT, {"msg_signature": "x", "timestamp": "1", "nonce": "n"}, b"<xml></xml>", NOW)


def test_signed_but_truncated_ciphertext_is_400():
    enc = vendor_encrypt(contact_xml().encode(), WECOM_CORP)[:40]
    ts = str(int(NOW.timestamp()))
    body = f"<xml><Encrypt><![CDATA[{enc}]]></Encrypt></xml>".encode()
    query = {"msg_signature": vendor_sign(TOKEN, ts, "n", enc), "timestamp": ts, "nonce": "n"}
    with pytest.raises(MalformedPayload) as e:
        wecom.handle(CONFIG, TENANT, query, body, NOW)
    assert e.value.field == "Encrypt"


@pytest.mark.parametrize(
    ("inner", "field"),
    [
        ("not xml at all", "Encrypt"),
        (contact_xml(change="merge_contacts"), "ChangeType"),
        (contact_xml(user=""), "UserID"),
        (contact_xml(external=""), "ExternalUserID"),
        (contact_xml(create=""), "CreateTime"),
        (contact_xml(create="soon"), "CreateTime"),
    ],
)
def test_malformed_decrypted_message_is_400(inner, field):
    with pytest.raises(MalformedPayload) as e:
        wecom.handle(CONFIG, TENANT, *callback(inner), NOW)
    assert e.value.field == field


DIAL = {
    "errcode": 0,
    "errmsg": "ok",
    "record": [
        {
            "call_time": CREATE,
            "total_duration": 95,
            "call_type": 1,
            "caller": {"userid": "zhangsan", "duration": 95},
            "callee": [{"phone": "13800000000", "duration": 95}],
        },
        {"call_time": CREATE + 600, "total_duration": 0, "call_type": 2, "caller": {"userid": "lisi", "duration": 0},
         "callee": [{"userid": "wangwu", "duration": 0}, {"phone": "13900000000", "duration": 0}]},
    ],
}


def test_dial_records_become_calls():
    first, second = wecom.dial_record_activities(TENANT, json.dumps(DIAL), {"zhangsan": "rep-7"})
    assert first.kind == "call" and first.duration_seconds == 95 and first.rep_id == "rep-7"
    assert first.occurred_at == datetime(2026, 3, 1, 7, 59, tzinfo=UTC)
    assert thaw(first.evidence) == DIAL["record"][0]
    assert second.rep_id == "lisi" and second.details["callees"] == ("13900000000", "wangwu")
    again = wecom.dial_record_activities(TENANT, DIAL)
    assert [a.source_id for a in again] == [first.source_id, second.source_id]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("record"), "record"),
        (lambda d: d["record"].append(5), "record[2]"),
        (lambda d: d["record"][0].pop("call_time"), "record[0].call_time"),
        (lambda d: d["record"][1].update(caller={}), "record[1].caller.userid"),
        (lambda d: d["record"][0].update(total_duration=-1), "record[0].total_duration"),
        (lambda d: d["record"][0].update(total_duration="95"), "record[0].total_duration"),
        (lambda d: d["record"][0].update(callee="x"), "record[0].callee"),
    ],
)
def test_malformed_dial_records(mutate, field):
    data = json.loads(json.dumps(DIAL))
    mutate(data)
    with pytest.raises(MalformedPayload) as e:
        wecom.dial_record_activities(TENANT, data)
    assert e.value.field == field


def test_dial_records_not_json():
    for body in (b"{", "[]"):
        with pytest.raises(MalformedPayload):
            wecom.dial_record_activities(TENANT, body)
