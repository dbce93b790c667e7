"""Accounts (customers): master data, grade and marketing contact, and the facts the
audit policy decides edits on.

Pure rules, no I/O. A command is validated here before its event is appended (bad
input raises InvalidCommand naming the field and changes nothing); the projector
applies the same functions to the events, so a replay rebuilds the same account.

Once a customer is won (any of its opportunities is closed-won), the audit policy
(SEC-SALES-2026-02) lets a rep edit its contact information only and nobody edit its
grade directly: the grade then changes through the customer_grade_change approval,
applied by `grade_changed`. Whether the customer is won is a fact of its opportunities,
so it is passed in (`customer_won`), not kept on the account.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from services.actions.domain.commands import require_id, require_text
from services.actions.domain.errors import InvalidCommand

GRADES: tuple[str, ...] = ("A", "B", "C", "D")
# An opportunity closing in this stage makes its account a won customer.
WON_STAGE = "closed_won"
CONTACT_FIELDS: tuple[str, ...] = ("contact_name", "contact_phone", "contact_email", "contact_title")
TEXT_FIELDS: tuple[str, ...] = ("address", *CONTACT_FIELDS, "decision_maker")
# Every field UpdateAccount may change, in the order they are reported.
EDITABLE_FIELDS: tuple[str, ...] = ("name", "industry", "owner_id", *TEXT_FIELDS, "latitude", "longitude", "grade")
# The field Check decides for SetMarketingContact.
MARKETING_CONTACT_FIELD = "marketing_contact_id"

_MAX_TEXT = {"address": 500, "decision_maker": 200, "contact_name": 100, "contact_title": 100}
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{3,30}[0-9]$")
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


@dataclass(frozen=True)
class MarketingContact:
    """Who in marketing is told about the customer's grade changes, and on which channels."""

    marketing_contact_id: str
    display_name: str = ""
    email: str = ""
    wecom_webhook_url: str = ""
    dingtalk_webhook_url: str = ""
    dingtalk_secret: str = ""
    mention_id: str = ""

    @property
    def reachable(self) -> bool:
        return bool(self.email or self.wecom_webhook_url or self.dingtalk_webhook_url)


@dataclass(frozen=True)
class AccountState:
    tenant_id: str
    account_id: str
    name: str
    industry: str
    owner_id: str
    created_at: datetime
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    contact_title: str = ""
    decision_maker: str = ""
    grade: str = ""
    grade_changed_at: datetime | None = None
    # The approval request behind the current grade, and every request applied so far
    # (a redelivered approval is recognised and applied once).
    grade_approval_request_id: str = ""
    applied_approval_ids: tuple[str, ...] = ()
    marketing_contact: MarketingContact | None = None
    version: int = 1
    updated_at: datetime | None = None


@dataclass(frozen=True)
class GradeChange:
    """An effect of applying an account event: BI and the marketing contact must hear of it."""

    account: AccountState
    from_grade: str
    to_grade: str
    changed_by: str
    at: datetime
    approval_request_id: str = ""
    approved_by: tuple[str, ...] = ()


def record_state(account: AccountState | None, *, customer_won: bool, owner_id: str = "") -> dict[str, str | bool]:
    """The facts audit Check decides on: `exists`, `owner_id`, `customer_won`, `grade`.
    For a create (`account` None) the record to be: not existing, owned by `owner_id`."""
    if account is None:
        return {"exists": False, "owner_id": owner_id, "customer_won": False, "grade": ""}
    return {"exists": True, "owner_id": account.owner_id, "customer_won": customer_won, "grade": account.grade}


def require_grade(value: str, field: str = "grade") -> str:
    grade = (value or "").strip().upper()
    if grade not in GRADES:
        raise InvalidCommand(field, f"must be one of {', '.join(GRADES)}")
    return grade


def _coordinate(value: Any, field: str, limit: float) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise InvalidCommand(field, "must be a number")
    if not -limit <= value <= limit:
        raise InvalidCommand(field, f"must be between {-limit:g} and {limit:g}")
    return float(value)


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidCommand(field, "must be text")
    text = value.strip()
    limit = _MAX_TEXT.get(field, 200)
    if len(text) > limit:
        raise InvalidCommand(field, f"must be at most {limit} characters")
    if text and field == "contact_phone" and not _PHONE.match(text):
        raise InvalidCommand(field, "must be a phone number: digits, optionally a leading '+', spaces, '-' or ()")
    if text and field == "contact_email" and not _EMAIL.match(text):
        raise InvalidCommand(field, "must be an email address")
    return text


