"""Accounts between the domain, the wire (API and events) and the Redis projection."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from dealpulse.actions.v1 import actions_service_pb2 as api
from dealpulse.actions.v1 import events_pb2 as events
from services.actions.adapters.messages import timestamp
from services.actions.domain.accounts import EDITABLE_FIELDS, AccountState, MarketingContact
from services.actions.domain.errors import InvalidCommand

_CONTACT_FIELDS = (
    "marketing_contact_id",
    "display_name",
    "email",
    "wecom_webhook_url",
    "dingtalk_webhook_url",
    "dingtalk_secret",
    "mention_id",
)
_OPTIONAL_DOUBLES = ("latitude", "longitude")


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# --- the projection record --------------------------------------------------------------
def account_to_record(account: AccountState) -> dict[str, Any]:
    record = {name: getattr(account, name) for name in AccountState.__dataclass_fields__}
    for name in ("created_at", "grade_changed_at", "updated_at"):
        record[name] = record[name].isoformat() if record[name] else None
    record["applied_approval_ids"] = list(account.applied_approval_ids)
    contact = account.marketing_contact
    record["marketing_contact"] = {n: getattr(contact, n) for n in _CONTACT_FIELDS} if contact else None
    return record


def account_from_record(record: dict[str, Any]) -> AccountState:
    """Records written before master data existed hold only the created fields and read
    with the defaults."""
    data = {name: record[name] for name in AccountState.__dataclass_fields__ if name in record}
    for name in ("created_at", "grade_changed_at", "updated_at"):
        if name in data:
            data[name] = _time(data[name])
    data["applied_approval_ids"] = tuple(data.get("applied_approval_ids", ()))
    if data.get("marketing_contact"):
        data["marketing_contact"] = MarketingContact(**data["marketing_contact"])
    return AccountState(**data)


# --- the API -------------------------------------------------------------------------------
def account_to_proto(account: AccountState, won_opportunity_ids: tuple[str, ...]) -> api.Account:
    message = api.Account(
        account_id=account.account_id,
        name=account.name,
        industry=account.industry,
        owner_id=account.owner_id,
        created_at=timestamp(account.created_at),
        address=account.address,
        contact_name=account.contact_name,
        contact_phone=account.contact_phone,
        contact_email=account.contact_email,
        contact_title=account.contact_title,
        decision_maker=account.decision_maker,
        grade=account.grade,
        customer_won=bool(won_opportunity_ids),
        won_opportunity_ids=sorted(won_opportunity_ids),
        grade_approval_request_id=account.grade_approval_request_id,
        version=account.version,
        updated_at=timestamp(account.updated_at),
    )
    for name in _OPTIONAL_DOUBLES:
        if getattr(account, name) is not None:
            setattr(message, name, getattr(account, name))
    contact = account.marketing_contact
    if contact is not None:
        shown = {n: getattr(contact, n) for n in _CONTACT_FIELDS if n != "dingtalk_secret"}
        for name in ("wecom_webhook_url", "dingtalk_webhook_url"):
            shown[name] = redacted_url(shown[name])
        message.marketing_contact.CopyFrom(api.MarketingContact(**shown, dingtalk_signed=bool(contact.dingtalk_secret)))
    return message


def redacted_url(url: str) -> str:
    """A robot's webhook URL without its credential: WeCom's `key` and DingTalk's
    `access_token` travel in the query, so every query value is shown as ***."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = "&".join(f"{name}=***" for name, _ in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit(parts._replace(query=query))


def changes_from_request(request: api.UpdateAccountRequest) -> dict[str, Any]:
    """The mask's fields with their requested values (a coordinate named in the mask but
    absent from the account is None, which the domain refuses)."""
    changes: dict[str, Any] = {}
    for path in request.update_mask.paths:
        if path not in EDITABLE_FIELDS:
            raise InvalidCommand("update_mask", f"{path!r} is not an account field; fields are {', '.join(EDITABLE_FIELDS)}")
        if path in _OPTIONAL_DOUBLES:
            changes[path] = getattr(request.account, path) if request.account.HasField(path) else None
        else:
            changes[path] = getattr(request.account, path)
    return changes


def contact_from_proto(message: api.MarketingContact) -> MarketingContact:
    return MarketingContact(**{n: getattr(message, n) for n in _CONTACT_FIELDS})


# --- events --------------------------------------------------------------------------------
def updated_event(changes: dict[str, Any]) -> events.AccountUpdated:
    """Only the changed fields are present: absent means unchanged."""
    event = events.AccountUpdated()
    for name, value in changes.items():
        setattr(event, name, value)
    return event


def changes_from_event(event: events.AccountUpdated) -> dict[str, Any]:
    return {field.name: value for field, value in event.ListFields()}


def contact_to_event(contact: MarketingContact) -> events.AccountMarketingContactSet:
    return events.AccountMarketingContactSet(**{n: getattr(contact, n) for n in _CONTACT_FIELDS})


def contact_from_event(event: events.AccountMarketingContactSet) -> MarketingContact:
    return MarketingContact(**{n: getattr(event, n) for n in _CONTACT_FIELDS})
