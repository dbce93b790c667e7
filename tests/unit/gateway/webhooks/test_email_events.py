import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from services.gateway.webhooks import email_events
from services.gateway.webhooks.model import MalformedPayload, SignatureInvalid, thaw

from .conftest import NOW, TENANT

HOOK = {
    "message_id": "<m2@acme.example>",
    "in_reply_to": "<m1@customer.example>",
    "references": ["<m1@customer.example>"],
    "from": "Rep One <rep1@acme.example>",
    "to": ["buyer@customer.example"],
    "cc": [],
    "subject": "Re: pricing",
    "sent_at": "2026-03-01T16:00:00+08:00",
    "direction": "outbound",
    "rep_id": "rep-1",
    "customer_id": "acct-9",
    "api_key": "leaked-by-the-relay",
}


def test_webhook_outbound_reply():
    a = email_events.webhook_activity(TENANT, json.dumps(HOOK).encode())
    assert a.source == "email" and a.source_id == "<m2@acme.example>" and a.kind == "email_sent"
    assert a.occurred_at == datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert a.rep_id == "rep-1" and a.customer_id == "acct-9"
    assert a.details["is_reply"] is True and a.details["from"] == "rep1@acme.example"
    assert a.evidence["api_key"] == "***" and a.evidence["from"] == HOOK["from"]  # addresses kept


def test_webhook_inbound_first_message():
    a = email_events.webhook_activity(
        TENANT, {**HOOK, "direction": "inbound", "in_reply_to": None, "references": [], "to": "rep1@acme.example"}
    )
    assert a.kind == "email_received" and a.details["is_reply"] is False and a.details["to"] == ("rep1@acme.example",)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"message_id": ""}, "message_id"),
        ({"message_id": None}, "message_id"),
        ({"direction": "sideways"}, "direction"),
        ({"from": None}, "from"),
        ({"from": ["a@x.example", "b@x.example"]}, "from"),
        ({"to": []}, "to"),
        ({"to": ["not-an-address"]}, "to[0]"),
        ({"cc": [5]}, "cc"),
        ({"sent_at": "2026-03-01 16:00"}, "sent_at"),
        ({"sent_at": None}, "sent_at"),
        ({"in_reply_to": 7}, "in_reply_to"),
        ({"references": "<a@b>"}, "references"),
        ({"subject": ["x"]}, "subject"),
        ({"rep_id": 12}, "rep_id"),
    ],
)
def test_webhook_malformed(change, field):
    with pytest.raises(MalformedPayload) as e:
        email_events.webhook_activity(TENANT, {**HOOK, **change})
    assert e.value.field == field


@pytest.mark.parametrize("body", [b"{", b"[]", "3"])
def test_webhook_not_an_object(body):
    with pytest.raises(MalformedPayload) as e:
        email_events.webhook_activity(TENANT, body)
    assert e.value.field == "body"


def test_webhook_hmac():
    body = json.dumps(HOOK).encode()
    ts = str(int(NOW.timestamp()))
    sig = email_events.sign_hmac("s3cret", body, ts)
    email_events.verify_hmac("s3cret", body, sig, ts, NOW)
    for args in [
        ("other", body, sig, ts),
        ("s3cret", body + b" ", sig, ts),
        ("s3cret", body, None, ts),
        ("s3cret", body, sig, None),
        ("s3cret", body, sig, "x"),
    ]:
        with pytest.raises(SignatureInvalid):
            email_events.verify_hmac(*args, NOW)
    with pytest.raises(SignatureInvalid):  # replayed later
        email_events.verify_hmac("s3cret", body, sig, ts, NOW + timedelta(minutes=6))


def build_eml(**overrides) -> bytes:
    msg = EmailMessage()
    headers = {
        "From": "Buyer <Buyer@Customer.example>",
        "To": "Rep One <rep1@acme.example>, boss@acme.example",
        "Cc": "legal@customer.example",
        "Subject": "Re: proposal v2",
        "Date": "Sun, 01 Mar 2026 15:30:00 +0800",
        "Message-ID": "<reply-1@customer.example>",
        "In-Reply-To": "<proposal-2@acme.example>",
        "References": "<proposal-1@acme.example> <proposal-2@acme.example>",
        "Authorization": "Bearer abc.def.ghi",
        "X-Mailgun-Signature": "deadbeef",
        "X-Api-Token": "tok",
        "Received": "from mx.customer.example",
    }
    headers.update(overrides)
    for name, value in headers.items():
        if value is not None:
            msg[name] = value
    msg.set_content("Thanks for the proposal. " * 30)
    msg.add_alternative("<p>Thanks for the proposal.</p>", subtype="html")
    msg.add_attachment(b"%PDF-1.7 " + b"x" * 1000, maintype="application", subtype="pdf", filename="报价单.pdf")
    msg.add_attachment(b"\x89PNG" + b"\0" * 60, maintype="image", subtype="png", filename="diagram.png")
    return bytes(msg)


