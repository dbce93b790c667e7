"""The chain writer: turns a batch of audit entries from one intake partition into
hash-chained records on the same partition of `audit.record.v1`, then applies them to
the store.

One writer per tenant chain: the intake is keyed by tenant, so the consumer owning
intake partition p sees every entry of the tenants on p, and it writes their records to
log partition p only. The order of work makes a crash at any point safe:

1. Catch up: records on log partition p past the store's offset (written by a writer
   that crashed before applying them) are applied first, so heads and known ids are
   the log's.
2. Chain: entries whose event id is already chained (a redelivery) are dropped; the
   rest are appended to their tenant's head.
3. Write the records to the log and wait for the broker's acknowledgement.
4. Apply them to the store in one transaction (heads, ids, indexes, log offset).
5. The caller commits the intake offsets.

A crash after 3 leaves records the store does not know; step 1 of the next batch (in
whichever process owns the partition then) applies them before chaining anything, and
step 2 then drops the redelivered entries, so no record is written twice and no head
forks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from dealpulse.audit.v1 import events_pb2 as events
from services.audit.adapters.messages import draft_from_entry
from services.audit.adapters.store import AuditStore, LogPosition
from services.audit.domain.audit_log import AuditDraft, AuditRecord, ChainHead, append
from services.audit.domain.errors import InvalidCommand


class LogWriter(Protocol):
    async def write(self, partition: int, records: list[AuditRecord]) -> list[LogPosition]:
        """Append in order to that partition; positions once acknowledged."""
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
    def __init__(self, store: AuditStore, writer: LogWriter, reader: LogReader, catch_up_batch: int = 2000) -> None:
        self._store = store
        self._writer = writer
        self._reader = reader
        self._catch_up_batch = catch_up_batch

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

    async def chain(self, partition: int, entries: list[events.AuditEntry]) -> ChainResult:
        """Chain, write and store one batch of one intake partition, in order.
        `rejected` holds the indexes (into `entries`) of entries that cannot be chained."""
        result = ChainResult(recovered=await self.catch_up(partition))
        drafts: list[tuple[int, AuditDraft]] = []
        for index, entry in enumerate(entries):
            try:
                drafts.append((index, draft_from_entry(entry)))
            except InvalidCommand as exc:
                result.rejected.append((index, str(exc)))
        if not drafts:
            return result
        tenants = list(dict.fromkeys(d.tenant_id for _, d in drafts))
        heads: dict[str, ChainHead] = await self._store.heads(tenants)
        known: dict[str, set[str]] = {}
        for tenant in tenants:
            ids = list({d.event_id for _, d in drafts if d.tenant_id == tenant and isinstance(d.event_id, str)})
            known[tenant] = set(await self._store.chained(tenant, ids))
        for index, draft in drafts:
            seen = known.get(draft.tenant_id, set())
            if draft.event_id in seen:
                result.duplicates += 1
                continue
            try:
                # `append` validates the draft; one that cannot be chained is rejected
                # without moving the head.
                record = append(heads[draft.tenant_id], draft)
            except InvalidCommand as exc:
                result.rejected.append((index, str(exc)))
                continue
            heads[draft.tenant_id] = ChainHead.of(record)
            seen.add(draft.event_id)
            result.records.append(record)
        result.rejected.sort()
        if result.records:
            positions = await self._writer.write(partition, result.records)
            await self._store.apply(list(zip(result.records, positions)))
        return result
