"""The tenant process policy: the article's defaults, every setting's bounds with an
error naming the setting, and the proto round trip the topic and the API use."""

from datetime import time, timedelta

import pytest

from dealpulse.actions.v1 import events_pb2 as events
from services.actions.adapters.messages import POLICY_SETTINGS, policy_from_proto, policy_to_proto, policy_update
from services.actions.domain.errors import InvalidCommand
from services.actions.domain.policy import DEFAULT_POLICY, ProcessPolicy


def test_defaults_are_the_articles_numbers():
    p = DEFAULT_POLICY
    assert p.stall_threshold == timedelta(hours=48)
    assert p.lead_response_limit == timedelta(minutes=15)
    assert p.dwell_factor == 2.3
    assert p.compliance_green_percent == 85.0
    assert p.process_quality_weight_percent == 40.0
    assert p.timezone == "Asia/Shanghai" and p.zone.key == "Asia/Shanghai"
    assert p.must_do_local_time == time(8, 0)
    assert (p.weekly_report_weekday, p.weekly_report_iso_weekday, p.weekly_report_local_time) == ("monday", 1, time(8, 0))
    assert p.escalate_to_manager_after == timedelta(0)
    assert p.escalate_to_director_after == timedelta(hours=24)


def test_a_stage_may_have_its_own_stall_threshold():
    p = DEFAULT_POLICY.updated(stage_stall_thresholds={"proposal": timedelta(hours=72)})
    assert p.stall_threshold_for("proposal") == timedelta(hours=72)
    assert p.stall_threshold_for("lead") == timedelta(hours=48)
    pinned = p.pinned_to_stall_threshold(timedelta(hours=5))
    assert pinned.stall_threshold_for("proposal") == timedelta(hours=5)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"stall_threshold": timedelta(seconds=5)}, "stall_threshold_seconds"),
        ({"stage_stall_thresholds": {"Bad Stage": timedelta(hours=1)}}, "stage_stall_threshold_seconds"),
        ({"stage_stall_thresholds": {"closed_won": timedelta(hours=1)}}, "stage_stall_threshold_seconds"),
        ({"stage_stall_thresholds": {"proposal": timedelta(0)}}, "stage_stall_threshold_seconds[proposal]"),
        ({"escalate_to_manager_after": timedelta(days=31)}, "escalate_to_manager_after_seconds"),
        ({"escalate_to_director_after": timedelta(0)}, "escalate_to_director_after_seconds"),
        ({"manager_followup_window": timedelta(0)}, "manager_followup_seconds"),
        ({"lead_response_limit": timedelta(seconds=10)}, "lead_response_limit_seconds"),
        ({"duplicate_touch_window": timedelta(minutes=5)}, "duplicate_touch_window_seconds"),
        ({"duplicate_touch_min_reps": 1}, "duplicate_touch_min_reps"),
        ({"dwell_factor": 0.5}, "dwell_factor"),
        ({"dwell_factor": True}, "dwell_factor"),
        ({"compliance_green_percent": 101.0}, "compliance_green_percent"),
        ({"compliance_yellow_percent": 90.0}, "compliance_yellow_percent"),
        ({"process_quality_weight_percent": -1.0}, "process_quality_weight_percent"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"must_do_local_time": time(8, 0, 30)}, "must_do_local_time"),
        ({"weekly_report_weekday": "funday"}, "weekly_report_weekday"),
        ({"min_call_duration": timedelta(0)}, "min_call_duration_seconds"),
        ({"min_note_length": 0}, "min_note_length"),
        ({"no_such_setting": 1}, "no_such_setting"),
    ],
)
def test_every_setting_is_checked_and_named(changes, field):
    with pytest.raises(InvalidCommand) as caught:
        DEFAULT_POLICY.updated(**changes)
    assert caught.value.field == field


def test_compliance_colours_follow_the_band():
    p = DEFAULT_POLICY.updated(compliance_yellow_percent=60.0)
    assert [p.compliance_colour(v) for v in (85.0, 84.9, 60.0, 59.9)] == ["green", "yellow", "yellow", "red"]


def test_proto_round_trip_keeps_every_setting():
    p = ProcessPolicy(
        stall_threshold=timedelta(hours=24),
        stage_stall_thresholds={"proposal": timedelta(hours=72)},
        escalate_to_manager_after=timedelta(hours=1),
        escalate_to_director_after=timedelta(hours=12),
        lead_response_limit=timedelta(minutes=30),
        duplicate_touch_window=timedelta(days=3),
        duplicate_touch_min_reps=3,
        dwell_factor=3.0,
        compliance_green_percent=90.0,
        compliance_yellow_percent=0.0,
        process_quality_weight_percent=0.0,
        timezone="Europe/Berlin",
        must_do_local_time=time(7, 30),
        weekly_report_weekday="friday",
        weekly_report_local_time=time(17, 0),
    )
    message = policy_to_proto(p)
    assert set(POLICY_SETTINGS) == {f.name for f in events.TenantPolicy.DESCRIPTOR.fields}
    assert policy_from_proto(events.TenantPolicy.FromString(message.SerializeToString())) == p


def test_a_legacy_snapshot_with_only_the_stall_threshold_reads_as_defaults_plus_it():
    p = policy_from_proto(events.TenantPolicy(stall_threshold_seconds=3600))
    assert p == DEFAULT_POLICY.with_stall_threshold(timedelta(hours=1))


def test_an_update_changes_only_the_masked_settings_and_checks_the_result():
    sent = events.TenantPolicy(lead_response_limit_seconds=600, dwell_factor=9.0)
    updated = policy_update(DEFAULT_POLICY, sent, ["lead_response_limit_seconds"])
    assert updated == DEFAULT_POLICY.updated(lead_response_limit=timedelta(minutes=10))
    with pytest.raises(InvalidCommand) as caught:
        policy_update(DEFAULT_POLICY, events.TenantPolicy(), ["stall_threshold_seconds"])  # 0 is refused, not "default"
    assert caught.value.field == "stall_threshold_seconds"
    with pytest.raises(InvalidCommand) as caught:
        policy_update(DEFAULT_POLICY, sent, [])
    assert caught.value.field == "update_mask"
    with pytest.raises(InvalidCommand) as caught:
        policy_update(DEFAULT_POLICY, sent, ["colour"])
    assert caught.value.field == "update_mask"
    with pytest.raises(InvalidCommand) as caught:
        policy_update(DEFAULT_POLICY, events.TenantPolicy(must_do_local_time="8am"), ["must_do_local_time"])
    assert caught.value.field == "must_do_local_time"