def test_eml_reply_with_attachments():
    data = build_eml()
    a = email_events.eml_activity(TENANT, data, own_domains={"acme.example"}, rep_id="rep-1")
    assert a.source_id == "<reply-1@customer.example>"
    assert a.kind == "email_received"  # the sender is not one of ours
    assert a.occurred_at == datetime(2026, 3, 1, 7, 30, tzinfo=UTC)
    assert a.details["is_reply"] is True and a.details["in_reply_to"] == "<proposal-2@acme.example>"
    assert a.details["from"] == "buyer@customer.example"
    assert a.details["to"] == ("rep1@acme.example", "boss@acme.example")
    assert a.details["cc"] == ("legal@customer.example",)
    assert thaw(a.details["attachments"]) == [
        {"filename": "报价单.pdf", "content_type": "application/pdf", "size": 1009},
        {"filename": "diagram.png", "content_type": "image/png", "size": 64},
    ]
    headers = thaw(a.evidence["headers"])
    assert "Authorization" not in headers and "X-Mailgun-Signature" not in headers and "X-Api-Token" not in headers
    assert headers["Subject"] == ["Re: proposal v2"] and "Received" in headers
    snippet = a.evidence["snippet"]
    assert snippet.startswith("Thanks for the proposal.") and len(snippet) == email_events.SNIPPET_CHARS
    flat = json.dumps(thaw(a.evidence), ensure_ascii=False)
    assert "PDF-1.7" not in flat and "<p>" not in flat and "abc.def.ghi" not in flat  # no bodies, no credentials


def test_eml_outbound_first_message_and_explicit_direction():
    data = build_eml(**{"From": "rep1@ACME.example", "In-Reply-To": None, "References": None})
    a = email_events.eml_activity(TENANT, data, own_domains={"acme.example"})
    assert a.kind == "email_sent" and a.details["is_reply"] is False
    b = email_events.eml_activity(TENANT, data, direction="inbound")
    assert b.kind == "email_received"


def test_eml_without_message_id_uses_a_content_hash():
    data = build_eml(**{"Message-ID": None})
    a1 = email_events.eml_activity(TENANT, data)
    a2 = email_events.eml_activity(TENANT, data)
    assert a1.source_id.startswith("sha256:") and a1.source_id == a2.source_id


def test_eml_without_zone_is_utc():
    a = email_events.eml_activity(TENANT, build_eml(Date="Sun, 01 Mar 2026 15:30:00 -0000"))
    assert a.occurred_at == datetime(2026, 3, 1, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"", "file"),
        (b"   \r\n", "file"),
        (build_eml(From=None), "From"),
        (build_eml(From="a@x.example, b@x.example"), "From"),
        (build_eml(Date=None), "Date"),
        (build_eml(Date="the other day"), "Date"),
        (b"just some text that is not an email", "file"),
    ],
)
def test_eml_malformed(data, field):
    with pytest.raises(MalformedPayload) as e:
        email_events.eml_activity(TENANT, data)
    assert e.value.field == field


def test_eml_size_limit_and_bad_direction():
    with pytest.raises(MalformedPayload) as e:
        email_events.eml_activity(TENANT, build_eml(), max_bytes=100)
    assert e.value.field == "file"
    with pytest.raises(MalformedPayload) as e:
        email_events.eml_activity(TENANT, build_eml(), direction="up")
    assert e.value.field == "direction"


def test_eml_encoded_subject_and_folded_references():
    refs = " ".join(f"<ref-{i}-{'x' * 30}@acme.example>" for i in range(6))
    data = build_eml(Subject="Re: 报价方案 第二版", References=refs, **{"In-Reply-To": None})
    assert b"=?utf-8?" in data  # really encoded on the wire
    a = email_events.eml_activity(TENANT, data)
    assert a.details["subject"] == "Re: 报价方案 第二版"
    assert a.details["references"] == tuple(refs.split()) and a.details["is_reply"] is True
    assert a.details["in_reply_to"] is None
    json.dumps(thaw(a.evidence))  # serialisable


def test_eml_with_undecodable_header_bytes_stays_valid_utf8():
    data = build_eml().replace(b"Subject: Re: proposal v2", b"Subject: Re: \xff\xfe proposal")
    a = email_events.eml_activity(TENANT, data)
    json.dumps(thaw(a.evidence), ensure_ascii=False).encode("utf-8")
    assert "proposal" in a.details["subject"]
