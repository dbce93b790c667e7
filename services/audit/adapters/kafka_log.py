"""The audit log on Kafka: the chain writer's producer and reader of `audit.record.v1`,
and the loop that consumes `audit.intake.v1` and hands each partition's batches to the
chainer.

The chain runs on a plain aiokafka consumer rather than a Faust agent: it works in
batches (one produce burst, one Redis transaction, one offset commit per batch), which
is what lets one partition chain well over 10,000 records/s, and it needs the records
written to a chosen partition.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timezone

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from aiokafka.structs import OffsetAndMetadata

from dealpulse.audit.v1 import events_pb2 as events
from kernel.envelope import Envelope, EnvelopeError, dead_letter_headers, decode, deterministic_event_id
from kernel.retry import retry_in_place
from kernel.topics import AUDIT_INTAKE, AUDIT_RECORD
from services.audit.adapters.chainer import YIELD_EVERY, AuditChainer
from services.audit.adapters.messages import record_from_proto, record_with_entry
from services.audit.adapters.store import LogPosition
from services.audit.domain.audit_log import AuditRecord

log = logging.getLogger(__name__)

SOURCE = "dealpulse/audit"
CHAIN_GROUP = "dealpulse-audit-chain"
# One record batch per chunk of the chainer (1,000 records of ~550 bytes with their
# headers): the producer keeps one batch in flight per partition, so a chunk that
# spilled into a second batch waited a whole acknowledgement before it was handed
# over. Below the broker's default message.max.bytes (1,048,588).
CHAIN_BATCH_BYTES = 1_000_000


def record_event_id(record: AuditRecord) -> str:
    """A record's ce_id: its place in its chain, so a rewrite would need the same id."""
    return deterministic_event_id("audit-record", record.tenant_id, str(record.sequence))


class RecordHeaders:
    """The envelope of `audit.record.v1` records, as `Envelope.to_headers` writes it:
    the constant headers (and the trace context, the same for a whole batch) encoded
    once; per record only its id, time, subject and tenant."""

    def __init__(self, headers: list[tuple[str, bytes]]) -> None:
        names = [name for name, _ in headers]
        self._headers = headers
        self._slots = tuple(names.index(n) for n in ("ce_id", "ce_time", "ce_subject", "ce_tenantid"))

    def fill(self, record: AuditRecord, tenant: bytes) -> list[tuple[str, bytes]]:
        headers = list(self._headers)
        at_id, at_time, at_subject, at_tenant = self._slots
        headers[at_id] = ("ce_id", record_event_id(record).encode())
        headers[at_time] = ("ce_time", _ce_time(record.occurred_at))
        headers[at_subject] = ("ce_subject", tenant)
        headers[at_tenant] = ("ce_tenantid", tenant)
        return headers


def record_headers_template() -> RecordHeaders:
    epoch = datetime.fromtimestamp(0, timezone.utc)
    return RecordHeaders(
        Envelope.for_topic(AUDIT_RECORD, source=SOURCE, subject="", tenant_id="", time=epoch, event_id="-").to_headers()
    )


def _ce_time(moment: datetime) -> bytes:
    """`Envelope.to_headers`' spelling of the time (isoformat: microseconds only when
    not zero), laid out by hand: it runs per record."""
    utc = moment if moment.tzinfo is timezone.utc else moment.astimezone(timezone.utc)
    text = "%04d-%02d-%02dT%02d:%02d:%02d" % (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second)
    if utc.microsecond:
        text = "%s.%06d" % (text, utc.microsecond)
    return (text + "Z").encode()


async def _positions(partition: int, sent: list[tuple[asyncio.Future, int]]) -> list[LogPosition]:
    positions: list[LogPosition] = []
    for future, size in sent:
        base = (await future).offset
        positions.extend(LogPosition(partition, base + i) for i in range(size))
    return positions


class KafkaAuditLog:
    """Writes records to a chosen partition of the log and reads partitions back."""

    def __init__(self, producer: AIOKafkaProducer, bootstrap: str, topic: str = AUDIT_RECORD.name) -> None:
        self._producer = producer
        self._topic = topic
        self._reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, client_id="audit-log-reader")

    async def start(self) -> None:
        await self._reader.start()

    async def stop(self) -> None:
        await self._reader.stop()

    async def send(
        self, partition: int, records: list[AuditRecord], entries: list[bytes]
    ) -> asyncio.Future[list[LogPosition]]:
        """Hand the records to the producer in order, as few record batches as fit
        (building them ourselves skips the producer's per-message bookkeeping); the
        returned future gives their positions once all are acknowledged. Each value
        is the record's chain fields around its entry's bytes as read, and the
        CloudEvents headers are built once per call with the per-record ones filled in."""
        sent: list[tuple[asyncio.Future, int]] = []
        batch, count = self._producer.create_batch(), 0
        template = record_headers_template()
        for record, entry in zip(records, entries, strict=True):
            value = record_with_entry(entry, record)
            key = record.tenant_id.encode()
            headers = template.fill(record, key)
            while batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                if count == 0:
                    raise ValueError(f"audit record {record.sequence} of {record.tenant_id} is larger than a batch")
                sent.append((await self._producer.send_batch(batch, self._topic, partition=partition), count))
                batch, count = self._producer.create_batch(), 0
            count += 1
        if count:
            sent.append((await self._producer.send_batch(batch, self._topic, partition=partition), count))
        return asyncio.ensure_future(_positions(partition, sent))

    async def write(self, partition: int, records: list[AuditRecord], entries: list[bytes]) -> list[LogPosition]:
        """`send` and wait for the acknowledgement."""
        return await (await self.send(partition, records, entries))

    async def end_offset(self, partition: int) -> int:
        tp = TopicPartition(self._topic, partition)
        return (await self._reader.end_offsets([tp]))[tp]

    async def read(self, partition: int, start: int, end: int) -> AsyncIterator[tuple[AuditRecord, LogPosition]]:
        tp = TopicPartition(self._topic, partition)
        self._reader.assign([tp])
        self._reader.seek(tp, start)
        position = start
        while position < end:
            batch = await self._reader.getmany(tp, timeout_ms=1000, max_records=2000)
            for message in batch.get(tp, []):
                if message.offset >= end:
                    return
                position = message.offset + 1
                # Only the chain writer writes here: a record that does not decode is a
                # broken broker or a foreign writer, and chaining on must stop.
                _, payload = decode(events.AuditRecord, message.value, message.headers)
                yield record_from_proto(payload), LogPosition(message.partition, message.offset)


