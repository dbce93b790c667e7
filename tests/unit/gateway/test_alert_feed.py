"""The live feed: decoding, de-duplication, fan-out with per-subscriber back
pressure, and the SSE stream that shows each caller only what they may see.
Records are handed to the feed directly; no Kafka."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import pytest

from dealpulse.actions.v1.events_pb2 import AlertRaised, TodoCreated
from kernel.envelope import Envelope
from kernel.topics import ALERT_RAISED, TODO_CREATED
from kernel.auth import mint_token
from services.gateway.adapters.alert_feed import AlertFeed, FeedEvent, RecentIds

from .fakes import TENANT

NOW = datetime(2024, 5, 1, 2, 0, tzinfo=timezone.utc)


def alert_record(event_id: str, *, tenant: str = "acme", owner: str = "u-rep", manager: str = "u-boss"):
    alert = AlertRaised(tenant_id=tenant, alert_id=event_id, opportunity_id="opp-1", owner_id=owner, manager_id=manager)
    envelope = Envelope.for_topic(
        ALERT_RAISED, source="actions", subject=f"{tenant}/opp-1", tenant_id=tenant, time=NOW, event_id=event_id
    )
    return ALERT_RAISED.name, alert.SerializeToString(), envelope.to_headers()


def todo_record(event_id: str, *, assignee: str):
    todo = TodoCreated(tenant_id="acme", todo_id=event_id, assignee_id=assignee, title="Call the customer")
    envelope = Envelope.for_topic(
        TODO_CREATED, source="actions", subject=f"acme/{assignee}", tenant_id="acme", time=NOW, event_id=event_id
    )
    return TODO_CREATED.name, todo.SerializeToString(), envelope.to_headers()


async def received(subscription) -> list[FeedEvent]:
    """What the subscriber has been sent so far (it is not waiting for more)."""
    events = []
    while True:
        try:
            events.append(await asyncio.wait_for(anext(subscription), timeout=0.05))
        except (TimeoutError, StopAsyncIteration):
            return events


@pytest.mark.asyncio
async def test_each_subscriber_gets_what_it_accepts_once_despite_redelivery(alert_feed):
    with alert_feed.subscribe(lambda e: True) as everything, alert_feed.subscribe(lambda e: e.kind == "todo") as todos:
        alert_feed.handle_record(*alert_record("evt-1"))
        alert_feed.handle_record(*alert_record("evt-1"))  # Kafka redelivered it
        alert_feed.handle_record(*todo_record("evt-2", assignee="u-boss"))

        assert [(e.kind, e.event_id) for e in await received(everything)] == [("alert", "evt-1"), ("todo", "evt-2")]
        assert [e.message.todo_id for e in await received(todos)] == ["evt-2"]
    assert alert_feed.subscriber_count == 0


@pytest.mark.asyncio
async def test_an_undecodable_record_is_skipped_and_the_feed_goes_on(alert_feed, caplog):
    topic, _, headers = alert_record("evt-1")
    with alert_feed.subscribe(lambda e: True) as subscription:
        alert_feed.handle_record(topic, b"\xff\xff not protobuf", headers)
        alert_feed.handle_record(topic, b"", [("ce_id", b"evt-x")])
        alert_feed.handle_record(*alert_record("evt-2"))

        assert [e.event_id for e in await received(subscription)] == ["evt-2"]
    assert "skipping undecodable record" in caplog.text


@pytest.mark.asyncio
async def test_a_slow_subscriber_is_dropped_and_the_others_keep_receiving():
    feed = AlertFeed("unused:9092", subscriber_queue_size=2)
    with feed.subscribe(lambda e: True) as slow, feed.subscribe(lambda e: e.event_id == "evt-3") as picky:
        for n in range(1, 4):
            feed.handle_record(*alert_record(f"evt-{n}"))

        assert slow.closed and feed.subscriber_count == 1
        assert [e async for e in slow] == []  # the stream simply ends
        assert not picky.closed
        assert [e.event_id for e in await received(picky)] == ["evt-3"]


def test_recent_ids_forget_the_oldest_beyond_capacity():
    recent = RecentIds(capacity=2)
    assert [recent.first_sighting(i) for i in ("a", "b", "a", "c", "b", "a")] == [True, True, False, True, True, True]


@pytest.mark.asyncio
async def test_the_stream_sends_the_callers_events_as_server_sent_events(client, alert_feed, auth):
    rep = asyncio.create_task(client.get("/v1/alerts/stream", headers=auth("rep", subject="u-rep")))
    boss = asyncio.create_task(client.get("/v1/alerts/stream", headers=auth("manager", subject="u-boss")))
    while alert_feed.subscriber_count < 2:
        await asyncio.sleep(0.01)

    alert_feed.handle_record(*alert_record("evt-mine", owner="u-rep"))
    alert_feed.handle_record(*alert_record("evt-peer", owner="u-peer", manager="u-other"))
    alert_feed.handle_record(*alert_record("evt-foreign", tenant="globex", owner="u-rep"))
    alert_feed.handle_record(*todo_record("evt-todo", assignee="u-boss"))
    await asyncio.sleep(0.05)
    await alert_feed.stop()  # ends the open streams
    rep_stream, boss_stream = await rep, await boss

    assert rep_stream.status_code == 200
    assert rep_stream.headers["content-type"].startswith("text/event-stream")
    assert [(e["event"], e["id"]) for e in parse_sse(rep_stream.text)] == [("alert", "evt-mine")]
    assert [(e["event"], e["id"]) for e in parse_sse(boss_stream.text)] == [
        ("alert", "evt-mine"),
        ("alert", "evt-peer"),
        ("todo", "evt-todo"),
    ]
    [mine] = parse_sse(rep_stream.text)
    assert json.loads(mine["data"])["owner_id"] == "u-rep"


def parse_sse(text: str) -> list[dict[str, str]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if fields:
            events.append(fields)
    return events


@pytest.mark.asyncio
async def test_the_stream_ends_when_the_callers_token_expires(client, alert_feed, settings):
    token = mint_token(settings, subject="u-boss", tenant=TENANT, roles=["manager"], ttl_seconds=2)
    stream = asyncio.create_task(client.get("/v1/alerts/stream", headers={"Authorization": f"Bearer {token}"}))
    while alert_feed.subscriber_count < 1:
        await asyncio.sleep(0.01)
    alert_feed.handle_record(*alert_record("evt-before-expiry", owner="u-rep"))

    reply = await asyncio.wait_for(stream, timeout=10)  # ends by itself, the feed still runs
    assert [e["id"] for e in parse_sse(reply.text)] == ["evt-before-expiry"]
    assert alert_feed.subscriber_count == 0
