"""Email → activities: a generic metadata webhook (JSON) and `.eml` upload.

Webhook body (our generic contract, not a specific vendor's; a mail-relay adapter maps to it):

    {"message_id": "<…@…>", "in_reply_to": "<…>" | null, "references": ["<…>"],
     "from": "a@x", "to": ["b@y"], "cc": [], "subject": "…",
     "sent_at": "2026-01-02T03:04:05Z", "direction": "outbound" | "inbound",
     "rep_id": "…"?, "customer_id": "…"?, "opportunity_id": "…"?, "lead_id": "…"?}

Authenticity (ASSUMPTION, ours): header `X-Dealpulse-Signature: sha256=<hex>` = HMAC-SHA256
of the raw body with the tenant's webhook secret, and `X-Dealpulse-Timestamp` (epoch s)
prefixed to the body as `"<ts>." + body` so a captured request cannot be replayed later.

`.eml` upload: parsed with the stdlib (`policy=email.policy.default`). We keep headers as
evidence except credentials (Authorization, *-Signature, Cookie, tokens: see `redact`) and
the bodies: only a snippet of the first text/plain part (200 chars) and the attachments'
names, types and sizes. Direction: `direction` argument, else outbound when the From domain
is one of the tenant's own domains. No Message-ID → the source id is the SHA-256 of the file.
A reply is a message with In-Reply-To or References.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.header import decode_header, make_header
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from .model import DEFAULT_REPLAY_WINDOW, Activity, MalformedPayload, SignatureInvalid, is_sensitive_key, parse_rfc3339

DIRECTIONS = {"outbound": "email_sent", "inbound": "email_received"}
SNIPPET_CHARS = 200
MAX_EML_BYTES = 25 * 1024 * 1024


def verify_hmac(secret: str, body: bytes, signature: str | None, timestamp: str | None, now: datetime,
                window: timedelta = DEFAULT_REPLAY_WINDOW) -> None:
    if not signature or not timestamp:
        raise SignatureInvalid("missing signature or timestamp")
    try:
        ts = int(timestamp)
    except ValueError:
        raise SignatureInvalid("timestamp is not an integer") from None
    if abs(now.timestamp() - ts) > window.total_seconds():
        raise SignatureInvalid("timestamp outside the replay window")
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.strip()):
        raise SignatureInvalid("signature mismatch")


def sign_hmac(secret: str, body: bytes, timestamp: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _address_list(value: Any, field_path: str, required: bool = False) -> list[str]:
    if value is None:
        value = []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MalformedPayload(field_path, "expected a list of addresses")
    out = []
    for i, (_, addr) in enumerate(getaddresses(value)):
        if "@" not in addr:
            raise MalformedPayload(f"{field_path}[{i}]", "not an email address")
        out.append(addr.lower())
    if required and not out:
        raise MalformedPayload(field_path, "at least one address is required")
    return out


def webhook_activity(tenant_id: str, payload: Mapping[str, Any] | bytes | str) -> Activity:
    """One metadata event → one activity."""
    if isinstance(payload, bytes | str):
        try:
            payload = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            raise MalformedPayload("body", "not JSON") from None
    if not isinstance(payload, Mapping):
        raise MalformedPayload("body", "expected a JSON object")
    message_id = payload.get("message_id")
    if not isinstance(message_id, str) or not message_id.strip():
        raise MalformedPayload("message_id", "missing")
    direction = payload.get("direction")
    if direction not in DIRECTIONS:
        raise MalformedPayload("direction", "expected 'inbound' or 'outbound'")
    sender = _address_list(payload.get("from"), "from", required=True)
    if len(sender) != 1:
        raise MalformedPayload("from", "expected exactly one sender")
    to = _address_list(payload.get("to"), "to", required=True)
    cc = _address_list(payload.get("cc"), "cc")
    occurred = parse_rfc3339(payload.get("sent_at"), "sent_at")
    in_reply_to = payload.get("in_reply_to")
    if in_reply_to is not None and not isinstance(in_reply_to, str):
        raise MalformedPayload("in_reply_to", "expected a string")
    references = payload.get("references") or []
    if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
        raise MalformedPayload("references", "expected a list of message ids")
    subject = payload.get("subject")
    if subject is not None and not isinstance(subject, str):
        raise MalformedPayload("subject", "expected a string")
    for name in ("rep_id", "customer_id", "opportunity_id", "lead_id"):
        if payload.get(name) is not None and not isinstance(payload.get(name), str):
            raise MalformedPayload(name, "expected a string")
    return Activity(
        tenant_id=tenant_id,
        source="email",
        source_id=message_id.strip(),
        kind=DIRECTIONS[direction],
        occurred_at=occurred,
        rep_id=payload.get("rep_id"),
        customer_id=payload.get("customer_id"),
        opportunity_id=payload.get("opportunity_id"),
        lead_id=payload.get("lead_id"),
        evidence=dict(payload),
        details={
            "subject": subject,
            "from": sender[0],
            "to": to,
            "cc": cc,
            "is_reply": bool(in_reply_to or references),
            "in_reply_to": in_reply_to,
        },
    )


def _clean(text: str) -> str:
    """Undo the parser's surrogate escapes so the value is valid UTF-8 (JSON, protobuf)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _raw_headers(msg: EmailMessage) -> list[tuple[str, str]]:
    # raw_items() skips the policy's structured header parsing, which has crash bugs on
    # hostile input (e.g. AttributeError on groups); we parse the few fields we need ourselves.
    return [(_clean(name), _clean(re.sub(r"\r?\n(?=[ \t])", "", str(value)))) for name, value in msg.raw_items()]


