"""Live alerts and to-dos for SSE subscribers.

One Kafka consumer per gateway process reads the alert and to-do topics and fans each
event out to this process's subscribers. It joins no consumer group and commits no
offsets: every gateway instance must see every event, and a live feed starts at the
end of the log (clients read history through `GET /v1/alerts`). Alerts are
at-least-once on Kafka, so events are de-duplicated on their CloudEvents id.

Each subscriber has a bounded queue; one that cannot keep up is disconnected (its
client reconnects) rather than holding up the feed for everyone else.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Literal

from aiokafka import AIOKafkaConsumer

from dealpulse.actions.v1 import events_pb2, reporting_events_pb2
from kernel.envelope import EnvelopeError, decode
from kernel.topics import ALERT_RAISED, MUSTDO_PUBLISHED, TODO_CREATED

log = logging.getLogger(__name__)

FeedKind = Literal["alert", "todo", "mustdo"]
_PAYLOAD_OF_TOPIC: dict[str, tuple[FeedKind, type]] = {
    ALERT_RAISED.name: ("alert", events_pb2.AlertRaised),
    TODO_CREATED.name: ("todo", events_pb2.TodoCreated),
    MUSTDO_PUBLISHED.name: ("mustdo", reporting_events_pb2.MustDoList),
}


@dataclass(frozen=True)
class FeedEvent:
    kind: FeedKind
    event_id: str
    message: events_pb2.AlertRaised | events_pb2.TodoCreated | reporting_events_pb2.MustDoList


class RecentIds:
    """The last `capacity` event ids, to drop redeliveries without unbounded memory."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_sighting(self, event_id: str) -> bool:
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return False
        self._ids[event_id] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return True


_END = object()


class Subscription:
    """One subscriber's view of the feed: the events its predicate accepts, in order,
    until the subscriber falls behind or the feed stops."""

    def __init__(self, accepts: Callable[[FeedEvent], bool], capacity: int) -> None:
        self._accepts = accepts
        self._queue: asyncio.Queue[object] = asyncio.Queue(capacity)
        self.closed = False

    def offer(self, event: FeedEvent) -> bool:
        """Queue the event if wanted; False when the queue is full and the
        subscription has been closed for it."""
        if self.closed:
            return False
        if not self._accepts(event):
            return True
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.close()
            return False
        return True

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        # The pending events are lost to a closed subscriber anyway; make room to
        # tell its reader the stream is over.
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(_END)

    def __aiter__(self) -> AsyncIterator[FeedEvent]:
        return self

    async def __anext__(self) -> FeedEvent:
        item = await self._queue.get()
        if item is _END:
            raise StopAsyncIteration
        return item  # type: ignore[return-value]


class AlertFeed:
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        subscriber_queue_size: int = 256,
        remembered_event_ids: int = 10_000,
        reconnect_delay_seconds: float = 5.0,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._queue_size = subscriber_queue_size
        self._recent = RecentIds(remembered_event_ids)
        self._reconnect_delay = reconnect_delay_seconds
        self._subscribers: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None
        self._consuming = False

    @property
    def started(self) -> bool:
        """True once the consumer is connected and positioned at the end of the log."""
        return self._consuming

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @contextmanager
    def subscribe(self, accepts: Callable[[FeedEvent], bool]) -> Iterator[Subscription]:
        subscription = Subscription(accepts, self._queue_size)
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)

    def handle_record(self, topic: str, value: bytes | None, headers) -> None:
        """Decode one record and hand it to every subscriber that wants it."""
        kind, message_type = _PAYLOAD_OF_TOPIC[topic]
        try:
            envelope, message = decode(message_type, value, headers)
        except EnvelopeError as exc:
            # The actions service dead-letters bad records; here we only skip them.
            log.warning("skipping undecodable record on %s: %s", topic, exc)
            return
        if not self._recent.first_sighting(envelope.event_id):
            return
        event = FeedEvent(kind=kind, event_id=envelope.event_id, message=message)
        for subscription in list(self._subscribers):
            if not subscription.offer(event):
                self._subscribers.discard(subscription)
                log.warning("disconnected a live-feed subscriber that fell %d events behind", self._queue_size)

    async def start(self) -> None:
        """Consume in the background, reconnecting until stopped: the gateway serves
        REST while Kafka is down, and reports not-ready until the feed is up."""
        self._task = asyncio.create_task(self._consume_forever(), name="alert-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        # Ends every open SSE stream, so shutdown does not wait on endless responses.
        for subscription in list(self._subscribers):
            subscription.close()
        self._subscribers.clear()

    async def _consume_forever(self) -> None:
        while True:
            consumer = AIOKafkaConsumer(
                *_PAYLOAD_OF_TOPIC,
                bootstrap_servers=self._bootstrap,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="latest",
                client_id="gateway-alert-feed",
            )
            try:
                await consumer.start()
                await _position_at_end(consumer)
                self._consuming = True
                log.info("alert feed consuming %s", ", ".join(_PAYLOAD_OF_TOPIC))
                async for record in consumer:
                    self.handle_record(record.topic, record.value, record.headers)
            except Exception:
                log.exception("alert feed consumer failed; reconnecting in %.0f s", self._reconnect_delay)
            finally:
                self._consuming = False
                await consumer.stop()
            await asyncio.sleep(self._reconnect_delay)


async def _position_at_end(consumer: AIOKafkaConsumer) -> None:
    # Positions are resolved lazily; resolving them now means an alert raised after
    # the feed reports ready is never skipped by a late "latest" lookup.
    for partition in consumer.assignment():
        await consumer.position(partition)
