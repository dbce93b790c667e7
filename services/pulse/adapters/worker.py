"""The pulse stream worker: activities in, visit verdicts and indicator changes out.

Hot path (measured in bench/results/pulse.md, ADR 0003): a raw aiokafka consumer in the
group `dealpulse-pulse` reads `gateway.activity.v1` in batches (`getmany`), maps each batch
to domain events, applies them to the `PulseBook` (each touched visit judged once per
batch) and publishes the batch's indicator changes — the latest per indicator scope, in one
produce burst (`kernel.kafka.BatchPublisher`: record batches built by hand, one trace span
per batch, acks=all). Verdict changes are held, the latest per visit, while more input is
waiting, for about `VERDICT_INTERVAL`: a visit revised by several batches in that time
(its check-in, note, check-out, the watermark deciding it) is published once, as it ends
up, and the verdicts' work stays out of the way of the indicators, whose latency is the
target. Held verdicts go out with the next batch's indicators once the interval has passed,
as soon as the worker is idle, and when a rebalance starts (a batch folded while it runs
holds nothing); the offsets of the batches they came from are committed
only after they are acknowledged. A batch's outputs are handed to the producer as soon as
it is folded; their acknowledgement and the commit run while the next batches are decoded
and folded (at most `IN_FLIGHT` batches unacknowledged), and commits stay in order. Faust's `stream.take` was
measured at a fifth of the required 20,000 events/s before any work, so the hot path does
not run inside Faust. The garbage collector is kept off the ever-growing book (`LongLivedHeap`).

Master data (accounts, opportunities, the roster) is low-volume and every worker needs all
of it (any rep may visit any customer): a second consumer reads those topics' partitions
without a group.

State survives restarts by construction: the activity topic is kept forever, the book is a
deterministic fold of it, so on every (re)assignment the worker rebuilds its book by
replaying its partitions from the beginning up to the group's committed offsets —
publishing nothing for that part, because it was published before — and continues live.
The master data is replayed up to where its outputs were published (recorded in the
commits' metadata, `master_published`); the rest is processed live once the activities
are in.
Outputs carry deterministic event ids, so a batch re-published after a crash between
publishing and committing is a duplicate consumers drop. Undecodable records go to the
topic's `.dlq` twin (with the reason) before their offset is committed.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CommitFailedError, IllegalStateError
from aiokafka.structs import ConsumerRecord

from kernel.envelope import EnvelopeError, dead_letter_headers
from kernel.kafka import BatchPublisher, OutgoingEvent, murmur2
from kernel.topics import ACCOUNT, ACTIVITY_EVENT, LEAD, OPPORTUNITY, PULSE_INDICATOR_CHANGED, PULSE_VISIT_VERDICT, REP, TopicSpec
from services.pulse.adapters import messages
from services.pulse.adapters.records import RecordMapper, schema_and_tenant
from services.pulse.adapters.tenant_settings import TenantSettingsStore
from services.pulse.domain.book import EFFECTIVE_VISITS, BatchChanges, IndicatorChange, PulseBook, VerdictChange

log = logging.getLogger(__name__)

GROUP_ID = "dealpulse-pulse"
SOURCE = "dealpulse/pulse"
MASTER_TOPICS = (ACCOUNT, OPPORTUNITY, REP, LEAD)
BATCH_RECORDS = 5000
# Batches whose outputs may await their acknowledgement while the next one is worked on.
IN_FLIGHT = 2
# The longest a verdict change is held back while input is waiting (seconds).
VERDICT_INTERVAL = 1.0
MAX_PROGRESS_BYTES = 4000  # under the broker's default offset.metadata.max.bytes (4096)


@dataclass
class WorkerStats:
    consumed: int = 0
    replayed: int = 0
    dead_lettered: int = 0
    verdicts_published: int = 0
    indicator_changes_published: int = 0
    batches: int = 0
    ready: bool = False
    assigned: list[str] = field(default_factory=list)


def tenant_of(record: ConsumerRecord) -> str | None:
    try:
        for name, value in record.headers or ():
            if name == "ce_tenantid":
                return value.decode(errors="replace")
    except (TypeError, ValueError, AttributeError):
        return None  # malformed headers: the mapper dead-letters the record
    return None


async def all_partitions(consumer: AIOKafkaConsumer, specs) -> list[TopicPartition]:
    """Every partition of the topics, for a consumer that reads them without a group (a
    group-less consumer's metadata only covers what it was assigned, hence the full fetch)."""
    cluster = await consumer._client.fetch_all_metadata()  # noqa: SLF001 - no public equivalent
    found = []
    for spec in specs:
        partitions = cluster.partitions_for_topic(spec.name)
        if not partitions:
            raise RuntimeError(f"topic {spec.name} does not exist; run python -m kernel.topic_admin create")
        found += [TopicPartition(spec.name, p) for p in sorted(partitions)]
    return found


async def reached(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return False
    return True


def master_progress(done: dict[TopicPartition, int]) -> str:
    """Commit metadata: the master records (next offset per partition) whose outputs the
    committing worker had published, e.g. `{"actions.lead.v1": [12, 0, 7]}`. Empty when it
    would not fit the broker's limit (`offset.metadata.max.bytes`, 4096 by default; about 300
    master partitions): a rebuild then starts master data live at the log's end, as before
    progress was recorded, instead of the commit failing."""
    topics: dict[str, list[int]] = {}
    for tp, offset in sorted(done.items()):
        offsets = topics.setdefault(tp.topic, [])
        offsets += [0] * (tp.partition + 1 - len(offsets))
        offsets[tp.partition] = offset
    text = json.dumps(topics, separators=(",", ":"))
    if len(text) > MAX_PROGRESS_BYTES:
        log.warning("master progress (%d bytes) exceeds commit metadata's %d: not recorded", len(text), MAX_PROGRESS_BYTES)
        return ""
    return text


def master_published(
    committed: dict[TopicPartition, tuple[int, str]], ends: dict[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """Where the master data is published up to for the activity partitions `committed`
    (the least over them: a master record changes verdicts of every partition's visits,
    each published by its owner). Records past it are processed live again after a
    rebuild (what was published already comes out again with the same last value per
    scope) instead of being replayed silently — a record appended while no worker ran, or
    during a rebalance, would otherwise never have its outputs published. Without any
    recorded progress (a new group, or commits from before progress was recorded) it is
    the end of the log, as on a first start."""
    recorded = [progress for _, metadata in committed.values() if (progress := _progress_of(metadata)) is not None]
    if not recorded:
        return dict(ends)
    published = {}
    for tp, end in ends.items():
        reached_by = []
        for progress in recorded:
            offsets = progress.get(tp.topic, [])
            reached_by.append(offsets[tp.partition] if tp.partition < len(offsets) else 0)
        published[tp] = min(end, *reached_by)
    return published


def _progress_of(metadata: str) -> dict[str, list[int]] | None:
    """`master_progress`'s text read back; None for none or anything else (commits from
    before progress was recorded, or a foreign tool's), which counts as no record."""
    if not metadata:
        return None
    try:
        progress = json.loads(metadata)
    except ValueError:
        progress = None
    if not isinstance(progress, dict) or not all(
        isinstance(offsets, list) and all(type(o) is int and o >= 0 for o in offsets) for offsets in progress.values()
    ):
        log.warning("ignoring commit metadata that is not master progress: %.200r", metadata)
        return None
    return progress


class LongLivedHeap:
    """Keeps CPython's cyclic garbage collector off the book.

    The book only grows (every admitted event is kept for drill-down), and CPython's full
    collections re-scan every tracked object each time the heap grows by a quarter: a cost
    per event that grows with the history, and pauses of a second and more on this
    machine's backlog benchmark. After each batch this freezes what is alive (`gc.freeze`,
    constant time), so the collector's automatic runs only ever scan what the next batch
    allocates. Reference cycles that die frozen (the book makes none; the Kafka client's,
    rarely) are reclaimed by a full collection of everything every `reclaim_every`
    seconds — one pause, which CPython's own full collections would cost anyway."""

    def __init__(self, reclaim_every: float = 900.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._reclaim_every = reclaim_every
        self._clock = clock
        self._reclaimed_at = clock()

    def after_batch(self) -> None:
        if self._clock() - self._reclaimed_at >= self._reclaim_every:
            self.reclaim()
        gc.freeze()

    def reclaim(self) -> None:
        """Unfreezes and collects everything (also after a rebuild: the old book's remains)."""
        gc.unfreeze()
        gc.collect()
        self._reclaimed_at = self._clock()


@dataclass
class HeldVerdicts:
    """Verdict changes not yet published, the latest per visit, and what their publication
    gates: the offsets and master positions of the batches they came from, committed once
    they are acknowledged (a crash before that replays those batches, and publishes again)."""

    verdicts: dict[tuple[str, str], VerdictChange] = field(default_factory=dict)
    offsets: dict[TopicPartition, int] = field(default_factory=dict)
    master: dict[TopicPartition, int] = field(default_factory=dict)
    since: float = 0.0  # when the oldest held verdict came

    def hold(self, changes: list[VerdictChange], offsets: dict[TopicPartition, int] | None,
             master: dict[TopicPartition, int] | None, now: float) -> None:
        if changes and not self.verdicts:
            self.since = now
        for change in changes:
            verdict = change.verdict
            self.verdicts[(verdict.tenant_id, verdict.visit_id)] = change
        self.offsets.update(offsets or {})
        self.master.update(master or {})

    def due(self, now: float, interval: float) -> bool:
        """Nothing is held back for nothing: with no verdict held, the offsets commit now."""
        return not self.verdicts or now - self.since >= interval

    def contents(self) -> tuple[list[VerdictChange], dict[TopicPartition, int], dict[TopicPartition, int]]:
        return list(self.verdicts.values()), dict(self.offsets), dict(self.master)

    def clear(self) -> None:
        """Once what `contents` gave is handed to the producer (not before: a failed hand-over
        keeps it, to be published and committed by a later one or replayed after a crash)."""
        self.verdicts, self.offsets, self.master = {}, {}, {}


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, worker: "PulseWorker") -> None:
        self._worker = worker

    async def on_partitions_revoked(self, revoked) -> None:
        self._worker.stats.ready = False
        await self._worker.finished()  # what is held is published, the batches in flight commit

    async def on_partitions_assigned(self, assigned) -> None:
        self._worker.rebuild_needed = True


class PulseWorker:
    def __init__(
        self,
        bootstrap: str,
        settings_store: TenantSettingsStore,
        *,
        group_id: str = GROUP_ID,
        activity_topic: TopicSpec = ACTIVITY_EVENT,
        master_topics: tuple[TopicSpec, ...] = MASTER_TOPICS,
        verdict_topic: TopicSpec = PULSE_VISIT_VERDICT,
        indicator_topic: TopicSpec = PULSE_INDICATOR_CHANGED,
        client_id: str = "pulse-worker",
        heap: LongLivedHeap | None = None,
        batch_records: int = BATCH_RECORDS,
        verdict_interval: float = VERDICT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bootstrap = bootstrap
        self._settings = settings_store
        self._group_id = group_id
        self._activity_topic = activity_topic
        self._master_topics = master_topics
        self._client_id = client_id
        self._verdict_topic = verdict_topic
        self._indicator_topic = indicator_topic
        self.stats = WorkerStats()
        self.rebuild_needed = False
        self.book = PulseBook(settings_store.settings_for)
        self.mapper = RecordMapper(self.book)
        self._replay_until: dict[TopicPartition, int] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._master: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._publisher: BatchPublisher | None = None
        self._admin: AIOKafkaAdminClient | None = None
        # Master records whose outputs are acknowledged (next offset per partition), committed
        # as metadata with this worker's activity offsets, and the offsets committed last.
        self._master_done: dict[TopicPartition, int] = {}
        self._committed_at: dict[TopicPartition, int] = {}
        # The activity topic's partition count and the partitions this worker owns: which
        # worker publishes an indicator every worker computes from master data.
        self._activity_partitions = 0
        self._owned: frozenset[int] = frozenset()
        self._specs = {spec.name: spec for spec in (activity_topic, *master_topics)}
        self._heap = heap or LongLivedHeap()
        self._batch_records = batch_records
        # Earlier batches' acknowledgement and commit, oldest first, awaited while this batch
        # is worked on; each awaits the one queued before it (also once that one is out of
        # this window), so commits stay in order and none passes a failure.
        self._in_flight: deque[asyncio.Task] = deque()
        self._last_queued: asyncio.Task | None = None
        self._held = HeldVerdicts()
        self._verdict_interval = verdict_interval
        self._clock = clock
        # Off from a rebalance's start to the rebuild after it: a batch folded while the
        # partitions are being revoked publishes its verdicts at once, not after they moved.
        self._holding = True
        # Outputs are appended and their completion queued by the run loop and by a
        # rebalance (which publishes what is held): one at a time, so the commits stay in
        # the order of the offsets.
        self._appending = asyncio.Lock()

    # ---- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap, acks="all", enable_idempotence=True, linger_ms=5,
            client_id=self._client_id, max_batch_size=256 * 1024,
        )
        await self._producer.start()
        self._publisher = BatchPublisher(self._producer, SOURCE)
        self._master = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False, client_id=f"{self._client_id}-master",
            auto_offset_reset="earliest",
        )
        await self._master.start()
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, group_id=self._group_id, enable_auto_commit=False,
            auto_offset_reset="earliest", client_id=self._client_id, max_partition_fetch_bytes=4 * 1024 * 1024,
            fetch_max_bytes=32 * 1024 * 1024,
        )
        await self._consumer.start()
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, client_id=f"{self._client_id}-admin")
        await self._admin.start()
        self._consumer.subscribe([self._activity_topic.name], listener=_Rebalance(self))

    async def stop(self) -> None:
        for client in (self._consumer, self._master, self._producer):
            if client is not None:
                await client.stop()
        if self._admin is not None:
            await self._admin.close()

    async def run(self, stopping: asyncio.Event) -> None:
        assert self._consumer is not None
        try:
            while not stopping.is_set():
                batch = await self._consumer.getmany(timeout_ms=100, max_records=self._batch_records)
                if self.rebuild_needed:
                    await self._rebuild()
                    continue  # positions moved: what was fetched before the rebuild is stale
                if self._caught_up():
                    await self._pump_master()
                if batch:
                    await self._process(batch)
                if self._held.verdicts and (not batch or self._held.due(self._clock(), self._verdict_interval)):
                    # Idle (nothing to wait for), or due while the batches only replayed.
                    await self._hand_over(BatchChanges(), [], release=True)
                if not self.stats.ready and self._caught_up():
                    self.stats.ready = True
        finally:
            await self._drain()

    async def finished(self) -> None:
        """Publishes the held verdicts, holds none until the next rebuild, and waits until
        the batches in flight are acknowledged and committed. A failure is not raised here
        (a rebalance calls this) but where the worker hands over its next batch: a failed
        hand-over leaves a failed completion behind, which every later one awaits."""
        self._holding = False
        try:
            await self._release_held()
        except Exception:  # noqa: BLE001 - see the docstring
            log.exception("publishing the held verdicts failed")
        if self._last_queued is not None:
            await asyncio.wait({self._last_queued})  # it awaits the ones before it

    async def _drain(self) -> None:
        """Publishes the held verdicts and waits until the batches in flight are acknowledged
        and committed, raising a failure."""
        await self._release_held()
        while self._in_flight:
            await self._in_flight.popleft()

    async def _release_held(self) -> None:
        async with self._appending:
            held = self._held
            if held.verdicts or held.offsets:
                await self._queue([], [], consumed=0, release=True)

    # ---- rebuild ---------------------------------------------------------------------------
    async def _rebuild(self) -> None:
        """A fresh book from the log: master data up to where this worker's partitions had
        its outputs published (check-ins find their customers), then the activity partitions
        from the beginning up to their commits — all without publishing — then the rest of
        the master data live, once the activities are in (its outputs include the verdicts
        of those partitions' visits that it changes)."""
        assert self._consumer is not None and self._master is not None
        await self._drain()  # its commit belongs to the offsets the rebuild reads
        self.rebuild_needed = False
        self._holding = True
        self.stats.ready = False
        self.book = PulseBook(self._settings.settings_for)
        self.mapper = RecordMapper(self.book)
        self._heap.reclaim()
        master_partitions = await all_partitions(self._master, self._master_topics)
        self._master.assign(master_partitions)
        await self._master.seek_to_beginning(*master_partitions)
        assigned = sorted(self._consumer.assignment())
        self.stats.assigned = [f"{tp.topic}[{tp.partition}]" for tp in assigned]
        self._activity_partitions = len(self._consumer.partitions_for_topic(self._activity_topic.name) or ())
        self._owned = frozenset(tp.partition for tp in assigned)
        committed = await self._committed(assigned)
        ends = await self._master.end_offsets(master_partitions)
        self._master_done = master_published(committed, ends)
        await self._replay_master(self._master_done)
        # Every owned partition records the master progress, those never committed too (at 0).
        self._committed_at = {tp: committed[tp][0] if tp in committed else 0 for tp in assigned}
        # What is left to replay: up to the commit, within what the log still holds (a commit
        # past the end, or records gone with retention, would never be reached).
        first = await self._consumer.beginning_offsets(assigned) if assigned else {}
        last = await self._consumer.end_offsets(assigned) if assigned else {}
        self._replay_until = {
            tp: min(offset, last[tp]) for tp, offset in self._committed_at.items() if min(offset, last[tp]) > first[tp]
        }
        if assigned:
            await self._consumer.seek_to_beginning(*assigned)
        log.info("pulse rebuild: %d partitions, replaying up to %d records; master data live from %s", len(assigned),
                 sum(self._replay_until.values()), {f"{tp.topic}[{tp.partition}]": o for tp, o in self._master_done.items()})

    async def _committed(self, partitions: list[TopicPartition]) -> dict[TopicPartition, tuple[int, str]]:
        """The group's committed (offset, metadata) of `partitions` that have a commit."""
        assert self._admin is not None
        if not partitions:
            return {}
        found = await self._admin.list_consumer_group_offsets(self._group_id, partitions=partitions)
        return {tp: (meta.offset, meta.metadata or "") for tp, meta in found.items() if meta is not None and meta.offset >= 0}

    async def _replay_master(self, until: dict[TopicPartition, int]) -> None:
        """Applies the master records below `until` without publishing and leaves the master
        consumer at `until`."""
        assert self._master is not None
        while not await reached(self._master, until):
            batch = await self._master.getmany(timeout_ms=200, max_records=self._batch_records)
            await self._apply([r for tp, records in batch.items() for r in records if r.offset < until.get(tp, 0)])
            # Partitions already there fetch nothing more the rebuild would throw away.
            self._master.pause(*[tp for tp, offset in until.items() if await self._master.position(tp) >= offset])
        self._master.resume(*until)
        for tp, offset in until.items():
            if await self._master.position(tp) != offset:
                self._master.seek(tp, offset)  # fetched past it: those are published once the activities are in

    def _caught_up(self) -> bool:
        return not self._replay_until

    async def _pump_master(self) -> None:
        """Master data arriving live: applied and published like a batch of activities; the
        positions it reached are committed as metadata once its outputs are acknowledged."""
        assert self._master is not None
        batch = await self._master.getmany(timeout_ms=0, max_records=self._batch_records)
        if batch:
            changes, dead = await self._apply([r for records in batch.values() for r in records])
            await self._hand_over(changes, dead, master={tp: records[-1].offset + 1 for tp, records in batch.items()})

    # ---- the hot path ----------------------------------------------------------------------
    async def _process(self, batch: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        assert self._consumer is not None
        replay: list[ConsumerRecord] = []
        live: list[ConsumerRecord] = []
        # Only partitions with live records move their commit: a partition still replaying sits
        # behind its committed offset, and committing its position would move that back.
        offsets: dict[TopicPartition, int] = {}
        for tp, records in batch.items():
            until = self._replay_until.get(tp)
            if until is None:
                live += records
            else:
                for record in records:
                    (replay if record.offset < until else live).append(record)
                if records[-1].offset + 1 >= until:
                    del self._replay_until[tp]
            if records[-1].offset + 1 > (until or 0):
                offsets[tp] = records[-1].offset + 1
        await self._apply(replay)
        self.stats.replayed += len(replay)
        if live:
            changes, dead = await self._apply(live)
            await self._hand_over(changes, dead, consumed=len(live), offsets=offsets)
        self.stats.batches += 1
        self._heap.after_batch()

    async def _hand_over(
        self, changes: BatchChanges, dead: list[tuple[ConsumerRecord, str]], *, consumed: int = 0,
        offsets: dict[TopicPartition, int] | None = None, master: dict[TopicPartition, int] | None = None,
        release: bool = False,
    ) -> None:
        """Hands the batch's indicator changes to the producer now and holds its verdict
        changes (see `HeldVerdicts`) or, once they are due (or on `release`), hands every held
        one over with them; sets their acknowledgement, the dead letters and the commit of
        what is no longer held in flight behind the earlier batches'. An earlier batch's
        failure, once known, is raised here before anything of this one is published (what
        was published after it carries deterministic ids, and no commit passes it); with
        `IN_FLIGHT` batches unacknowledged, this waits for the oldest."""
        in_flight = self._in_flight
        while in_flight and (in_flight[0].done() or len(in_flight) >= IN_FLIGHT):
            await in_flight.popleft()
        indicators = [c for c in changes.indicators if self._publishes(c)]
        async with self._appending:
            held = self._held
            now = self._clock()
            held.hold(changes.verdicts, offsets, master, now)
            releasing = release or not self._holding or held.due(now, self._verdict_interval)
            await self._queue(indicators, dead, consumed=consumed, release=releasing)

    async def _queue(
        self, indicators: list[IndicatorChange], dead: list[tuple[ConsumerRecord, str]], *, consumed: int,
        release: bool,
    ) -> None:
        """Appends the indicator changes to the producer, with every held verdict when
        `release`, and queues their completion, which commits the offsets those verdicts held
        back (under `_appending`). What is held is cleared only once appended. When appending
        fails, the completion queued fails too: no later commit passes these offsets."""
        verdicts, offsets, master = self._held.contents() if release else ([], None, None)
        changes = BatchChanges(verdicts=verdicts, indicators=indicators)
        failure: BaseException | None = None
        try:
            acknowledged = await self._append(changes)
            if release:
                self._held.clear()
        except BaseException as exc:
            failure = exc
            acknowledged = asyncio.get_running_loop().create_future()
            acknowledged.set_exception(exc if isinstance(exc, Exception) else RuntimeError(f"appending stopped: {exc!r}"))
            changes, dead, consumed, offsets, master = BatchChanges(), [], 0, None, None
        self._last_queued = asyncio.create_task(self._complete(
            self._last_queued, acknowledged, changes, dead, consumed=consumed, offsets=offsets, master=master
        ))
        self._in_flight.append(self._last_queued)
        if failure is not None:
            raise failure

    async def _complete(
        self, previous: asyncio.Task | None, acknowledged: asyncio.Future, changes: BatchChanges,
        dead: list[tuple[ConsumerRecord, str]], *, consumed: int, offsets: dict[TopicPartition, int] | None,
        master: dict[TopicPartition, int] | None,
    ) -> None:
        await asyncio.gather(*(self._dead_letter(record, reason) for record, reason in dead))
        await acknowledged
        self.stats.verdicts_published += len(changes.verdicts)
        self.stats.indicator_changes_published += len(changes.indicators)
        if previous is not None:
            await previous  # commits in order; an earlier failure stops this commit too
        self.stats.consumed += consumed
        if master:
            self._master_done.update(master)
            # Every owned partition records it, including those without new activities.
            offsets = {**self._committed_at, **(offsets or {})}
        if offsets:
            await self._commit(offsets)

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit what this worker still owns, each offset with the master data whose outputs
        are published (see `master_published`). A partition taken away while the batch was
        in hand is replayed by its new owner from the last commit; what that re-publishes
        carries the same event ids, so consumers drop it."""
        assert self._consumer is not None
        owned = self._consumer.assignment()
        progress = master_progress(self._master_done)
        kept = {tp: (offset, progress) for tp, offset in offsets.items() if tp in owned}
        if not kept:
            return
        try:
            await self._consumer.commit(kept)
        except (CommitFailedError, IllegalStateError) as exc:
            log.warning("commit skipped, the group is rebalancing: %s", exc)
            return
        self._committed_at.update((tp, offset) for tp, (offset, _) in kept.items())

    async def _apply(
        self, records: list[ConsumerRecord]
    ) -> tuple[BatchChanges, list[tuple[ConsumerRecord, str]]]:
        """Folds the records into the book: what changed, and the records to dead-letter."""
        if not records:
            return BatchChanges(), []
        dead: list[tuple[ConsumerRecord, str]] = []
        readable: list[tuple[ConsumerRecord, str, str]] = []
        for record in records:
            try:
                schema, tenant_id = schema_and_tenant(record.headers)
            except EnvelopeError as exc:
                dead.append((record, str(exc)))
                continue
            readable.append((record, schema, tenant_id))
        await self._settings.ensure({tenant_id for _, _, tenant_id in readable})
        events = []
        events_of = self.mapper.events_of
        for record, schema, tenant_id in readable:
            try:
                events += events_of(schema, tenant_id, record)
            except EnvelopeError as exc:
                dead.append((record, str(exc)))
        return self.book.apply_batch(events), dead

    def _publishes(self, change) -> bool:
        """Whether this worker publishes an indicator change. Effective-visit counts come from
        its own partitions' visits; the others (lead response, stage progression, forecast,
        customer data) every worker computes from the master data it reads whole, and only
        the owner of the activity partition their key falls on publishes them — once, not
        once per worker."""
        if change.indicator.name == EFFECTIVE_VISITS:
            return True
        if not self._activity_partitions:
            return False
        key = f"{change.tenant_id}/{change.scope}".encode()
        return (murmur2(key) & 0x7FFFFFFF) % self._activity_partitions in self._owned

    async def _append(self, changes: BatchChanges) -> asyncio.Future:
        """One produce burst per batch: the book already coalesced it to the latest verdict
        per visit and the latest value per indicator scope (see PulseBook.apply_batch).
        Returns the future of its acknowledgement."""
        assert self._publisher is not None
        outgoing = [
            OutgoingEvent(
                self._verdict_topic,
                messages.verdict_message(change),
                key=f"{change.verdict.tenant_id}/{change.verdict.rep_id}",
                tenant_id=change.verdict.tenant_id,
                event_time=change.verdict.started_at,
                event_id=messages.verdict_event_id(change),
            )
            for change in changes.verdicts
        ]
        outgoing += [
            OutgoingEvent(
                self._indicator_topic,
                messages.indicator_message(change),
                key=f"{change.tenant_id}/{change.scope}",
                tenant_id=change.tenant_id,
                event_time=change.as_of,
                event_id=messages.indicator_event_id(change),
            )
            for change in changes.indicators
        ]
        return await self._publisher.append(outgoing)

    async def _dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        assert self._producer is not None
        log.warning("dead-lettering %s[%d]@%d: %s", record.topic, record.partition, record.offset, reason)
        spec = self._specs[record.topic]
        await (
            await self._producer.send(
                spec.dead_letter.name,
                key=record.key,
                value=record.value,
                headers=dead_letter_headers(
                    record.headers, reason=reason, topic=record.topic, partition=record.partition, offset=record.offset
                ),
            )
        )
        self.stats.dead_lettered += 1