def validate_changes(account: AccountState, changes: dict[str, Any]) -> dict[str, Any]:
    """The changes that really change something, normalised; raises InvalidCommand for
    the first bad field. `changes` maps field names of EDITABLE_FIELDS to new values
    ("" clears a text field; the site's coordinates are corrected, never cleared). An
    empty result is a no-op."""
    if not changes:
        raise InvalidCommand("update_mask", f"name the fields to change, from: {', '.join(EDITABLE_FIELDS)}")
    normalised: dict[str, Any] = {}
    for field in EDITABLE_FIELDS:
        if field not in changes:
            continue
        value = changes[field]
        if field in ("name", "industry"):
            normalised[field] = require_text(value, field)
        elif field == "owner_id":
            normalised[field] = require_id(value, field)
        elif field == "grade":
            normalised[field] = require_grade(value)
        elif field in ("latitude", "longitude"):
            normalised[field] = _coordinate(value, field, 90.0 if field == "latitude" else 180.0)
        else:
            normalised[field] = _text(value, field)
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise InvalidCommand("update_mask", f"{unknown[0]!r} is not an account field; fields are {', '.join(EDITABLE_FIELDS)}")
    latitude = normalised.get("latitude", account.latitude)
    longitude = normalised.get("longitude", account.longitude)
    if (latitude is None) != (longitude is None):
        missing = "longitude" if longitude is None else "latitude"
        raise InvalidCommand(missing, "latitude and longitude are set together (the site is one point)")
    return {field: value for field, value in normalised.items() if getattr(account, field) != value}


def validate_marketing_contact(contact: MarketingContact) -> MarketingContact:
    require_id(contact.marketing_contact_id, "marketing_contact.marketing_contact_id")
    email = contact.email.strip()
    if email and not _EMAIL.match(email):
        raise InvalidCommand("marketing_contact.email", "must be an email address")
    for name in ("wecom_webhook_url", "dingtalk_webhook_url"):
        url = getattr(contact, name).strip()
        if url and not _URL.match(url):
            raise InvalidCommand(f"marketing_contact.{name}", "must be an http(s) URL")
    if contact.dingtalk_secret and not contact.dingtalk_webhook_url:
        raise InvalidCommand("marketing_contact.dingtalk_secret", "only a DingTalk robot is signed; give its webhook URL")
    cleaned = replace(
        contact,
        display_name=contact.display_name.strip()[:100],
        email=email,
        wecom_webhook_url=contact.wecom_webhook_url.strip(),
        dingtalk_webhook_url=contact.dingtalk_webhook_url.strip(),
        mention_id=contact.mention_id.strip(),
    )
    if not cleaned.reachable:
        raise InvalidCommand("marketing_contact", "give at least one channel: email, wecom_webhook_url or dingtalk_webhook_url")
    return cleaned


def requested_grade(account: AccountState, to_grade: str) -> str:
    """The grade a change request asks for, validated against the account."""
    grade = require_grade(to_grade)
    if grade == account.grade:
        raise InvalidCommand("grade", f"the customer's grade is already {grade}")
    return grade


# --- applying events ------------------------------------------------------------------------


def created(
    *, tenant_id: str, account_id: str, name: str, industry: str, owner_id: str, at: datetime
) -> AccountState:
    return AccountState(tenant_id, account_id, name, industry, owner_id, created_at=at, updated_at=at)


def updated(account: AccountState, changes: dict[str, Any], actor_id: str, at: datetime) -> tuple[AccountState, GradeChange | None]:
    """Apply an AccountUpdated; a grade among the changes is a grade change (BI and
    marketing hear of it)."""
    known = {field: value for field, value in changes.items() if field in EDITABLE_FIELDS}
    new = replace(account, **known, version=account.version + 1, updated_at=at)
    if "grade" in known and known["grade"] != account.grade:
        new = replace(new, grade_changed_at=at, grade_approval_request_id="")
        return new, GradeChange(new, account.grade, known["grade"], actor_id, at)
    return new, None


def grade_changed(
    account: AccountState,
    to_grade: str,
    *,
    approval_request_id: str,
    approved_by: tuple[str, ...],
    changed_by: str,
    at: datetime,
) -> tuple[AccountState, GradeChange | None]:
    """Apply an approved grade change. An approval already applied (redelivered) changes
    nothing and has no effect."""
    if approval_request_id and approval_request_id in account.applied_approval_ids:
        return account, None
    applied = account.applied_approval_ids + ((approval_request_id,) if approval_request_id else ())
    new = replace(
        account,
        grade=to_grade,
        grade_changed_at=at,
        grade_approval_request_id=approval_request_id,
        applied_approval_ids=applied,
        version=account.version + 1,
        updated_at=at,
    )
    if to_grade == account.grade:
        return new, None
    return new, GradeChange(new, account.grade, to_grade, changed_by, at, approval_request_id, approved_by)


def marketing_contact_set(account: AccountState, contact: MarketingContact, at: datetime) -> AccountState:
    return replace(account, marketing_contact=contact, version=account.version + 1, updated_at=at)
