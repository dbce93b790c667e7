"""Accounts: master-data validation, the facts Check decides on, grade changes applied
once, the marketing contact's messages, and the projection record."""

from datetime import datetime, timezone

import pytest

from dealpulse.audit.v1 import events_pb2 as audit_events
from kernel.notifications import Channel
from services.actions.adapters.account_messages import (
    account_from_record,
    account_to_proto,
    account_to_record,
    changes_from_event,
    updated_event,
)
from services.actions.adapters.account_projection import marketing_notifications
from services.actions.adapters.approval_outcomes import approval_fact
from services.actions.domain import accounts
from services.actions.domain.accounts import MarketingContact
from services.actions.domain.errors import InvalidCommand

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def account(**changes):
    base = accounts.created(tenant_id="acme", account_id="ruijin", name="Ruijin", industry="medical", owner_id="bob", at=T0)
    return base if not changes else accounts.updated(base, changes, "bob", T0)[0]


def test_record_state_says_whether_the_record_exists_and_the_customer_is_won():
    assert accounts.record_state(None, customer_won=False, owner_id="bob") == {
        "exists": False, "owner_id": "bob", "customer_won": False, "grade": ""}
    assert accounts.record_state(account(grade="B"), customer_won=True) == {
        "exists": True, "owner_id": "bob", "customer_won": True, "grade": "B"}


def test_only_real_changes_are_kept_and_values_are_normalised():
    current = account(address="1 Bund")
    changes = accounts.validate_changes(
        current, {"address": " 1 Bund ", "grade": "a", "contact_phone": "+86 21 5555-0101", "latitude": 31, "longitude": 121.5}
    )
    assert changes == {"grade": "A", "contact_phone": "+86 21 5555-0101", "latitude": 31.0, "longitude": 121.5}


@pytest.mark.parametrize(
    "changes, field",
    [
        ({}, "update_mask"),
        ({"grade": "E"}, "grade"),
        ({"name": "  "}, "name"),
        ({"owner_id": "no spaces allowed"}, "owner_id"),
        ({"latitude": 91.0, "longitude": 0.0}, "latitude"),
        ({"longitude": float("nan"), "latitude": 0.0}, "longitude"),
        ({"latitude": 30.0}, "longitude"),
        ({"latitude": None, "longitude": None}, "latitude"),
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"contact_email": "not-an-address"}, "contact_email"),
        ({"address": "x" * 501}, "address"),
        ({"favourite_colour": "red"}, "update_mask"),
    ],
)
def test_bad_master_data_is_refused_naming_the_field(changes, field):
    with pytest.raises(InvalidCommand) as refused:
        accounts.validate_changes(account(), changes)
    assert refused.value.field == field


def test_an_update_with_a_grade_is_a_grade_change_and_other_updates_are_not():
    current = account()
    new, effect = accounts.updated(current, {"grade": "C", "address": "2 Bund"}, "bob", T0)
    assert (new.grade, new.address, new.version) == ("C", "2 Bund", 2)
    assert (effect.from_grade, effect.to_grade, effect.changed_by, effect.approval_request_id) == ("", "C", "bob", "")
    assert accounts.updated(new, {"contact_name": "Li"}, "bob", T0)[1] is None


def test_an_approved_grade_change_is_applied_once():
    graded = account(grade="B")
    new, effect = accounts.grade_changed(graded, "A", approval_request_id="r1", approved_by=("ann", "fay"), changed_by="bob", at=T0)
    assert (new.grade, new.grade_approval_request_id, new.applied_approval_ids) == ("A", "r1", ("r1",))
    assert (effect.from_grade, effect.to_grade, effect.approved_by) == ("B", "A", ("ann", "fay"))
    again, none = accounts.grade_changed(new, "A", approval_request_id="r1", approved_by=(), changed_by="bob", at=T0)
    assert again is new and none is None