def _raw(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in headers if k.lower() == name.lower()]


def _decoded(value: str) -> str:
    try:
        return _clean(str(make_header(decode_header(value))))
    except Exception:  # noqa: BLE001 - stdlib decoder raises several types on bad encoded-words
        return value


def _addresses(headers: list[tuple[str, str]], name: str) -> list[str]:
    try:
        pairs = getaddresses(_raw(headers, name))
    except Exception:  # noqa: BLE001
        raise MalformedPayload(name, "unparsable address list") from None
    return [addr.lower() for _, addr in pairs if "@" in addr]


def _snippet(msg: EmailMessage) -> str | None:
    part = msg.get_body(preferencelist=("plain",))
    if part is None:
        return None
    try:
        text = part.get_content()
    except (LookupError, ValueError):
        return None
    text = " ".join(_clean(str(text)).split())
    return text[:SNIPPET_CHARS]


def _attachments(msg: EmailMessage) -> list[dict[str, Any]]:
    out = []
    for part in msg.iter_attachments():
        payload = part.get_payload(decode=True)
        filename = part.get_filename()
        out.append(
            {
                "filename": _clean(filename) if filename else None,
                "content_type": part.get_content_type(),
                "size": len(payload) if isinstance(payload, bytes) else 0,
            }
        )
    return out


def eml_activity(
    tenant_id: str,
    data: bytes,
    *,
    own_domains: Collection[str] = (),
    direction: str | None = None,
    rep_id: str | None = None,
    customer_id: str | None = None,
    opportunity_id: str | None = None,
    lead_id: str | None = None,
    max_bytes: int = MAX_EML_BYTES,
) -> Activity:
    """One uploaded `.eml` file → one activity (metadata, snippet, attachment list)."""
    if not isinstance(data, bytes | bytearray) or not data.strip():
        raise MalformedPayload("file", "empty upload")
    if len(data) > max_bytes:
        raise MalformedPayload("file", f"larger than {max_bytes} bytes")
    msg = BytesParser(policy=policy.default).parsebytes(bytes(data))
    if msg.defects and not msg.keys():
        raise MalformedPayload("file", "not an RFC 5322 message")
    raw = _raw_headers(msg)
    senders = _addresses(raw, "From")
    if len(senders) != 1:
        raise MalformedPayload("From", "expected exactly one sender address")
    dates = _raw(raw, "Date")
    if not dates:
        raise MalformedPayload("Date", "missing")
    try:
        sent = parsedate_to_datetime(dates[0])
    except (TypeError, ValueError, IndexError, OverflowError):
        raise MalformedPayload("Date", "unparsable") from None
    if sent is None:
        raise MalformedPayload("Date", "unparsable")
    if sent.tzinfo is None:  # RFC 5322 "-0000": time is UTC, source zone unknown
        sent = sent.replace(tzinfo=UTC)
    to = _addresses(raw, "To")
    cc = _addresses(raw, "Cc")
    message_id = " ".join(_raw(raw, "Message-ID")[:1]).strip()
    in_reply_to = " ".join(_raw(raw, "In-Reply-To")[:1]).strip() or None
    references = " ".join(_raw(raw, "References")).split()
    subject = _decoded(" ".join(_raw(raw, "Subject")[:1]).strip()) or None
    if direction is None:
        domain = senders[0].rsplit("@", 1)[-1]
        direction = "outbound" if domain in {d.lower() for d in own_domains} else "inbound"
    if direction not in DIRECTIONS:
        raise MalformedPayload("direction", "expected 'inbound' or 'outbound'")
    headers: dict[str, Any] = {}
    for name, value in raw:
        if is_sensitive_key(name):
            continue  # dropped, not just redacted: credentials are no evidence
        headers.setdefault(name, []).append(value)
    try:
        attachments = _attachments(msg)
        snippet = _snippet(msg)
    except Exception:  # noqa: BLE001 - the stdlib MIME walker has crash bugs on hostile input
        raise MalformedPayload("file", "unparsable MIME structure") from None
    return Activity(
        tenant_id=tenant_id,
        source="email",
        source_id=message_id or "sha256:" + hashlib.sha256(data).hexdigest(),
        kind=DIRECTIONS[direction],
        occurred_at=sent,
        rep_id=rep_id,
        customer_id=customer_id,
        opportunity_id=opportunity_id,
        lead_id=lead_id,
        evidence={"headers": headers, "snippet": snippet, "attachments": attachments, "size": len(data)},
        details={
            "subject": subject,
            "from": senders[0],
            "to": to,
            "cc": cc,
            "is_reply": bool(in_reply_to or references),
            "in_reply_to": in_reply_to,
            "references": references,
            "attachments": attachments,
        },
    )
