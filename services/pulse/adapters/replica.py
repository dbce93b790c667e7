"""The dashboard's copy of the pulse state: every input topic, every partition, from the
beginning, folded into a `PulseBook` exactly as the workers fold their share of it (so
the dashboard's numbers are the workers' numbers), plus where each event came from, so a
number drills down to the raw records (fetched from the log by offset on demand).
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from google.protobuf.json_format import MessageToDict
from google.protobuf.struct_pb2 import Struct

from dealpulse.actions.v1 import events_pb2 as actions_pb
from dealpulse.actions.v1 import leads_pb2 as leads_pb
from dealpulse.activity.v1 import events_pb2 as activity_pb
from kernel.envelope import Envelope, EnvelopeError, decode
from kernel.topics import ACCOUNT, ACTIVITY_EVENT, LEAD, OPPORTUNITY, REP, TopicSpec
from services.pulse.adapters.records import RecordMapper, SourceRef
from services.pulse.adapters.tenant_settings import TenantSettingsStore
from services.pulse.adapters.worker import all_partitions, reached, tenant_of
from services.pulse.domain.book import PulseBook

log = logging.getLogger(__name__)

REPLICA_TOPICS: tuple[TopicSpec, ...] = (ACCOUNT, OPPORTUNITY, REP, LEAD, ACTIVITY_EVENT)
_PAYLOADS = {
    message.DESCRIPTOR.full_name: message
    for message in (activity_pb.ActivityEvent, actions_pb.AccountEvent, actions_pb.OpportunityEvent, leads_pb.LeadEvent)
}
MAX_FETCHED_PAYLOADS = 500


class PulseReplica:
    def __init__(self, bootstrap: str, settings_store: TenantSettingsStore, topics=REPLICA_TOPICS) -> None:
        self._bootstrap = bootstrap
        self._settings = settings_store
        self._topics = topics
        self.book = PulseBook(settings_store.settings_for)
        self.mapper = RecordMapper(self.book)
        self.sources: dict[str, SourceRef] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._fetcher: AIOKafkaConsumer | None = None
        self._fetch_lock = asyncio.Lock()
        self.caught_up = asyncio.Event()

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False,
                                          client_id="pulse-replica", fetch_max_bytes=32 * 1024 * 1024)
        self._fetcher = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False,
                                         client_id="pulse-drilldown")
        await self._consumer.start()
        await self._fetcher.start()
        partitions = await all_partitions(self._consumer, self._topics)
        self._consumer.assign(partitions)
        await self._consumer.seek_to_beginning(*partitions)
        self._ends_at_start = await self._consumer.end_offsets(partitions)

    async def stop(self) -> None:
        for client in (self._consumer, self._fetcher):
            if client is not None:
                await client.stop()

    async def run(self, stopping: asyncio.Event) -> None:
        assert self._consumer is not None
        while not stopping.is_set():
            batch = await self._consumer.getmany(timeout_ms=100, max_records=5000)
            records = [r for tp in sorted(batch) for r in batch[tp]]
            # Master data before activities inside a batch, as the workers do at start-up.
            records.sort(key=lambda r: r.topic == ACTIVITY_EVENT.name)
            if records:
                await self.apply(records)
            if not self.caught_up.is_set() and await reached(self._consumer, self._ends_at_start):
                self.caught_up.set()

    async def apply(self, records) -> None:
        await self._settings.ensure({t for r in records if (t := tenant_of(r))})
        events = []
        for record in records:
            try:
                mapped = self.mapper.map(record.topic, record.partition, record.offset, record.value, record.headers)
            except EnvelopeError:
                continue  # the workers dead-letter it; the dashboard just does not count it
            events.extend(mapped.events)
            if mapped.source is not None:
                for event in mapped.events:
                    self.sources[event.event_id] = mapped.source
                self.sources.setdefault(mapped.source.event_id, mapped.source)
        self.book.apply_batch(events)

    async def payloads(self, refs: list[SourceRef]) -> dict[str, Struct]:
        """The records behind `refs`, read back from the log, as JSON-like structs."""
        assert self._fetcher is not None
        found: dict[str, Struct] = {}
        async with self._fetch_lock:
            for ref in sorted(refs, key=lambda r: (r.topic, r.partition, r.offset))[:MAX_FETCHED_PAYLOADS]:
                tp = TopicPartition(ref.topic, ref.partition)
                self._fetcher.assign([tp])
                self._fetcher.seek(tp, ref.offset)
                fetched = await self._fetcher.getmany(tp, timeout_ms=2000, max_records=1)
                for record in fetched.get(tp, []):
                    if record.offset != ref.offset:
                        continue
                    try:
                        schema = Envelope.from_headers(record.headers).dataschema
                        _, payload = decode(_PAYLOADS[schema], record.value, record.headers)
                    except (EnvelopeError, KeyError):
                        continue
                    struct = Struct()
                    struct.update(MessageToDict(payload, preserving_proto_field_name=True))
                    found[ref.event_id] = struct
        return found
