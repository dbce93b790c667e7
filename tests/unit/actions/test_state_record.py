"""The opportunity record in Redis: written compact, read back the same; records an
earlier version wrote (a JSON object, maybe without later fields) still read."""

import json
from datetime import datetime, timedelta, timezone

from services.actions.adapters.read_models import Position, state_from_json, state_to_json
from services.actions.domain.opportunity import OpportunityState

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)


def state(**changes) -> OpportunityState:
    fields = dict(
        tenant_id="t1", opportunity_id="o1", account_id="a1", name="Acme \u6d4b\u8bd5", owner_id="rep-1",
        stage="qualify", amount_cents=1234, currency="EUR", opened_at=T0, stage_entered_at=T0 + timedelta(hours=1),
    )
    return OpportunityState(**{**fields, **changes})


def test_a_state_reads_back_as_written_with_its_position():
    for written in (
        state(),
        state(last_valid_action_at=T0 + timedelta(seconds=90, microseconds=5), stall_deadline=T0 + timedelta(days=2),
              open_alert_id="al-1", alert_level="manager", template_id="tpl", template_version=3, version=7),
    ):
        assert state_from_json(state_to_json(written, Position(2, 41))) == (written, Position(2, 41))


def test_a_record_of_an_earlier_version_still_reads():
    old = {
        "state": {
            "tenant_id": "t1", "opportunity_id": "o1", "account_id": "a1", "name": "Acme \u6d4b\u8bd5",
            "owner_id": "rep-1", "stage": "qualify", "amount_cents": 1234, "currency": "EUR",
            "opened_at": T0.isoformat(), "stage_entered_at": (T0 + timedelta(hours=1)).isoformat(),
            "last_valid_action_at": None, "stall_deadline": (T0 + timedelta(days=2)).isoformat(),
            "open_alert_id": "", "version": 4,
        },
        "partition": 1,
        "offset": 9,
    }
    assert state_from_json(json.dumps(old).encode()) == (
        state(stall_deadline=T0 + timedelta(days=2), version=4),
        Position(1, 9),
    )
