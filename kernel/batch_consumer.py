"""A batch consumer: a plain aiokafka consumer in a group of its own that hands each
fetched batch (`getmany`, up to `max_records`) to an `apply` coroutine and commits the
batch's offsets only once `apply` returned, i.e. once the batch's outputs are
acknowledged and its state written (at-least-once; `apply` must make a redelivered
record a no-op).

Faust delivers records one by one through its consumer thread, conductor, stream and
sensors (~225 us of CPU per record, measured in the actions worker); a hot path that
applies records in batches reads them here instead (ADR 0003 describes the same shape
for pulse; audit's `ChainWorker` too).

Rebalance-safe: a revocation waits for the batch being applied and committed, and a
batch is applied only for the partitions still owned when it starts, so (short of a
session timeout) a partition never has two owners applying it at once. Records of one partition come in order, one
batch after the other.

A group that replaces a Faust agent starts, on its first assignment of a partition (no
committed offset), from what the Faust group `seed_group` committed for it, so a running
deployment neither replays the topic's history nor skips what the agent had not reached.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata

log = logging.getLogger(__name__)

ApplyBatch = Callable[[list[ConsumerRecord]], Awaitable[None]]
MAX_RETRY_DELAY_SECONDS = 5.0


class BatchConsumer:
    """`max_records` bounds a batch (across partitions, each partition's records in
    order). `fetch_max_wait_ms` is how long the broker may hold a fetch for partitions
    with nothing new; aiokafka keeps one fetch in flight per broker, so in a burst the
    next batch can wait that long: a latency-bound consumer sets it low.
    `seed_group`: see the module's docstring."""

    def __init__(
        self,
        bootstrap: str,
        group_id: str,
        topics: Sequence[str],
        apply: ApplyBatch,
        *,
        max_records: int,
        client_id: str,
        seed_group: str | None = None,
        poll_timeout_ms: int = 100,
        fetch_max_wait_ms: int = 500,
    ) -> None:
        self._bootstrap = bootstrap
        self._group_id = group_id
        self._topics = list(topics)
        self._apply = apply
        self._max_records = max_records
        self._seed_group = seed_group
        self._poll_timeout_ms = poll_timeout_ms
        self._client_id = client_id
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self._consumer: AIOKafkaConsumer | None = None  # made in start(): aiokafka wants a running loop
        # Held while a batch is applied and committed; a revocation takes it in between.
        self._applying = asyncio.Lock()
        self._started = False
        self._rebalancing = True
        self.applied = 0

    @property
    def ready(self) -> bool:
        """Started, past its rebalance, owning partitions."""
        return self._started and not self._rebalancing and bool(self._consumer and self._consumer.assignment())

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self._group_id,
            client_id=self._client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
            fetch_max_wait_ms=self._fetch_max_wait_ms,
        )
        await self._consumer.start()
        self._consumer.subscribe(self._topics, listener=_Rebalance(self))
        self._started = True

    async def stop(self) -> None:
        self._started = False
        if self._consumer is not None:
            await self._consumer.stop()

    @property
    def _client(self) -> AIOKafkaConsumer:
        assert self._consumer is not None, "start() first"
        return self._consumer

    async def run(self) -> None:
        """Until cancelled. A failure of `apply` ends it (nothing is committed for that
        batch): `apply` retries what may succeed later and parks what never will."""
        while True:
            fetched = await self._client.getmany(timeout_ms=self._poll_timeout_ms, max_records=self._max_records)
            if fetched:
                async with self._applying:
                    await self._apply_owned(fetched)

    async def _apply_owned(self, fetched: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        owned = self._client.assignment()
        batches = {
            tp: records for tp, records in fetched.items()
            if tp in owned and records and await self._client.position(tp) == records[-1].offset + 1
        }  # a partition sought (or reassigned) since it was fetched is fetched again from there
        if not batches:
            return
        records = [record for partition_records in batches.values() for record in partition_records]
        await self._apply(records)
        self.applied += len(records)
        await self._commit({tp: partition_records[-1].offset + 1 for tp, partition_records in batches.items()})

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit, retrying while the broker is away. A partition that moved meanwhile is
        replayed by its new owner from the last commit, where `apply` finds it applied."""
        delay = 0.1
        while True:
            try:
                await self._client.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in offsets.items()})
                return
            except (CommitFailedError, IllegalStateError) as exc:
                log.warning("%s: commit skipped, the partitions moved: %s", self._group_id, exc)
                return
            except KafkaError:
                log.exception("%s: commit failed; retrying in %.1fs", self._group_id, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY_SECONDS)
                offsets = {tp: offset for tp, offset in offsets.items() if tp in self._client.assignment()}
                if not offsets:
                    return

    async def _on_revoked(self) -> None:
        self._rebalancing = True
        async with self._applying:
            pass  # the batch in flight is applied and committed before its partitions move

    async def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        async with self._applying:  # what was fetched before a seek here is not applied
            if self._seed_group:
                await self._start_new_partitions_at_seed(assigned)
        self._rebalancing = False

    async def _start_new_partitions_at_seed(self, assigned: set[TopicPartition]) -> None:
        """Partitions this group never committed start where `seed_group` is, and that
        position is committed at once so later starts no longer depend on that group."""
        fresh = [tp for tp in sorted(assigned) if await self._client.committed(tp) is None]
        if not fresh:
            return
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
        await admin.start()
        try:
            theirs = await admin.list_consumer_group_offsets(self._seed_group, partitions=fresh)
        finally:
            await admin.close()
        seeds = {tp: found.offset for tp, found in theirs.items() if found is not None and found.offset >= 0}
        for tp, offset in seeds.items():
            self._client.seek(tp, offset)
        if seeds:
            await self._client.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in seeds.items()})
            log.info("%s starts %d new partitions at %s's offsets: %s", self._group_id, len(seeds), self._seed_group, seeds)


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, owner: BatchConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked) -> None:
        await self._owner._on_revoked()  # noqa: SLF001 - the listener is the consumer's own

    async def on_partitions_assigned(self, assigned) -> None:
        await self._owner._on_assigned(assigned)  # noqa: SLF001
