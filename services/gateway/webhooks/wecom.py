"""WeCom (企业微信) callbacks → external-contact activities; dial records → call activities.

Callback as we assume WeCom sends it (verify against developer.work.weixin.qq.com, "接收消息与事件"):

    GET  /webhooks/wecom/{tenant}?msg_signature=…&timestamp=<s>&nonce=…&echostr=<enc>   URL check
    POST /webhooks/wecom/{tenant}?msg_signature=…&timestamp=<s>&nonce=…
         <xml><ToUserName><![CDATA[corp]]></ToUserName><AgentID>…</AgentID>
              <Encrypt><![CDATA[…]]></Encrypt></xml>

Signature and encryption: `msgcrypt` (receiver id = corp id, or suite id for a third-party
app). The decrypted message is XML. We handle `MsgType=event`, `Event=change_external_contact`
with `ChangeType` in add_external_contact, add_half_external_contact, edit_external_contact,
del_external_contact, del_follow_user, transfer_fail; fields UserID (the rep), ExternalUserID,
CreateTime (epoch s), State, WelcomeCode (redacted: it lets the holder send a welcome message).
Other events/types are acknowledged with no activities. WeCom sends no event id: the source id
is a SHA-1 of (corp, ChangeType, UserID, ExternalUserID, CreateTime), identical across retries.

Call records — ASSUMPTION: to our knowledge WeCom does not push call records through this
callback; 公费电话 dial records are *pulled* (`POST /cgi-bin/dial/get_dial_record`, JSON
`record: [{call_time (s), total_duration (s), call_type (1 one-to-one, 2 conference),
caller: {userid, duration}, callee: [{userid | phone, duration}]}]`). `dial_record_activities`
normalises that shape; it has no signature because the poller authenticates to WeCom, not the
reverse. The field names are from memory of that API — check before relying on them.

XML safety: documents containing a DOCTYPE/ENTITY declaration are rejected before parsing.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from . import msgcrypt
from .model import DEFAULT_REPLAY_WINDOW, Activity, MalformedPayload, parse_epoch

CHANGE_KINDS = {
    "add_external_contact": "external_contact_added",
    "add_half_external_contact": "external_contact_half_added",
    "edit_external_contact": "external_contact_edited",
    "del_external_contact": "external_contact_deleted",
    "del_follow_user": "external_contact_follow_deleted",
    "transfer_fail": "external_contact_transfer_failed",
}


@dataclass(frozen=True)
class WeComConfig:
    token: str
    encoding_aes_key: str
    receiver_ids: frozenset[str]
    user_map: Mapping[str, str] = field(default_factory=dict)  # WeCom UserID → rep id
    window: timedelta = DEFAULT_REPLAY_WINDOW

    def __post_init__(self) -> None:
        msgcrypt.aes_key_from(self.encoding_aes_key)
        if not self.token or not self.receiver_ids:
            raise ValueError("token and at least one receiver id are required")

    @property
    def key(self) -> bytes:
        return msgcrypt.aes_key_from(self.encoding_aes_key)


@dataclass(frozen=True)
class WeComResult:
    event: str | None
    activities: list[Activity]


def parse_xml(data: bytes | str, field_path: str) -> dict[str, str]:
    """A flat `<xml>` document → {tag: text}. Nested elements are kept as their text."""
    raw = data.encode() if isinstance(data, str) else data
    upper = raw.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise MalformedPayload(field_path, "DOCTYPE/ENTITY declarations are not accepted")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError:
        raise MalformedPayload(field_path, "not well-formed XML") from None
    if root.tag != "xml":
        raise MalformedPayload(field_path, "root element must be <xml>")
    return {child.tag: (child.text or "").strip() for child in root}


def _open(config: WeComConfig, query: Mapping[str, str], encrypted: str | None, field: str, now: datetime) -> bytes:
    """Check the signature over `encrypted` (and the replay window), then decrypt it."""
    msgcrypt.verify(
        token=config.token,
        timestamp=query.get("timestamp"),
        nonce=query.get("nonce"),
        encrypt=encrypted,
        signature=query.get("msg_signature"),
        now=now,
        window=config.window,
    )
    return msgcrypt.decrypt(config.key, encrypted or "", config.receiver_ids, field=field)


def verify_url(config: WeComConfig, query: Mapping[str, str], now: datetime) -> bytes:
    """GET URL verification: the decrypted `echostr` to send back as plain text."""
    return _open(config, query, query.get("echostr"), "echostr", now)


def decrypt_message(config: WeComConfig, query: Mapping[str, str], body: bytes | str, now: datetime) -> dict[str, str]:
    encrypted = parse_xml(body, "body").get("Encrypt")
    return parse_xml(_open(config, query, encrypted, "Encrypt", now), "Encrypt")


def handle(
    config: WeComConfig, tenant_id: str, query: Mapping[str, str], body: bytes | str, now: datetime
) -> WeComResult:
    msg = decrypt_message(config, query, body, now)
    event = msg.get("Event")
    if msg.get("MsgType") == "event" and event == "change_external_contact":
        return WeComResult(event, [external_contact_activity(config, tenant_id, msg)])
    return WeComResult(event, [])


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()


def external_contact_activity(config: WeComConfig, tenant_id: str, msg: Mapping[str, str]) -> Activity:
    change = msg.get("ChangeType", "")
    kind = CHANGE_KINDS.get(change)
    if kind is None:
        raise MalformedPayload("ChangeType", f"unknown change type {change!r}")
    user = msg.get("UserID")
    if not user:
        raise MalformedPayload("UserID", "missing")
    external = msg.get("ExternalUserID")
    if not external:
        raise MalformedPayload("ExternalUserID", "missing")
    if not msg.get("CreateTime"):
        raise MalformedPayload("CreateTime", "missing")
    occurred = parse_epoch(msg["CreateTime"], "CreateTime")
    corp = msg.get("ToUserName", "")
    return Activity(
        tenant_id=tenant_id,
        source="wecom",
        source_id=_digest(corp, change, user, external, msg["CreateTime"]),
        kind=kind,
        occurred_at=occurred,
        rep_id=config.user_map.get(user, user),
        external_contact_id=external,
        evidence=dict(msg),
        details={"vendor_user_id": user, "change_type": change, "state": msg.get("State") or None},
    )


def dial_record_activities(
    tenant_id: str, response: Mapping[str, Any] | bytes | str, user_map: Mapping[str, str] | None = None
) -> list[Activity]:
    """ASSUMED shape (see module doc): one activity per dial record, attributed to the caller."""
    if isinstance(response, bytes | str):
        try:
            response = json.loads(response)
        except (ValueError, UnicodeDecodeError):
            raise MalformedPayload("body", "not JSON") from None
    if not isinstance(response, Mapping):
        raise MalformedPayload("body", "expected a JSON object")
    records = response.get("record")
    if not isinstance(records, list):
        raise MalformedPayload("record", "expected a list")
    user_map = user_map or {}
    out: list[Activity] = []
    for i, rec in enumerate(records):
        path = f"record[{i}]"
        if not isinstance(rec, Mapping):
            raise MalformedPayload(path, "expected an object")
        if rec.get("call_time") in (None, ""):
            raise MalformedPayload(f"{path}.call_time", "missing")
        occurred = parse_epoch(rec["call_time"], f"{path}.call_time")
        caller = rec.get("caller")
        if not isinstance(caller, Mapping) or not caller.get("userid"):
            raise MalformedPayload(f"{path}.caller.userid", "missing")
        duration = rec.get("total_duration", 0)
        if isinstance(duration, bool) or not isinstance(duration, int) or duration < 0:
            raise MalformedPayload(f"{path}.total_duration", "expected a non-negative integer of seconds")
        callees = rec.get("callee") or []
        if not isinstance(callees, list) or not all(isinstance(c, Mapping) for c in callees):
            raise MalformedPayload(f"{path}.callee", "expected a list of objects")
        user = str(caller["userid"])
        callee_keys = sorted(str(c.get("userid") or c.get("phone") or "") for c in callees)
        out.append(
            Activity(
                tenant_id=tenant_id,
                source="wecom",
                source_id=_digest("dial", user, str(rec["call_time"]), *callee_keys),
                kind="call",
                occurred_at=occurred,
                rep_id=user_map.get(user, user),
                duration_seconds=duration,
                evidence=dict(rec),
                details={"vendor_user_id": user, "call_type": rec.get("call_type"), "callees": callee_keys},
            )
        )
    return out
