from datetime import datetime, timedelta, timezone

from services.actions.domain.duplicate_touches import (
    CustomerTouches,
    Touch,
    alert_id_for,
    customer_key,
    touched,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
D = timedelta(days=1)
WINDOW = 7 * D


def touch(activity, rep, at, kind="call"):
    return Touch(activity_id=activity, rep_id=rep, at=at, kind=kind)


def apply(*touches, window=WINDOW, min_reps=2):
    record = CustomerTouches("acme", "account:ruijin")
    alerts = []
    for t in touches:
        outcome = touched(record, t, window, min_reps)
        record = outcome.record
        if outcome.alert:
            alerts.append(outcome.alert)
    return record, alerts


def test_the_customer_is_the_account_when_known_else_the_lead():
    assert customer_key("ruijin", "l1") == "account:ruijin"
    assert customer_key("", "l1") == "lead:l1"
    assert customer_key("", "") == ""


def test_one_rep_touching_a_customer_many_times_is_no_duplicate():
    _, alerts = apply(touch("a1", "bob", T0), touch("a2", "bob", T0 + D), touch("a3", "bob", T0 + 2 * D))
    assert alerts == []


def test_a_second_rep_within_the_window_raises_one_alert_with_the_evidence():
    _, (alert,) = apply(touch("a1", "bob", T0), touch("a2", "carl", T0 + 3 * D, "email"))
    assert alert.reps == ("bob", "carl")
    assert [(t.activity_id, t.rep_id, t.at, t.kind) for t in alert.touches] == [
        ("a1", "bob", T0, "call"),
        ("a2", "carl", T0 + 3 * D, "email"),
    ]
    assert alert.alert_id == alert_id_for("acme", "account:ruijin", "a2")
    assert alert.raised_at == T0 + 3 * D


def test_a_second_rep_outside_the_window_is_no_duplicate():
    _, alerts = apply(touch("a1", "bob", T0), touch("a2", "carl", T0 + 8 * D))
    assert alerts == []


def test_touches_arriving_out_of_order_are_judged_in_event_time():
    _, (alert,) = apply(touch("a2", "carl", T0 + 3 * D), touch("a1", "bob", T0))
    assert [t.activity_id for t in alert.touches] == ["a1", "a2"]
    _, none = apply(touch("a2", "carl", T0 + 9 * D), touch("a1", "bob", T0))
    assert none == []


def test_more_touches_inside_the_alerted_period_raise_no_second_alert():
    _, alerts = apply(
        touch("a1", "bob", T0), touch("a2", "carl", T0 + D), touch("a3", "dave", T0 + 2 * D), touch("a4", "bob", T0 + 6 * D)
    )
    assert len(alerts) == 1


def test_a_later_group_is_a_new_episode():
    _, alerts = apply(touch("a1", "bob", T0), touch("a2", "carl", T0 + D), touch("a3", "dave", T0 + 10 * D),
                      touch("a4", "erin", T0 + 11 * D))
    assert [a.reps for a in alerts] == [("bob", "carl"), ("dave", "erin")]


def test_the_same_activity_twice_changes_nothing():
    record, _ = apply(touch("a1", "bob", T0))
    outcome = touched(record, touch("a1", "bob", T0), WINDOW, 2)
    assert not outcome.changed and outcome.alert is None
    assert outcome.record == record


def test_the_minimum_number_of_reps_is_the_tenants():
    _, two = apply(touch("a1", "bob", T0), touch("a2", "carl", T0 + D), min_reps=3)
    assert two == []
    _, (three,) = apply(touch("a1", "bob", T0), touch("a2", "carl", T0 + D), touch("a3", "dave", T0 + 2 * D), min_reps=3)
    assert three.reps == ("bob", "carl", "dave")


def test_a_touch_without_a_rep_is_ignored():
    record, alerts = apply(touch("a1", "", T0), touch("a2", "bob", T0))
    assert alerts == [] and [t.activity_id for t in record.touches] == ["a2"]


def test_old_touches_and_periods_are_forgotten_after_two_windows():
    record, _ = apply(touch("a1", "bob", T0), touch("a2", "carl", T0 + D), touch("a3", "bob", T0 + 25 * D))
    assert [t.activity_id for t in record.touches] == ["a3"]
    assert record.alerted == ()