def test_a_marketing_contact_needs_a_channel_and_valid_addresses():
    ok = accounts.validate_marketing_contact(MarketingContact("mia", email=" mia@example.com "))
    assert ok.email == "mia@example.com"
    for bad, field in [
        (MarketingContact("mia"), "marketing_contact"),
        (MarketingContact("mia", email="nope"), "marketing_contact.email"),
        (MarketingContact("mia", wecom_webhook_url="ftp://x"), "marketing_contact.wecom_webhook_url"),
        (MarketingContact("mia", email="m@x.io", dingtalk_secret="SEC1"), "marketing_contact.dingtalk_secret"),
        (MarketingContact("", email="m@x.io"), "marketing_contact.marketing_contact_id"),
    ]:
        with pytest.raises(InvalidCommand) as refused:
            accounts.validate_marketing_contact(bad)
        assert refused.value.field == field


def test_the_marketing_contact_is_told_on_every_channel_it_has_under_stable_ids():
    contact = MarketingContact(
        "mia", email="mia@example.com", wecom_webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        dingtalk_webhook_url="https://oapi.dingtalk.com/robot/send?access_token=t", dingtalk_secret="SEC1", mention_id="138",
    )
    graded = accounts.marketing_contact_set(account(grade="B"), contact, T0)
    _, change = accounts.grade_changed(graded, "A", approval_request_id="r1", approved_by=("ann", "fay"), changed_by="bob", at=T0)
    sent = marketing_notifications(change, "r1")
    assert [n.channel for n in sent] == [Channel.WECOM, Channel.DINGTALK, Channel.EMAIL]
    assert sent[1].signing_secret == "SEC1" and sent[0].mention_user_ids == ("138",)
    assert sent[2].recipients == ("mia@example.com",)
    assert all("Ruijin" in n.title and "B → A" in n.title and "r1" in n.body for n in sent)
    assert [n.notification_id for n in marketing_notifications(change, "r1")] == [n.notification_id for n in sent]
    assert marketing_notifications(accounts.grade_changed(account(), "A", approval_request_id="r2", approved_by=(),
                                                          changed_by="bob", at=T0)[1], "r2") == []


def test_the_projection_record_round_trips_and_old_records_read_with_defaults():
    contact = MarketingContact("mia", email="mia@example.com")
    full = accounts.marketing_contact_set(account(grade="B", latitude=31.2, longitude=121.4), contact, T0)
    assert account_from_record(account_to_record(full)) == full
    old = {"account_id": "a", "name": "A", "industry": "saas", "owner_id": "bob", "created_at": T0.isoformat()}
    read = account_from_record(old | {"tenant_id": "acme"})
    assert (read.grade, read.marketing_contact, read.latitude, read.version) == ("", None, None, 1)


def test_an_update_event_carries_only_the_changed_fields():
    event = updated_event({"address": "1 Bund", "latitude": 31.2, "contact_name": ""})
    assert changes_from_event(event) == {"address": "1 Bund", "latitude": 31.2, "contact_name": ""}


def test_an_approval_fact_names_the_decisive_approver_and_role():
    decisions = [
        audit_events.ApprovalDecisionRecord(step="manager_approval", actor_id="ann", actor_roles=["manager"],
                                            verdict=audit_events.VERDICT_APPROVE),
        audit_events.ApprovalDecisionRecord(step="finance_review", actor_id="fay", actor_roles=["finance"],
                                            verdict=audit_events.VERDICT_REJECT),
    ]
    rejected = audit_events.ApprovalCompleted(status=audit_events.APPROVAL_STATUS_REJECTED, decisions=decisions, rejected_by="fay")
    assert approval_fact(rejected) == {"approver_role": "finance", "decision": "rejected", "approver_id": "fay"}
    approved = audit_events.ApprovalCompleted(status=audit_events.APPROVAL_STATUS_APPROVED, decisions=decisions[:1], approved_by=["ann"])
    assert approval_fact(approved) == {"approver_role": "manager", "decision": "granted", "approver_id": "ann"}


def test_the_api_never_shows_the_robots_credentials():
    contact = MarketingContact("mia", wecom_webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=s3cret",
                               dingtalk_webhook_url="https://oapi.dingtalk.com/robot/send?access_token=t0ken", dingtalk_secret="SEC1")
    shown = account_to_proto(accounts.marketing_contact_set(account(), contact, T0), ()).marketing_contact
    assert shown.wecom_webhook_url == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***"
    assert shown.dingtalk_webhook_url == "https://oapi.dingtalk.com/robot/send?access_token=***"
    assert (shown.dingtalk_secret, shown.dingtalk_signed) == ("", True)
