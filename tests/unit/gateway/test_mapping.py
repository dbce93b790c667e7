"""REST JSON ↔ protobuf: short lowercase enum names, numbers for 64-bit integers,
RFC 3339 timestamps, and request bodies that become the right valid_requests."""

from __future__ import annotations

from datetime import datetime, timezone

from google.protobuf.timestamp_pb2 import Timestamp

from dealpulse.actions.v1 import actions_service_pb2 as pb
from dealpulse.actions.v1 import events_pb2
from services.gateway.api import mapping
from services.gateway.api.schemas import (
    CreateAccountBody,
    OpenOpportunityBody,
    RecordActionBody,
    StallPolicyBody,
)

from . import valid_requests


def test_an_opportunity_renders_as_rest_json():
    opened = Timestamp()
    opened.FromDatetime(datetime(2024, 5, 1, 2, 0, tzinfo=timezone.utc))
    opportunity = pb.Opportunity(
        opportunity_id="opp-1",
        amount_cents=12_500_000,
        version=3,
        opened_at=opened,
        actions=[pb.Action(action_id="act-1", kind=events_pb2.ACTION_KIND_VISIT, valid=False)],
    )

    rendered = mapping.message_json(opportunity)

    assert rendered["amount_cents"] == 12_500_000 and rendered["version"] == 3
    assert rendered["opened_at"] == "2024-05-01T02:00:00Z"
    assert rendered["actions"] == [
        {
                "action_id": "act-1",
                "kind": "visit",
                "valid": False,
                "invalid_reasons": [],
                "actor_id": "",
                "template_action_id": "",
                "stage": "",
            }
    ]
    assert "stall_deadline" not in rendered  # an unset timestamp is absent, not epoch


def test_enum_names_lose_their_type_prefix():
    alert = events_pb2.AlertRaised(kind=events_pb2.ALERT_KIND_STALLED_OPPORTUNITY)
    assert mapping.message_json(alert)["kind"] == "stalled_opportunity"


def test_the_stall_policy_is_set_in_hours_and_shown_in_both_units():
    request = mapping.set_stall_policy_request(StallPolicyBody(threshold_hours=48))
    assert request.stall.threshold_seconds == 48 * 3600
    assert mapping.stall_policy_json(request.stall) == {"threshold_seconds": 172_800, "threshold_hours": 48.0}


def test_a_tiny_stall_threshold_never_rounds_to_zero():
    request = mapping.set_stall_policy_request(StallPolicyBody(threshold_hours=0.0001))
    assert request.stall.threshold_seconds == 1


def test_omitted_optionals_are_left_for_the_service_to_default():
    account = mapping.create_account_request(CreateAccountBody(**valid_requests.ACCOUNT))
    assert account.owner_id == ""
    opportunity = mapping.open_opportunity_request(OpenOpportunityBody(**valid_requests.OPPORTUNITY))
    assert (opportunity.stage, opportunity.owner_id, opportunity.amount_cents) == ("", "", 12_500_000)


def test_an_action_body_becomes_a_record_action_request():
    body = RecordActionBody.model_validate(
        {"action_id": "act-1", "kind": "email", "email_message_id": "m-1", "occurred_at": "2024-05-01T10:00:00+08:00"}
    )
    request = mapping.record_action_request("opp-1", body)
    assert request.opportunity_id == "opp-1"
    assert request.kind == events_pb2.ACTION_KIND_EMAIL
    assert request.email_message_id == "m-1"
    assert request.occurred_at.ToJsonString() == "2024-05-01T02:00:00Z"


def test_an_action_without_a_time_leaves_it_to_the_service():
    request = mapping.record_action_request("opp-1", RecordActionBody(**valid_requests.ACTION))
    assert not request.HasField("occurred_at")
    assert request.call_duration_seconds == 420
