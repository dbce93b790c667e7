"""Benchmarks of the audit service, next to raw aiokafka in the same run.

    python -m bench.audit [--checks 3000] [--records 50000]

1. Policy decisions in-process: `PolicySet.decide` on the shipped SEC-SALES-2026-01
   for a mix of fields and states (the work Check does per field): p50/p99.
2. Check over gRPC: the real AuditService servicer on a local grpc.aio server with the
   kernel's AuthInterceptor, called sequentially through the generated stub with a
   bearer token. Each call also appends its audit entry to `audit.intake.v1` and waits
   for the broker's acknowledgement (acks=all), as in production: p50/p99.
3. Hash-chained append, one tenant on one partition, through the real path: N entries
   are produced to a fresh one-partition intake topic, then the chain writer
   (`ChainWorker` with the audit worker's settings — batch size, producer batch
   bytes, collector thresholds: consume, chain, write to a fresh log topic, apply to
   Redis, commit) is started and timed until the store's head reaches N: records/s.
   Also this process's CPU time per record over that window (on a shared machine the
   rate follows the share of a core the process gets; the CPU per record does not).
   Baseline in the same run: a raw aiokafka consumer reading and decoding the same N
   entries, and a raw aiokafka producer writing N records of the same size (acks=all).

Results are appended to bench/results/audit.md with the command that produced them.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import platform
import shlex
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import grpc
from aiokafka import AIOKafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from dealpulse.audit.v1 import audit_service_pb2 as pb
from dealpulse.audit.v1 import audit_service_pb2_grpc
from dealpulse.audit.v1 import events_pb2 as events
from kernel.auth import TokenVerifier, mint_token
from kernel.clock import SystemClock
from kernel.config import Settings
from kernel.envelope import decode
from kernel.grpc_server import AuthInterceptor, bearer_metadata
from kernel.kafka import EventPublisher
from kernel.redis_connection import connect_redis
from kernel.topics import AUDIT_INTAKE
from services.audit import bootstrap
from services.audit.adapters.chainer import AuditChainer
from services.audit.adapters.intake import AuditIntake
from services.audit.adapters.kafka_log import CHAIN_BATCH_BYTES, ChainWorker, KafkaAuditLog, new_producer, producer_send
from services.audit.adapters.messages import entry_from_draft
from services.audit.adapters.store import AuditStore
from services.audit.domain.audit_log import AuditDraft, Source

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "audit.md"
STATES = [
    ("grade", {"stage": "closed_won", "owner_id": "rep-1"}),
    ("contact_phone", {"stage": "closed_won", "owner_id": "rep-1"}),
    ("amount_cents", {"stage": "proposal", "owner_id": "rep-1"}),
    ("owner_id", {"stage": "proposal", "owner_id": "rep-2"}),
]


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": pick(0.50), "p99": pick(0.99), "max": ordered[-1], "mean": statistics.fmean(ordered)}


def bench_decide(iterations: int) -> dict[str, float]:
    policy_set = bootstrap.load_policies().for_tenant("bench")
    samples = []
    for i in range(iterations):
        field, state = STATES[i % len(STATES)]
        start = time.perf_counter()
        policy_set.decide(("rep",), "opportunity", state, field, actor_id="rep-1")
        samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


async def bench_check_grpc(settings: Settings, calls: int) -> dict[str, float]:
    # Built as bootstrap.run_grpc builds it.
    producer = new_producer(settings.kafka_bootstrap, "bench-audit-check", linger_ms=0)
    await producer.start()
    redis = connect_redis(settings)
    api = bootstrap.build_api(
        bootstrap.load_policies(), AuditIntake(EventPublisher(producer_send(producer), "bench")), AuditStore(redis), SystemClock()
    )
    server = grpc.aio.server(interceptors=[AuthInterceptor(TokenVerifier(settings))])
    bootstrap.register(api)(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    token = bearer_metadata(mint_token(settings, subject="rep-1", tenant="bench-audit", roles=["rep"]))
    samples = []
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = audit_service_pb2_grpc.AuditServiceStub(channel)
            for i in range(calls + 200):
                field, state = STATES[i % len(STATES)]
                request = pb.CheckRequest(
                    entity_type="opportunity",
                    entity_id=f"opp-{i}",
                    fields=[field],
                    record_state={k: pb.StateValue(string_value=v) for k, v in state.items()},
                )
                start = time.perf_counter()
                await stub.Check(request, metadata=token, timeout=5)
                if i >= 200:  # warm-up: connections, caches
                    samples.append((time.perf_counter() - start) * 1000)
    finally:
        await server.stop(None)
        await producer.stop()
        await redis.aclose()
    return percentiles(samples)


def draft(tenant: str, i: int, t0: datetime) -> AuditDraft:
    return AuditDraft(
        tenant_id=tenant,
        event_id=f"bench-{i}",
        actor_id=f"rep-{i % 40}",
        actor_roles=("rep",),
        entity_type="account",
        entity_id=f"acct-{i % 5000}",
        field="grade",
        before="B",
        after="A",
        occurred_at=t0 + timedelta(milliseconds=i),
        source=Source.API,
        reason="bench",
    )


async def bench_chain(settings: Settings, records: int) -> dict[str, float]:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    suffix = uuid.uuid4().hex[:10]
    intake_topic, log_topic = f"bench.audit.intake.x{suffix}.v1", f"bench.audit.record.x{suffix}.v1"
    admin.create_topics([NewTopic(t, num_partitions=1, replication_factor=1) for t in (intake_topic, log_topic)])
    tenant = f"bench-{suffix}"
    t0 = datetime.now(timezone.utc)
    producer = new_producer(settings.kafka_bootstrap, "bench-audit-chain", max_batch_size=CHAIN_BATCH_BYTES)
    await producer.start()
    redis = connect_redis(settings)
    figures: dict[str, float] = {"records": records}
    try:
        intake = AuditIntake(
            EventPublisher(producer_send(producer), "bench"), dataclasses.replace(AUDIT_INTAKE, name=intake_topic)
        )
        for start in range(0, records, 5000):
            await intake.submit([draft(tenant, i, t0) for i in range(start, min(records, start + 5000))])

        # Baseline 1: a raw consumer reads and decodes the same entries.
        consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False)
        await consumer.start()
        tp = TopicPartition(intake_topic, 0)
        consumer.assign([tp])
        consumer.seek(tp, 0)
        started, seen = time.perf_counter(), 0
        while seen < records:
            for message in (await consumer.getmany(tp, timeout_ms=1000, max_records=2000)).get(tp, []):
                decode(events.AuditEntry, message.value, message.headers)
                seen += 1
        figures["baseline_consume_per_s"] = records / (time.perf_counter() - started)
        await consumer.stop()

        # Baseline 2: a raw producer writes as many records of the same size.
        sample = entry_from_draft(draft(tenant, 0, t0)).SerializeToString() + b"x" * 150  # + chain fields
        started = time.perf_counter()
        pending = [await producer.send(log_topic, value=sample, key=tenant.encode(), partition=0) for _ in range(records)]
        await asyncio.gather(*pending)
        figures["baseline_produce_per_s"] = records / (time.perf_counter() - started)
        # The baseline wrote onto the log topic: use a fresh one for the real run.
        log_topic = f"bench.audit.record.y{suffix}.v1"
        admin.create_topics([NewTopic(log_topic, num_partitions=1, replication_factor=1)])

        audit_log = KafkaAuditLog(producer, settings.kafka_bootstrap, log_topic)
        await audit_log.start()
        store = AuditStore(redis, log_topic)
        worker = ChainWorker(
            settings.kafka_bootstrap, AuditChainer(store, audit_log, audit_log), producer,
            intake_topic=intake_topic, group_id=f"bench-chain-{suffix}",
        )
        await worker.start()
        bootstrap.tune_gc_for_chaining()  # as the audit worker does once its chain writer is started
        running = asyncio.create_task(worker.run())
        # Timed from the first record chained: joining the consumer group (seconds)
        # is start-up, not throughput.
        while (first := (await store.head(tenant)).sequence) < 1:
            await asyncio.sleep(0.005)
        started, cpu_started = time.perf_counter(), time.process_time()
        while (await store.head(tenant)).sequence < records:
            await asyncio.sleep(0.02)
        figures["chain_per_s"] = (records - first) / (time.perf_counter() - started)
        # This process's CPU per record (the chain writer is all it runs meanwhile): on
        # a shared machine the rate follows the share of a core we get, this does not.
        figures["chain_cpu_us"] = (time.process_time() - cpu_started) / (records - first) * 1e6
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await worker.stop()
        await audit_log.stop()
        admin.delete_topics([intake_topic, log_topic, f"bench.audit.record.x{suffix}.v1"])
        await _drop_tenant(redis, tenant)
    finally:
        await producer.stop()
        await redis.aclose()
        admin.close()
    return figures


async def _drop_tenant(redis, tenant: str) -> None:
    keys = [key async for key in redis.scan_iter(match=f"dealpulse:audit:{tenant}:*", count=1000)]
    for start in range(0, len(keys), 500):
        await redis.delete(*keys[start : start + 500])
    await redis.hdel("dealpulse:audit:heads", tenant)


def write_results(command: str, decide: dict, check: dict, chain: dict) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## {stamp}",
        "",
        f"Command: `{command}`  ",
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}, "
        "one local Kafka broker (KRaft) and Redis (AOF, fsync always) shared with other work; "
        f"load average at the end {' / '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores.",
        "",
        "| measure | target | result |",
        "|---|---|---|",
        f"| policy decision in-process p50 / p99 | p99 ≤ 1 ms | {decide['p50']:.4f} / {decide['p99']:.4f} ms |",
        f"| Check over gRPC (audited, acks=all) p50 / p99 | p99 ≤ 5 ms | {check['p50']:.2f} / {check['p99']:.2f} ms "
        f"(max {check['max']:.1f}) |",
        f"| hash-chained append, one tenant partition, {int(chain['records'])} records | ≥ 10,000/s | "
        f"{chain['chain_per_s']:,.0f} records/s ({chain['chain_cpu_us']:.0f} µs CPU per record) |",
        f"| baseline: raw aiokafka consume + decode of the same entries | — | {chain['baseline_consume_per_s']:,.0f}/s |",
        f"| baseline: raw aiokafka produce of as many records (acks=all) | — | {chain['baseline_produce_per_s']:,.0f}/s |",
        "",
    ]
    return "\n".join(lines) + "\n"


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=3000)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--decisions", type=int, default=100_000)
    args = parser.parse_args(argv)
    settings = Settings()
    decide = bench_decide(args.decisions)
    check = await bench_check_grpc(settings, args.checks)
    chain = await bench_chain(settings, args.records)
    command = "python -m bench.audit " + shlex.join(argv if argv is not None else sys.argv[1:])
    text = write_results(command.strip(), decide, check, chain)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as out:
        if out.tell() == 0:
            out.write("# Audit benchmarks\n\nProduced by `bench/audit.py`; newest last.\n\n")
        out.write(text)
    print(text)


if __name__ == "__main__":
    asyncio.run(main())
