"""Applies `actions.account.v1` to the account projection and carries out what a grade
change must cause: the BI event on `actions.grade.changed.v1` and the message to the
customer's marketing contact.

Every account event variant is applied here (created, updated, grade_changed,
marketing_contact_set). Effects go out before the projection records the event, under
ids derived from the event, so a crash in between re-applies it and re-sends the same
ids: BI de-duplicates on ce_id and the notification outbox enqueues an id once.
"""

from __future__ import annotations

import logging

from dealpulse.actions.v1 import account_grade_pb2 as grade_events
from dealpulse.actions.v1 import events_pb2 as events
from kernel.envelope import Envelope, deterministic_event_id
from kernel.kafka import EventPublisher
from kernel.notifications import Channel, Notification, RedisOutbox
from kernel.topics import CUSTOMER_GRADE_CHANGED
from services.actions.adapters.account_messages import (
    account_from_record,
    account_to_record,
    changes_from_event,
    contact_from_event,
)
from services.actions.adapters.messages import moment, timestamp
from services.actions.adapters.read_models import ActionsReadModel, Position
from services.actions.domain import accounts as domain
from services.actions.domain.accounts import AccountState, GradeChange
from services.actions.domain.errors import DomainError

log = logging.getLogger(__name__)


class UnappliableAccountEvent(Exception):
    """A well-formed account event no version of the rules can apply."""


class AccountProjection:
    def __init__(self, read_model: ActionsReadModel, publisher: EventPublisher, outbox: RedisOutbox) -> None:
        self._read_model = read_model
        self._publisher = publisher
        self._outbox = outbox

    async def account(self, tenant: str, account_id: str) -> tuple[AccountState, Position] | None:
        found = await self._read_model.entity(tenant, "account", account_id)
        return (account_from_record(found[0]), found[1]) if found else None

    async def apply(self, envelope: Envelope, event: events.AccountEvent, at: Position) -> None:
        change = event.WhichOneof("change")
        if change is None:
            raise UnappliableAccountEvent(f"account event of {event.account_id} carries no change")
        found = await self.account(event.tenant_id, event.account_id)
        if found and found[1].covers(at):
            return  # redelivered after a crash: already applied
        occurred_at = moment(event.occurred_at)
        if change == "created":
            c = event.created
            if found is not None:
                # Accounts are created once: a racing create with other details loses, and
                # only the position moves on so its caller sees the conflict.
                await self._store(found[0], at)
                return
            account = domain.created(
                tenant_id=event.tenant_id,
                account_id=event.account_id,
                name=c.name,
                industry=c.industry,
                owner_id=c.owner_id,
                at=occurred_at,
            )
            await self._store(account, at)
            return
        if found is None:
            log.warning("ignoring %s for unknown account %s", change, envelope.subject)
            return
        current = found[0]
        effect: GradeChange | None = None
        try:
            if change == "updated":
                account, effect = domain.updated(current, changes_from_event(event.updated), event.actor_id, occurred_at)
            elif change == "grade_changed":
                g = event.grade_changed
                account, effect = domain.grade_changed(
                    current,
                    domain.require_grade(g.to_grade),
                    approval_request_id=g.approval_request_id,
                    approved_by=tuple(g.approved_by),
                    changed_by=g.requested_by or event.actor_id,
                    at=occurred_at,
                )
            elif change == "marketing_contact_set":
                account = domain.marketing_contact_set(current, contact_from_event(event.marketing_contact_set), occurred_at)
            else:
                raise UnappliableAccountEvent(f"unknown account change {change!r}")
        except DomainError as exc:
            raise UnappliableAccountEvent(str(exc)) from exc
        if effect is not None:
            await self._announce(effect, envelope.event_id)
        await self._store(account, at)

    async def _store(self, account: AccountState, at: Position) -> None:
        await self._read_model.put_entity(account.tenant_id, "account", account.account_id, account_to_record(account), at)

    async def _announce(self, change: GradeChange, event_id: str) -> None:
        """BI's signal and the marketing contact's message, under ids derived from the
        change (its approval request when it has one, else the account event)."""
        account = change.account
        cause = change.approval_request_id or event_id
        signal = grade_events.CustomerGradeChanged(
            tenant_id=account.tenant_id,
            account_id=account.account_id,
            from_grade=change.from_grade,
            to_grade=change.to_grade,
            changed_at=timestamp(change.at),
            approval_request_id=change.approval_request_id,
            changed_by=change.changed_by,
            approved_by=list(change.approved_by),
            account_name=account.name,
            industry=account.industry,
            owner_id=account.owner_id,
        )
        await self._publisher.publish(
            CUSTOMER_GRADE_CHANGED,
            signal,
            key=f"{account.tenant_id}/{account.account_id}",
            tenant_id=account.tenant_id,
            event_time=change.at,
            event_id=deterministic_event_id("customer-grade-changed", account.tenant_id, account.account_id, cause),
        )
        for notification in marketing_notifications(change, cause):
            await self._outbox.enqueue(notification)


def marketing_notifications(change: GradeChange, cause: str) -> list[Notification]:
    """The message to the account's marketing contact on each channel it has; none when
    the account names no marketing contact (logged: marketing must be told somehow)."""
    account = change.account
    contact = account.marketing_contact
    if contact is None or not contact.reachable:
        log.warning(
            "grade of %s/%s changed %s -> %s but the account has no reachable marketing contact",
            account.tenant_id, account.account_id, change.from_grade or "-", change.to_grade,
        )
        return []
    title = f"客户等级变更 Customer grade changed: {account.name} {change.from_grade or '-'} → {change.to_grade}"[:200]
    lines = [
        f"### {title}",
        f"- 客户 Customer: **{account.name}** (`{account.account_id}`), {account.industry or '-'}",
        f"- 等级 Grade: {change.from_grade or '(none)'} → **{change.to_grade}**",
        f"- 负责人 Owner: {account.owner_id}",
        f"- 申请人 Requested by: {change.changed_by}",
    ]
    if change.approval_request_id:
        lines.append(f"- 审批 Approval: `{change.approval_request_id}`, approved by {', '.join(change.approved_by) or '-'}")
    lines.append(f"- 时间 At: {change.at.isoformat()}")
    lines.append("请据此调整客户分层与营销计划。 Please update the customer's segment and marketing plan.")
    body = "\n".join(lines)
    # Ids are at most 200 characters: the tenant and account ids could use them all up.
    base = f"grade/{deterministic_event_id('grade-notification', account.tenant_id, account.account_id, cause)}"
    mentions = (contact.mention_id,) if contact.mention_id else ()
    found: list[Notification] = []
    if contact.wecom_webhook_url:
        found.append(Notification(f"{base}/wecom", account.tenant_id, Channel.WECOM, title, body,
                                  webhook_url=contact.wecom_webhook_url, mention_user_ids=mentions))
    if contact.dingtalk_webhook_url:
        found.append(Notification(f"{base}/dingtalk", account.tenant_id, Channel.DINGTALK, title, body,
                                  webhook_url=contact.dingtalk_webhook_url, signing_secret=contact.dingtalk_secret,
                                  mention_user_ids=mentions))
    if contact.email:
        found.append(Notification(f"{base}/email", account.tenant_id, Channel.EMAIL, title, body,
                                  recipients=(contact.email,)))
    return found
