from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.gateway.webhooks.model import (
    Activity,
    Location,
    MalformedPayload,
    first_seen,
    new_only,
    parse_epoch,
    parse_rfc3339,
    redact,
    thaw,
)

from .conftest import TENANT


def act(source_id: str = "s1", **kw) -> Activity:
    base = dict(
        tenant_id=TENANT,
        source="csv",
        source_id=source_id,
        kind="visit",
        occurred_at=datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=8))),
    )
    base.update(kw)
    return Activity(**base)


def test_redact_nested_keys_in_any_spelling():
    payload = {
        "token": "t",
        "Access_Token": "a",
        "aes_key": "k",
        "EncodingAESKey": "k2",
        "encoding_aes_key": "k3",
        "client_secret": "s",
        "password": "p",
        "msg_signature": "sig",
        "Authorization": "Bearer x",
        "X-Hub-Signature": "sha1=..",
        "WelcomeCode": "w",
        "suite_ticket": "st",
        "nested": [{"refresh_token": "r", "userId": "u1"}],
        "userId": "u1",
        "address": "Hangzhou",
        "nonce": "n",
    }
    out = redact(payload)
    for key in [k for k in payload if k not in {"nested", "userId", "address", "nonce"}]:
        assert out[key] == "***", key
    assert out["nested"] == [{"refresh_token": "***", "userId": "u1"}]
    assert out["userId"] == "u1" and out["address"] == "Hangzhou" and out["nonce"] == "n"
    assert payload["token"] == "t"  # a copy, the input is untouched


def test_activity_normalises_to_utc_and_redacts_and_freezes_evidence():
    a = act(evidence={"row": {"password": "x", "kind": "visit"}}, details={"tags": ["a"]})
    assert a.occurred_at == datetime(2026, 1, 1, 1, tzinfo=UTC)
    assert a.occurred_at.tzinfo is UTC
    assert a.evidence["row"]["password"] == "***"
    with pytest.raises(TypeError):
        a.evidence["row"] = 1  # type: ignore[index]
    assert thaw(a.evidence) == {"row": {"password": "***", "kind": "visit"}}
    assert thaw(a.details) == {"tags": ["a"]}


@pytest.mark.parametrize(
    "kw",
    [
        {"occurred_at": datetime(2026, 1, 1)},
        {"source": "fax"},
        {"kind": "dance"},
        {"source_id": ""},
        {"tenant_id": ""},
        {"duration_seconds": -1},
    ],
)
def test_activity_rejects_invalid_values(kw):
    with pytest.raises(ValueError):
        act(**kw)


def test_location_validation():
    with pytest.raises(ValueError):
        Location(latitude=1.0)
    with pytest.raises(ValueError):
        Location(91.0, 0.0)
    with pytest.raises(ValueError):
        Location(0.0, 181.0)
    assert Location(address="only an address").latitude is None


def test_first_seen_ignores_duplicates_per_tenant_and_source():
    seen: set = set()
    assert first_seen(seen, act("a"))
    assert not first_seen(seen, act("a", kind="call"))  # same source id → duplicate
    assert first_seen(seen, act("a", tenant_id="t-other"))
    assert first_seen(seen, act("a", source="email", kind="email_sent"))
    assert [x.source_id for x in new_only(seen, [act("b"), act("b"), act("a"), act("c")])] == ["b", "c"]


def test_parse_epoch_seconds_and_millis():
    assert parse_epoch(1_700_000_000, "f") == datetime.fromtimestamp(1_700_000_000, UTC)
    assert parse_epoch("1700000000123", "f") == datetime.fromtimestamp(1_700_000_000.123, UTC)
    for bad in ("x", True, None, ""):
        with pytest.raises(MalformedPayload) as e:
            parse_epoch(bad, "DataList[0].checkTime")
        assert e.value.field == "DataList[0].checkTime"


def test_parse_rfc3339():
    assert parse_rfc3339("2026-01-02T03:04:05Z", "f") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_rfc3339("2026-01-02T11:04:05+08:00", "f") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    for bad in ("2026-01-02T03:04:05", "2026-01-02", "yesterday", 5, None):
        with pytest.raises(MalformedPayload):
            parse_rfc3339(bad, "f")


def test_malformed_payload_problem_entry():
    err = MalformedPayload("DataList[0].userId", "missing")
    assert err.as_problem_error() == {"field": "DataList[0].userId", "problem": "missing"}
