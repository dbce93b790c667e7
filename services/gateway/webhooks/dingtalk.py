"""DingTalk event-subscription callbacks (HTTP push, encrypted mode) → check-in activities.

Request as we assume DingTalk sends it (verify against open.dingtalk.com, "配置事件订阅"):

    POST /webhooks/dingtalk/{tenant}?signature=…&timestamp=<ms>&nonce=…   (newer: msg_signature)
    {"encrypt": "<base64 AES-256-CBC ciphertext>"}

The signature/encryption scheme is in `msgcrypt`. The decrypted message is JSON with
`EventType`. We handle:

* `check_url` — DingTalk's URL verification: no activities, just the encrypted ack.
* `attendance_check_record` — punches (打卡) with `DataList`: a list of objects. Fields we
  read, each with the alternative names the attendance *listRecord* API uses since the
  callback's exact field set is not fully documented (UNKNOWNS are marked):
    userId (required), checkTime | userCheckTime (epoch ms, required),
    address | userAddress | locationTitle, latitude | userLatitude, longitude | userLongitude,
    checkType ("OnDuty" → checkin, "OffDuty" → checkout; UNKNOWN whether the callback carries
    it: absent → checkin), id | recordId (UNKNOWN whether present), bizId, deviceName, corpId.
  `bizId` is *not* used as the de-duplication id: the listRecord API shows several records
  sharing one bizId. The source id is `id`/`recordId` when present, else `userId:checkTime`
  (one person cannot punch twice in the same millisecond), so DingTalk's retries collapse.
* Any other event type: acknowledged, no activities (so DingTalk stops retrying).

Every reply, after a valid request, must be the encrypted "success" ack (`ack`); DingTalk
retries otherwise. One bad DataList entry rejects the whole message (nothing is written).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from . import msgcrypt
from .model import DEFAULT_REPLAY_WINDOW, Activity, Location, MalformedPayload, parse_epoch

CHECK_TYPES = {"onduty": "checkin", "offduty": "checkout"}


@dataclass(frozen=True)
class DingTalkConfig:
    """Per tenant: the callback token, the 43-char aes_key and our corpId / suiteKey."""

    token: str
    aes_key: str
    receiver_ids: frozenset[str]
    user_map: Mapping[str, str] = field(default_factory=dict)  # DingTalk userId → rep id
    window: timedelta = DEFAULT_REPLAY_WINDOW

    def __post_init__(self) -> None:
        msgcrypt.aes_key_from(self.aes_key)  # fail fast on a bad key
        if not self.token or not self.receiver_ids:
            raise ValueError("token and at least one receiver id are required")

    @property
    def key(self) -> bytes:
        return msgcrypt.aes_key_from(self.aes_key)


@dataclass(frozen=True)
class DingTalkResult:
    event_type: str
    activities: list[Activity]


def decrypt_event(
    config: DingTalkConfig, query: Mapping[str, str], body: Mapping[str, Any] | bytes | str, now: datetime
) -> dict[str, Any]:
    """Verify and decrypt one callback; the event as a dict."""
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise MalformedPayload("body", "not JSON") from None
    if not isinstance(body, Mapping):
        raise MalformedPayload("body", "expected a JSON object")
    encrypted = body.get("encrypt")
    msgcrypt.verify(
        token=config.token,
        timestamp=query.get("timestamp"),
        nonce=query.get("nonce"),
        encrypt=encrypted if isinstance(encrypted, str) else None,
        signature=query.get("msg_signature") or query.get("signature"),
        now=now,
        window=config.window,
    )
    message = msgcrypt.decrypt(config.key, encrypted, config.receiver_ids, field="encrypt")
    try:
        event = json.loads(message)
    except (ValueError, UnicodeDecodeError):
        raise MalformedPayload("encrypt", "decrypted message is not JSON") from None
    if not isinstance(event, dict):
        raise MalformedPayload("encrypt", "decrypted message is not a JSON object")
    if not isinstance(event.get("EventType"), str) or not event["EventType"]:
        raise MalformedPayload("EventType", "missing")
    return event


def handle(
    config: DingTalkConfig,
    tenant_id: str,
    query: Mapping[str, str],
    body: Mapping[str, Any] | bytes | str,
    now: datetime,
) -> DingTalkResult:
    event = decrypt_event(config, query, body, now)
    event_type = event["EventType"]
    if event_type == "attendance_check_record":
        return DingTalkResult(event_type, attendance_activities(config, tenant_id, event))
    return DingTalkResult(event_type, [])


def _first(entry: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        if entry.get(name) not in (None, ""):
            return entry[name]
    return None


def _coord(entry: Mapping[str, Any], path: str, *names: str) -> float | None:
    value = _first(entry, *names)
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise MalformedPayload(f"{path}.{names[0]}", "not a number") from None


def attendance_activities(config: DingTalkConfig, tenant_id: str, event: Mapping[str, Any]) -> list[Activity]:
    data = event.get("DataList")
    if not isinstance(data, list):
        raise MalformedPayload("DataList", "expected a list")
    envelope = {k: v for k, v in event.items() if k != "DataList"}
    out: list[Activity] = []
    for i, entry in enumerate(data):
        path = f"DataList[{i}]"
        if not isinstance(entry, Mapping):
            raise MalformedPayload(path, "expected an object")
        user = entry.get("userId")
        if not isinstance(user, str) or not user:
            raise MalformedPayload(f"{path}.userId", "missing")
        raw_time = _first(entry, "checkTime", "userCheckTime")
        if raw_time is None:
            raise MalformedPayload(f"{path}.checkTime", "missing")
        occurred = parse_epoch(raw_time, f"{path}.checkTime")
        check_type = entry.get("checkType")
        kind = CHECK_TYPES.get(str(check_type).lower(), None) if check_type is not None else "checkin"
        if kind is None:
            raise MalformedPayload(f"{path}.checkType", f"unknown check type {check_type!r}")
        lat = _coord(entry, path, "latitude", "userLatitude")
        lon = _coord(entry, path, "longitude", "userLongitude")
        address = _first(entry, "address", "userAddress", "locationTitle")
        try:
            location = (
                Location(lat, lon, str(address) if address is not None else None)
                if lat is not None or lon is not None or address is not None
                else None
            )
        except ValueError as exc:
            raise MalformedPayload(f"{path}.latitude", str(exc)) from None
        record_id = _first(entry, "id", "recordId")
        source_id = str(record_id) if record_id is not None else f"{user}:{int(occurred.timestamp() * 1000)}"
        out.append(
            Activity(
                tenant_id=tenant_id,
                source="dingtalk",
                source_id=source_id,
                kind=kind,
                occurred_at=occurred,
                rep_id=config.user_map.get(user, user),
                location=location,
                evidence={**envelope, "DataList": [dict(entry)]},
                details={"vendor_user_id": user, "biz_id": entry.get("bizId")},
            )
        )
    return out


def ack(config: DingTalkConfig, now: datetime, receiver_id: str | None = None) -> dict[str, str]:
    """The JSON body DingTalk expects back: the word "success", encrypted and signed."""
    receiver = receiver_id or sorted(config.receiver_ids)[0]
    timestamp = str(int(now.timestamp() * 1000))
    nonce = secrets.token_hex(8)
    encrypted = msgcrypt.encrypt(config.key, b"success", receiver, os.urandom(16))
    return {
        "msg_signature": msgcrypt.sign(config.token, timestamp, nonce, encrypted),
        "timeStamp": timestamp,
        "nonce": nonce,
        "encrypt": encrypted,
    }
