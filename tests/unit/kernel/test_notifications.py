"""Notification wire formats and validation (no network)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest

from kernel.notifications.channels import dingtalk_payload, dingtalk_sign, dingtalk_url, email_message, wecom_payload
from kernel.notifications.model import Attachment, Channel, InvalidNotification, Notification


def robot(channel=Channel.WECOM, **kw):
    args = dict(
        notification_id="mustdo/acme/2026-03-02/ann/wecom",
        tenant_id="acme",
        channel=channel,
        title="今日必做 3 项",
        body="1. **Call** Ruijin\n2. Send the sheet",
        webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        mention_user_ids=("bob",),
    )
    return Notification(**(args | kw))


def test_wecom_markdown_payload_mentions_inside_the_content():
    payload = wecom_payload(robot())
    assert payload["msgtype"] == "markdown"
    assert payload["markdown"]["content"].startswith("**今日必做 3 项**\n1. **Call**")
    assert payload["markdown"]["content"].endswith("<@bob>")


def test_dingtalk_payload_and_signature_follow_the_documented_algorithm():
    n = robot(Channel.DINGTALK, webhook_url="https://oapi.dingtalk.com/robot/send?access_token=t", signing_secret="SECabc")
    payload = dingtalk_payload(n)
    assert payload["msgtype"] == "markdown" and payload["markdown"]["title"] == "今日必做 3 项"
    assert payload["at"] == {"atUserIds": ["bob"], "isAtAll": False} and "@bob" in payload["markdown"]["text"]
    url = dingtalk_url(n.webhook_url, n.signing_secret, 1700000000000)
    query = parse_qs(urlsplit(url).query)
    assert query["access_token"] == ["t"] and query["timestamp"] == ["1700000000000"]
    expected = base64.b64encode(hmac.new(b"SECabc", b"1700000000000\nSECabc", hashlib.sha256).digest()).decode()
    assert query["sign"] == [expected]
    assert unquote_plus(dingtalk_sign("SECabc", 1700000000000)) == expected
    assert dingtalk_url(n.webhook_url, "", 1) == n.webhook_url


def test_email_carries_subject_body_attachment_and_a_stable_message_id():
    n = Notification(
        notification_id="weekly/acme/2026-W10/ann", tenant_id="acme", channel="email", title="Weekly compliance",
        body="Team ann: 82 %", recipients=("ann@example.com",),
        attachments=(Attachment("report.csv", "text/csv", b"a,b\n"),),
    )
    message = email_message(n, "dealpulse@example.com")
    assert message["Subject"] == "Weekly compliance" and message["To"] == "ann@example.com"
    assert message["Message-ID"] == "<weekly.acme.2026-W10.ann@dealpulse>"
    assert [p.get_filename() for p in message.iter_attachments()] == ["report.csv"]


def test_round_trip_through_json():
    n = Notification(
        notification_id="x", tenant_id="acme", channel="email", title="t", body="b", recipients=("a@b.cn",),
        attachments=(Attachment("r.xlsx", "application/octet-stream", bytes(range(256))),),
    )
    assert Notification.from_json(n.to_json()) == n
    assert Notification.from_json(robot().to_json()) == robot()


@pytest.mark.parametrize(
    "kwargs, problem",
    [
        ({"notification_id": "bad id with spaces"}, "notification id"),
        ({"title": ""}, "title"),
        ({"body": "  "}, "body"),
        ({"webhook_url": "ftp://x"}, "http"),
        ({"body": "x" * 5000}, "4096"),
        ({"recipients": ("a@b.cn",)}, "mentions, not recipients"),
        ({"signing_secret": "SEC"}, "only DingTalk"),
        ({"channel": "sms"}, "sms"),
        ({"channel": "email", "webhook_url": ""}, "recipient"),
        ({"channel": "email", "webhook_url": "", "recipients": ("not-an-address",)}, "not email"),
    ],
)
def test_bad_notifications_are_refused(kwargs, problem):
    with pytest.raises((InvalidNotification, ValueError), match=problem):
        robot(**kwargs)


def test_bad_attachments_are_refused():
    with pytest.raises(InvalidNotification):
        Attachment("../etc/passwd", "text/plain", b"")
    with pytest.raises(InvalidNotification):
        Attachment("a.csv", "csv", b"")
