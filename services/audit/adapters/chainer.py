"""The chain writer: turns a batch of audit entries from one intake partition into
hash-chained records on the same partition of `audit.record.v1`, then applies them to
the store.

One writer per tenant chain: the intake is keyed by tenant, so the consumer owning
intake partition p sees every entry of the tenants on p, and it writes their records to
log partition p only. The order of work makes a crash at any point safe:

1. Settle: the store of the previous batch's last chunk (still running in the
   background, see below) is waited for, then records on log partition p past the
   store's offset (written by a writer that crashed, or whose storing failed, before
   applying them) are applied, so heads and known ids are the log's.
2. Chain: entries whose event id is already chained (a redelivery) are dropped; the
   rest are appended to their tenant's head.
3. Write the records to the log and wait for the broker's acknowledgement.
4. Apply them to the store in one transaction (heads, ids, indexes, log offset).
5. The caller commits the intake offsets once `chain` returns, i.e. once every record
   is on the log: the log is the truth, and step 1 of the next batch (in whichever
   process owns the partition then) brings the store up to it.

Steps 2-4 go in chunks of the batch: chunk k+1 is chained while chunk k is being
acknowledged and stored; chunk k+1 is sent only after chunk k is acknowledged, chunks
are stored in log order, and `chain` returns once every chunk is acknowledged. The
last chunk's store carries on in the background, overlapping the caller's reading of
the next batch; `settle` (which the next `chain` of the partition begins with) waits
for it.

A crash after 3 leaves records the store does not know; step 1 of the next batch
applies them before chaining anything, and step 2 then drops the redelivered entries,
so no record is written twice and no head forks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from dealpulse.audit.v1 import events_pb2 as events
from services.audit.adapters.messages import draft_from_entry
from services.audit.adapters.store import AuditStore, LogPosition
from services.audit.domain.audit_log import AuditDraft, AuditRecord, ChainHead, append_validated, validate_draft
from services.audit.domain.errors import InvalidCommand

log = logging.getLogger(__name__)

# Records handled between returns to the event loop while chaining: a batch is tens
# of milliseconds of CPU, and replies for the acknowledgements and stores running
# meanwhile would otherwise wait for all of it before their next step.
YIELD_EVERY = 250


class LogWriter(Protocol):
    async def send(
        self, partition: int, records: list[AuditRecord], entries: list[bytes]
    ) -> asyncio.Future[list[LogPosition]]:
        """Append in order to that partition; the future gives the positions once
        acknowledged. `entries` are the serialized `AuditEntry`s the records were
        chained from, so the writer reuses them instead of encoding each record again."""
        ...


class LogReader(Protocol):
    async def end_offset(self, partition: int) -> int:
        """The offset the next record of the partition will get."""
        ...

    def read(self, partition: int, start: int, end: int) -> AsyncIterator[tuple[AuditRecord, LogPosition]]:
        """The records at offsets start <= offset < end, in order."""
        ...


@dataclass
class ChainResult:
    records: list[AuditRecord] = field(default_factory=list)
    # Entries already chained (a redelivery, a retried Record call): recorded once.
    duplicates: int = 0
    # Entries no chain can hold, with why: for the dead-letter topic.
    rejected: list[tuple[int, str]] = field(default_factory=list)
    # Records found on the log that the store did not reflect yet.
    recovered: int = 0


class AuditChainer:
    def __init__(
        self, store: AuditStore, writer: LogWriter, reader: LogReader, catch_up_batch: int = 2000, chunk: int = 1000
    ) -> None:
        self._store = store
        self._writer = writer
        self._reader = reader
        self._catch_up_batch = catch_up_batch
        self._chunk = chunk
        # Per log partition: the background store of the last chunk written.
        self._storing: dict[int, asyncio.Task] = {}

    def unsettled(self) -> list[int]:
        """The log partitions whose last written chunk may not be stored yet."""
        return list(self._storing)

    async def settle(self, partition: int) -> int:
        """Bring the store up to log partition `partition`: wait for the background
        store of the last chunk written there, then apply what the log holds beyond
        the store (what a failed store or a crashed writer left). Returns how many
        records came from the log."""
        storing = self._storing.pop(partition, None)
        if storing is not None:
            try:
                await storing
            except Exception:
                # The records are on the log: catching up stores them.
                log.warning(
                    "storing audit records of log partition %d failed; applying them from the log",
                    partition,
                    exc_info=True,
                )
        return await self.catch_up(partition)

    async def catch_up(self, partition: int) -> int:
        """Apply what log partition `partition` holds beyond the store; returns how many."""
        end = await self._reader.end_offset(partition)
        start = await self._store.log_offset(partition) + 1
        if start >= end:
            return 0
        applied = 0
        batch: list[tuple[AuditRecord, LogPosition]] = []
        async for placed in self._reader.read(partition, start, end):
            batch.append(placed)
            if len(batch) >= self._catch_up_batch:
                applied += await self._store.apply(batch)
                batch = []
        applied += await self._store.apply(batch)
        return applied

    async def chain(
        self, partition: int, entries: list[events.AuditEntry], encoded: list[bytes] | None = None
    ) -> ChainResult:
        """Chain and write one batch of one intake partition, in order; returns once
        every record is on the log (the last chunk may still be being stored: see
        `settle`). `encoded`, when given, holds the entries as they were read (their
        serialized form, reused on the log). `rejected` holds the indexes (into
        `entries`) of entries that cannot be chained."""
        result = ChainResult()
        drafts: list[tuple[int, AuditDraft]] = []
        for index, entry in enumerate(entries):
            if index % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)
            try:
                draft = draft_from_entry(entry)
                # Validated once, here: one that cannot be chained is rejected without
                # moving the head.
                validate_draft(draft)
            except InvalidCommand as exc:
                result.rejected.append((index, str(exc)))
                continue
            drafts.append((index, draft))
        # Reading the entries above overlapped with the previous batch's last store.
        result.recovered = await self.settle(partition)
        if not drafts:
            return result
        ids_of: dict[str, dict[str, None]] = {}
        for _, draft in drafts:
            ids_of.setdefault(draft.tenant_id, {})[draft.event_id] = None
        heads: dict[str, ChainHead] = await self._store.heads(ids_of)
        known = await self._store.chained_of_tenants({tenant: list(ids) for tenant, ids in ids_of.items()})
        # In chunks, so that waiting for the broker's acknowledgement of chunk k and
        # storing it (the broker's and Redis' time, other processes) overlap with
        # chaining chunk k+1 (our CPU). Chunk k+1 is sent only once chunk k is
        # acknowledged, and the chunks are stored in log order; when storing fails,
        # the records written past the store's offset are on the log, where the next
        # attempt's catch-up finds them.
        storing: asyncio.Task | None = None
        sending: tuple[asyncio.Future, list[AuditRecord], list[bytes]] | None = None
        try:
            for start in range(0, len(drafts), self._chunk):
                records: list[AuditRecord] = []
                canonicals: list[bytes] = []
                chained_entries: list[bytes] = []
                for position, (index, draft) in enumerate(drafts[start : start + self._chunk], 1):
                    if position % YIELD_EVERY == 0:
                        await asyncio.sleep(0)
                    seen = known[draft.tenant_id]
                    if draft.event_id in seen:
                        result.duplicates += 1
                        continue
                    record, canonical = append_validated(heads[draft.tenant_id], draft)
                    heads[draft.tenant_id] = ChainHead.of(record)
                    seen.add(draft.event_id)
                    records.append(record)
                    canonicals.append(canonical)
                    chained_entries.append(encoded[index] if encoded is not None else entries[index].SerializeToString())
                if not records:
                    continue
                if sending is not None:
                    storing = await self._acknowledged(sending, storing)
                    result.records.extend(sending[1])
                sending = (await self._writer.send(partition, records, chained_entries), records, canonicals)
            if sending is not None:
                storing = await self._acknowledged(sending, storing)
                result.records.extend(sending[1])
                sending = None
            if storing is not None:
                self._storing[partition] = storing
        except BaseException as failure:
            # Nothing outlives a failed call: what was sent is acknowledged or failed,
            # and storing finishes (what it stores is on the log already) unless the
            # worker itself is being cancelled.
            pending = [task for task in (storing, sending[0] if sending else None) if task is not None]
            if isinstance(failure, asyncio.CancelledError):
                for task in pending:
                    task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            raise
        return result

    async def _acknowledged(
        self, sending: tuple[asyncio.Future, list[AuditRecord], list[bytes]], storing: asyncio.Task | None
    ) -> asyncio.Task:
        """Wait for a sent chunk's acknowledgement, then store it after the chunks before it."""
        acknowledged, records, canonicals = sending
        positions = await acknowledged
        return asyncio.create_task(self._store_after(storing, list(zip(records, positions)), canonicals))

    async def _store_after(
        self, previous: asyncio.Task | None, placed: list[tuple[AuditRecord, LogPosition]], canonicals: list[bytes]
    ) -> None:
        if previous is not None:
            await previous
        await self._store.apply(placed, canonicals)