class ChainWorker:
    """Consumes the intake in batches per partition and chains them."""

    def __init__(
        self,
        bootstrap: str,
        chainer: AuditChainer,
        producer: AIOKafkaProducer,
        *,
        intake_topic: str = AUDIT_INTAKE.name,
        group_id: str = CHAIN_GROUP,
        max_batch: int = 5000,
    ) -> None:
        self._chainer = chainer
        self._producer = producer
        self._max_batch = max_batch
        self._consumer = AIOKafkaConsumer(
            intake_topic,
            bootstrap_servers=bootstrap,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
            client_id="audit-chain",
        )
        self.chained = 0

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        for partition in self._chainer.unsettled():
            try:
                await self._chainer.settle(partition)
            except Exception:
                # On the log already: whoever owns the partition next stores them.
                log.exception("could not store the last audit records of log partition %d", partition)
        await self._consumer.stop()

    async def run(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=self._max_batch)
            for tp, messages in batches.items():
                if messages:
                    await retry_in_place(f"chaining {tp.topic}@{tp.partition}", lambda: self._chain(tp, messages))
            if not batches:
                # Idle: make sure the last records written are stored (a failed
                # background store is caught up from the log) before more intake comes.
                for partition in self._chainer.unsettled():
                    await retry_in_place(
                        f"storing audit records of log partition {partition}", lambda: self._chainer.settle(partition)
                    )

    async def _chain(self, tp: TopicPartition, messages) -> None:
        entries, encoded, sources = [], [], []
        for position, message in enumerate(messages, 1):
            if position % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # see YIELD_EVERY
            try:
                envelope, entry = decode(events.AuditEntry, message.value, message.headers)
                if envelope.tenant_id != entry.tenant_id:
                    raise EnvelopeError("ce_tenantid does not match the entry's tenant_id")
            except EnvelopeError as exc:
                await self._dead_letter(message, str(exc))
                continue
            entries.append(entry)
            encoded.append(message.value)
            sources.append(message)
        result = await self._chainer.chain(tp.partition, entries, encoded)
        for index, reason in result.rejected:
            await self._dead_letter(sources[index], f"cannot chain: {reason}")
        self.chained += len(result.records)
        if result.recovered:
            log.warning(
                "applied %d audit records from the log that the store lacked (partition %d)",
                result.recovered,
                tp.partition,
            )
        try:
            await self._consumer.commit({tp: OffsetAndMetadata(messages[-1].offset + 1, "")})
        except (CommitFailedError, IllegalStateError) as exc:
            # The partition moved to another worker mid-batch: it will see these entries
            # again, catch up on the records written here and drop them as chained.
            log.warning("intake partition %d moved before its offset was committed: %s", tp.partition, exc)

    async def _dead_letter(self, message, reason: str) -> None:
        log.warning("dead-lettering %s@%d:%d: %s", message.topic, message.partition, message.offset, reason)
        await self._producer.send_and_wait(
            f"{message.topic}.dlq",
            value=message.value,
            key=message.key,
            headers=dead_letter_headers(
                message.headers, reason=reason, topic=message.topic, partition=message.partition, offset=message.offset
            ),
        )


def new_producer(
    bootstrap: str, client_id: str, *, linger_ms: int = 2, max_batch_size: int = 16384
) -> AIOKafkaProducer:
    """Idempotent, acks=all. The API's producer sends at once (linger 0): a Check waits
    for its audit entry's acknowledgement, and lingering would add to every answer;
    Checks that arrive while a produce request is in flight go together in the next
    one (aiokafka keeps one request in flight per broker), so concurrent Checks share
    a round trip without lingering. acks=all stays: with one broker it costs nothing
    over acks=1, and in production (replication 3, min.insync.replicas 2) it is what
    makes an acknowledged audit entry survive the loss of the leader — the promise
    behind "never an unaudited decision". The chain writer's producer builds large
    batches (`CHAIN_BATCH_BYTES`, within the broker's 1 MiB message limit)."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        max_batch_size=max_batch_size,
        client_id=client_id,
    )


def producer_send(producer: AIOKafkaProducer):
    """An `EventPublisher` transport on an aiokafka producer (awaits the ack)."""

    async def send(topic: str, key: bytes, value: bytes, headers) -> tuple[int, int]:
        metadata = await producer.send_and_wait(topic, value=value, key=key, headers=headers)
        return metadata.partition, metadata.offset

    return send

