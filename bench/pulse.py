"""Benchmark of the pulse worker next to raw aiokafka, in one run on the same broker.

    python -m bench.pulse [--reps 2000] [--days 5] [--rate 20000] [--live-seconds 2] [--seed 1]
                          [--batch-records 5000] [--no-write]

Synthetic activities (per rep and working day: two visits = check-in, requirement note,
check-out; plus calls and emails; 20 events) for tenants of 100 reps each, keyed
`<tenant>/<rep>`, in event-time order, on a fresh 12-partition bench topic. Each worker
runs in its own process (`python -m bench.pulse worker ...`: the production `PulseWorker`,
only its topics changed) and publishes to fresh bench output topics.

1. Baseline: a raw aiokafka consumer reads the N records and decodes each envelope and
   ActivityEvent: events/s.
2. One worker drains the same N records (backlog): events/s = N / (first to last record
   consumed, from the worker's /stats polled every 20 ms), CPU seconds of the process.
3. Live latency: with that worker caught up, L more activities (the next days) are
   produced at --rate events/s. For every indicator change the worker publishes,
   latency = its record timestamp - the record timestamp of the input it names as its
   cause (`cause_event_id`; both stamped by producers on this machine's clock):
   p50/p99/max, the issue's event → indicator figure; the same for visit verdicts (their
   `cause_event_id`), which the worker holds back for up to a second while input is waiting
   (see services/pulse/adapters/worker.py). The worker's CPU share during the burst is noted
   (a starved worker queues).
4. Scale-out: two worker processes, loaded first and then let into one group at the same
   moment, drain the N + L records from the start. The local broker runs with
   group.initial.rebalance.delay.ms=0 (fast tests), so the first to join usually starts
   alone and the second's arrival rebalances the group mid-stream (both rebuild from the
   log). events/s counts from the moment both own partitions and have caught up with their
   replay to the moment the group has committed every record (the workers commit a batch
   once its outputs are acknowledged), over the records the workers processed live in
   between (their counters; see `drain`). Then the final verdict of
   every visit and the final value of every indicator scope the pair published are
   compared with the single worker's: must be identical. (A worker joining mid-stream is
   tested in tests/integration/test_pulse_worker.py.)

Results are appended to bench/results/pulse.md and written to bench/results/pulse.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from dealpulse.activity.v1 import events_pb2 as activity_pb
from dealpulse.pulse.v1 import events_pb2 as pulse_pb
from kernel.config import Settings
from kernel.envelope import Envelope, decode, deterministic_event_id
from kernel.topics import PULSE_INDICATOR_CHANGED, PULSE_VISIT_VERDICT, TopicSpec
from services.pulse.adapters.worker import BATCH_RECORDS, reached

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PARTITIONS = 12
REPS_PER_TENANT = 100
START = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)  # Monday 08:30 in Shanghai


def bench_specs(run_id: str) -> dict[str, TopicSpec]:
    def spec(kind: str, schema: str, partitions: int = PARTITIONS) -> TopicSpec:
        return TopicSpec(name=f"bench.pulse{kind}.p{run_id}.v1", owner="bench", key="<tenant>/<rep>", schema=schema,
                         summary="bench", partitions=partitions, consumed=True)

    return {
        "activity": spec("activity", "dealpulse.activity.v1.ActivityEvent"),
        "verdicts1": spec("verdictsa", PULSE_VISIT_VERDICT.schema),
        "indicators1": spec("indicatorsa", PULSE_INDICATOR_CHANGED.schema),
        "verdicts2": spec("verdictsb", PULSE_VISIT_VERDICT.schema),
        "indicators2": spec("indicatorsb", PULSE_INDICATOR_CHANGED.schema),
        "master": spec("master", "dealpulse.actions.v1.AccountEvent", 1),
    }


# ---------------------------------------------------------------- synthetic activities


def day_of_rep(rng: random.Random, tenant: str, rep: str, day: datetime, seq: list[int]) -> list[activity_pb.ActivityEvent]:
    """20 activities: two visits (check-in, note, check-out) and 14 calls/emails."""
    out = []

    def new(kind: str, at: datetime, customer: str = "") -> activity_pb.ActivityEvent:
        seq[0] += 1
        source_id = f"{rep}-{seq[0]}"
        event = activity_pb.ActivityEvent(
            tenant_id=tenant, activity_id=deterministic_event_id(tenant, "csv", source_id),
            source=activity_pb.ACTIVITY_SOURCE_CSV, source_id=source_id, rep_id=rep, customer_id=customer,
        )
        event.occurred_at.FromDatetime(at)
        event.evidence.update({"row": seq[0], "origin": "bench"})
        if kind == "check_in":
            event.check_in.location.latitude = 31.0 + rng.random()
            event.check_in.location.longitude = 121.0 + rng.random()
        elif kind == "check_out":
            event.check_out.SetInParent()
        elif kind == "note":
            event.requirement_note.text = "needs"
        elif kind == "call":
            event.call.duration_seconds = rng.choice((0, 45, 180, 600))
        else:
            event.email.direction = rng.choice((activity_pb.EMAIL_DIRECTION_OUTBOUND, activity_pb.EMAIL_DIRECTION_INBOUND))
        out.append(event)
        return event

    at = day + timedelta(minutes=rng.randint(0, 30))
    for visit in range(2):
        customer = f"c{rng.randint(1, 500)}"
        new("check_in", at, customer)
        new("note", at + timedelta(minutes=rng.randint(5, 15)), customer)
        at += timedelta(minutes=rng.randint(20, 45))
        new("check_out", at)
        for _ in range(7):
            at += timedelta(minutes=rng.randint(3, 12))
            new(rng.choice(("call", "call", "email")), at)
    return out


def generate(reps: int, days: int, seed: int, first_day: int = 0) -> list[activity_pb.ActivityEvent]:
    rng = random.Random(seed)
    events: list[activity_pb.ActivityEvent] = []
    for d in range(first_day, first_day + days):
        day = START + timedelta(days=d)
        for r in range(reps):
            tenant = f"bench-{seed}-t{r // REPS_PER_TENANT}"
            events += day_of_rep(rng, tenant, f"rep{r}", day, [d * 1000 + r * 100000])
    events.sort(key=lambda e: (e.occurred_at.seconds, e.activity_id))
    return events


def encoded(spec: TopicSpec, events) -> list[tuple[bytes, bytes, list, str]]:
    out = []
    for event in events:
        envelope = Envelope.for_topic(spec, source="bench", subject=event.rep_id, tenant_id=event.tenant_id,
                                      time=event.occurred_at.ToDatetime().replace(tzinfo=UTC), event_id=event.activity_id)
        out.append((f"{event.tenant_id}/{event.rep_id}".encode(), event.SerializeToString(), envelope.to_headers(),
                    event.activity_id))
    return out


async def produce(bootstrap: str, topic: str, records, rate: float | None = None) -> dict[str, int]:
    """Send all records (paced at `rate`/s when given); the CreateTime (ms) of each activity id."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=512 * 1024)
    await producer.start()
    stamps: dict[str, int] = {}
    try:
        chunk = 500
        started = time.perf_counter()
        for i in range(0, len(records), chunk):
            if rate:
                due = started + i / rate
                if (wait := due - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)
            futures = []
            for key, value, headers, activity_id in records[i : i + chunk]:
                now_ms = int(time.time() * 1000)
                stamps[activity_id] = now_ms
                futures.append(await producer.send(topic, value=value, key=key, headers=headers, timestamp_ms=now_ms))
            await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return stamps


async def raw_consume(bootstrap: str, topic: str, expected: int) -> dict:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_bytes=32 * 1024 * 1024,
                                max_partition_fetch_bytes=4 * 1024 * 1024)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        count, first = 0, None
        while count < expected:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            first = first or time.perf_counter()
            for records in batch.values():
                for record in records:
                    decode(activity_pb.ActivityEvent, record.value, record.headers)
                    count += 1
        elapsed = time.perf_counter() - first
    finally:
        await consumer.stop()
    return {"events": count, "seconds": round(elapsed, 3), "events_per_s": round(count / elapsed)}


# ---------------------------------------------------------------- worker processes


def start_worker(specs: dict, group: str, port: int, outputs: str, batch_records: int,
                 start_when: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'gen' / 'python'}", "OTEL_SDK_DISABLED": "true"}
    args = [sys.executable, "-m", "bench.pulse", "worker", "--run-specs", json.dumps({k: v.name for k, v in specs.items()}),
            "--group", group, "--port", str(port), "--outputs", outputs, "--batch-records", str(batch_records)]
    if start_when is not None:
        args += ["--start-when", str(start_when)]
    (ROOT / ".run" / "logs").mkdir(parents=True, exist_ok=True)
    log = open(ROOT / ".run" / "logs" / f"bench-pulse-worker-{port}.log", "wb")
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def stats(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=1) as reply:
            return json.loads(reply.read())
    except OSError:
        return None


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drain(bootstrap: str, admin: AIOKafkaAdminClient, group: str, topic: TopicSpec, ports: list[int],
                pids: list[int], events: int | None = None, timeout: float = 600) -> dict:
    """Waits until `group` has committed every record of `topic` (a worker commits a batch
    once its outputs are acknowledged, verdicts it held back included). With `events`, the
    clock runs from the first record consumed (the workers' /stats, polled every 20 ms);
    without, from the moment every worker owns partitions and has caught up with its
    replay, over the records the workers processed live from then on (their `consumed`
    counters) — the steady rate after the group settled, not the rebuild a join costs. Not
    the records uncommitted then: a worker commits a batch only once the verdicts it holds
    back (up to a second) are published, so those include records already processed."""
    partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
    ends = await end_offsets(bootstrap, partitions)
    first = done = None
    cpu_start: list[float] = []
    deadline = time.perf_counter() + timeout
    found: list[dict] = []
    while time.perf_counter() < deadline:
        found = [stats(p) or {} for p in ports]
        if first is None:
            if events is not None and sum(s.get("consumed", 0) for s in found) > 0:
                first = time.perf_counter()
            elif events is None and all(s.get("ready") and s.get("assigned") for s in found):
                first = time.perf_counter()
                consumed_before = [s.get("consumed", 0) for s in found]
            if first is not None:
                cpu_start = [cpu_seconds(pid) for pid in pids]
        if first is not None:
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
            if all(committed.get(tp) is not None and committed[tp].offset >= end for tp, end in ends.items()):
                done = time.perf_counter()
                break
        await asyncio.sleep(0.02)
    if done is None:
        raise RuntimeError(f"group {group} did not commit {ends} in {timeout}s: {found}")
    if events is None:
        events = sum(s.get("consumed", 0) - before for s, before in zip(found, consumed_before, strict=True))
    elapsed = done - first
    cpu = [round(cpu_seconds(pid) - c, 2) for pid, c in zip(pids, cpu_start, strict=True)]
    return {"events": events, "seconds": round(elapsed, 3), "events_per_s": round(events / elapsed),
            "events_per_cpu_second": round(events / sum(cpu)) if sum(cpu) else None, "cpu_seconds": cpu,
            "cpu_percent_of_one_core": [round(100 * c / elapsed) for c in cpu],
            "per_worker": [{k: s.get(k) for k in ("consumed", "replayed", "verdicts_published",
                                                   "indicator_changes_published", "dead_lettered", "assigned")}
                           for s in found]}


async def end_offsets(bootstrap: str, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        return await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()


async def read_outputs(bootstrap: str, verdicts: TopicSpec, indicators: TopicSpec) -> tuple[dict, dict, list]:
    """Final verdict per visit and final indicator per scope, plus (timestamp, cause) pairs."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_bytes=32 * 1024 * 1024)
    await consumer.start()
    final_verdicts, final_indicators = {}, {}
    stamps: dict[str, list] = {"verdicts": [], "indicators": []}
    try:
        partitions = [TopicPartition(s.name, p) for s in (verdicts, indicators) for p in range(s.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while not await reached(consumer, {tp: end for tp, end in ends.items() if end}):
            for tp, records in (await consumer.getmany(timeout_ms=500, max_records=10000)).items():
                for r in records:
                    if tp.topic == verdicts.name:
                        _, v = decode(pulse_pb.VisitVerdict, r.value, r.headers)
                        final_verdicts[(v.tenant_id, v.visit_id)] = (v.effective, v.decided, tuple(v.reasons), v.on_site_seconds)
                        stamps["verdicts"].append((r.timestamp, v.cause_event_id))
                    else:
                        _, i = decode(pulse_pb.IndicatorChanged, r.value, r.headers)
                        value = i.value if i.HasField("value") else None
                        final_indicators[(i.tenant_id, i.indicator, i.scope, i.window)] = (value, i.state)
                        stamps["indicators"].append((r.timestamp, i.cause_event_id))
    finally:
        await consumer.stop()
    return final_verdicts, final_indicators, stamps


def latency_of(stamps: list, sent_at: dict[str, int]) -> dict:
    """Output timestamp - its cause's send time (for causes produced in the burst)."""
    found = [ts - sent_at[cause] for ts, cause in stamps if cause in sent_at]
    if not found:
        return {"samples": 0}
    return {"samples": len(found), "p50_ms": percentile(found, 0.5), "p99_ms": percentile(found, 0.99),
            "max_ms": max(found)}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))]


async def faust_take_rate(bootstrap: str, topic: str, expected: int) -> dict:
    """Faust `stream.take` over the same topic in a child process (consumption only)."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'gen' / 'python'}"}
    out = subprocess.run([sys.executable, "-m", "bench.pulse", "faust-take", "--topic", topic, "--expected", str(expected)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not line:
        return {"error": (out.stdout + out.stderr)[-500:]}
    return json.loads(line[-1])


# ---------------------------------------------------------------- the run


def settle_heap() -> None:
    """Freezes this process's millions of generated records, so the collector's full runs
    do not pause the producer (a pause between stamping a record and sending it would count
    as worker latency) or the raw consumer."""
    gc.collect()
    gc.freeze()



async def run(args: argparse.Namespace) -> dict:
    settings = Settings()
    bootstrap = settings.kafka_bootstrap
    run_id = uuid.uuid4().hex[:8]
    specs = bench_specs(run_id)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(s.name, s.partitions, 1) for s in specs.values()]
                              + [NewTopic(specs["activity"].dead_letter.name, 1, 1)])
    processes: list[subprocess.Popen] = []
    try:
        backlog = generate(args.reps, args.days, args.seed)
        kinds: dict[str, int] = {}
        for e in backlog:
            kinds[e.WhichOneof("activity")] = kinds.get(e.WhichOneof("activity"), 0) + 1
        records = encoded(specs["activity"], backlog)
        n = len(records)
        settle_heap()
        print(f"producing {n} activities", flush=True)
        t = time.perf_counter()
        await produce(bootstrap, specs["activity"].name, records)
        produce_rate = round(n / (time.perf_counter() - t))

        print("raw aiokafka baseline", flush=True)
        raw = await raw_consume(bootstrap, specs["activity"].name, n)

        print("one worker", flush=True)
        single_group, pair_group = f"bench-pulse-{run_id}-a", f"bench-pulse-{run_id}-b"
        one = start_worker(specs, single_group, 16101, "1", args.batch_records)
        processes.append(one)
        single = await drain(bootstrap, admin, single_group, specs["activity"], [16101], [one.pid], n)
        print(f"  raw {raw['events_per_s']} ev/s, one worker {single['events_per_s']} ev/s", flush=True)

        print("live latency", flush=True)
        live = generate(args.reps, args.live_days, args.seed, first_day=args.days)
        live = live[: int(args.rate * args.live_seconds)]
        live_records = encoded(specs["activity"], live)
        settle_heap()
        t, cpu_before = time.perf_counter(), cpu_seconds(one.pid)
        sent_at = await produce(bootstrap, specs["activity"].name, live_records, rate=args.rate)
        offered = round(len(live_records) / (time.perf_counter() - t))
        await drain(bootstrap, admin, single_group, specs["activity"], [16101], [one.pid], len(live_records))
        burst_cpu = round(100 * (cpu_seconds(one.pid) - cpu_before) / (time.perf_counter() - t))
        await asyncio.sleep(1.0)
        verdicts_1, indicators_1, stamps = await read_outputs(bootstrap, specs["verdicts1"], specs["indicators1"])
        latency = {"offered_rate_per_s": offered, "indicators": latency_of(stamps["indicators"], sent_at),
                   "verdicts": latency_of(stamps["verdicts"], sent_at),
                   "worker_cpu_percent_of_one_core": burst_cpu}
        print(f"  latency {latency}", flush=True)
        one.terminate()
        one.wait(30)

        print("two workers", flush=True)
        go = Path(tempfile.mkdtemp()) / "go"
        pair = [start_worker(specs, pair_group, port, "2", args.batch_records, start_when=go) for port in (16102, 16103)]
        processes += pair
        # Both processes are loaded before either joins the group, so their joins are close;
        # the rate counts from the moment both own partitions and have caught up with any replay.
        while not all(stats(p) for p in (16102, 16103)):
            await asyncio.sleep(0.05)
        go.touch()
        scale = await drain(bootstrap, admin, pair_group, specs["activity"], [16102, 16103], [p.pid for p in pair])
        await asyncio.sleep(1.0)
        verdicts_2, indicators_2, _ = await read_outputs(bootstrap, specs["verdicts2"], specs["indicators2"])
        print(f"  two workers {scale['events_per_s']} ev/s", flush=True)
        for p in pair:
            p.terminate()
            p.wait(30)
        identical = verdicts_1 == verdicts_2 and indicators_1 == indicators_2
        differences = {"verdicts": sum(verdicts_1.get(k) != verdicts_2.get(k) for k in verdicts_1.keys() | verdicts_2.keys()),
                       "indicator_scopes": sum(indicators_1.get(k) != indicators_2.get(k)
                                               for k in indicators_1.keys() | indicators_2.keys())}
        print("faust stream.take", flush=True)
        faust = await faust_take_rate(bootstrap, specs["activity"].name, n + len(live_records))
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
        await admin.delete_topics([s.name for s in specs.values()] + [specs["activity"].dead_letter.name])
        await admin.close()
    return {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "command": "python -m bench.pulse " + shlex.join(sys.argv[1:]),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                    "aiokafka": metadata.version("aiokafka"), "faust": metadata.version("faust-streaming")},
        "events": n, "mix": kinds, "live_events": len(live_records), "produce_rate_per_s": produce_rate,
        "raw_aiokafka": raw, "one_worker": single, "faust_take": faust, "live_latency": latency,
        "two_workers": scale,
        "scale_out_speedup": round(scale["events_per_s"] / single["events_per_s"], 2),
        "identical_results": identical,
        "differences": differences,
        "outputs": {"verdicts": len(verdicts_1), "indicator_scopes": len(indicators_1)},
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def write_results(result: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pulse.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    raw, one, two, lat = result["raw_aiokafka"], result["one_worker"], result["two_workers"], result["live_latency"]
    faust = result["faust_take"]
    ind, ver = lat["indicators"], lat["verdicts"]
    lines = [
        f"\n## {result['when']}\n",
        f"`{result['command']}` — {result['machine']}\n",
        f"N = {result['events']} activities ({result['mix']}), then {result['live_events']} live at "
        f"{lat['offered_rate_per_s']} ev/s offered. Produced (acks=all) at {result['produce_rate_per_s']:,} ev/s.\n",
        "| figure | events/s | note |",
        "|---|---|---|",
        f"| raw aiokafka consume + decode | {raw['events_per_s']:,} | same topic, same broker, this run |",
        f"| Faust `stream.take(2000, 0.05 s)`, consume only | {faust.get('events_per_s', 'n/a')} | {faust.get('error', '')[:80]} |",
        f"| pulse worker, 1 process (ingestion → indicator) | {one['events_per_s']:,} | CPU {one['cpu_percent_of_one_core']} % of one core; {one['events_per_cpu_second']:,} events per CPU-second |",
        f"| pulse worker, 2 processes, one group | {two['events_per_s']:,} | {two['events']:,} records processed live after the second joined and both caught up; CPU {two['cpu_percent_of_one_core']} %; speed-up {result['scale_out_speedup']}×; {two['events_per_cpu_second']:,} events per CPU-second |",
        "",
        f"- Live event → indicator latency (record timestamps, from each change's cause): p50 {ind.get('p50_ms')} ms, "
        f"p99 {ind.get('p99_ms')} ms, max {ind.get('max_ms')} ms over {ind.get('samples')} changes; the worker used "
        f"{lat['worker_cpu_percent_of_one_core']} % of one core meanwhile.",
        f"- Live event → verdict latency (from each verdict's cause): p50 "
        f"{ver.get('p50_ms')} ms, p99 {ver.get('p99_ms')} ms, max {ver.get('max_ms')} ms over {ver.get('samples')} verdicts.",
        f"- Two workers vs one: identical final verdicts and indicator values: **{result['identical_results']}** "
        f"({result['outputs']['verdicts']} visits, {result['outputs']['indicator_scopes']} indicator scopes; "
        f"{result['differences']}); the pair replayed {[w['replayed'] for w in two['per_worker']]} records rebuilding.",
        f"- Machine load while running (1-min load average, 2 cores): {result.get('load_average')}.",
    ]
    with open(RESULTS / "pulse.md", "a") as out:
        out.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------- child processes


def worker_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run-specs", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--outputs", required=True)
    parser.add_argument("--start-when", type=Path, help="join the group once this file exists")
    parser.add_argument("--batch-records", type=int, required=True)
    args = parser.parse_args(argv)
    import logging

    from aiohttp import web

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    from services.pulse.adapters.tenant_settings import TenantSettingsStore
    from services.pulse.adapters.worker import PulseWorker

    names = json.loads(args.run_specs)
    run_id = names["activity"].rsplit(".p", 1)[1].split(".")[0]
    specs = bench_specs(run_id)

    async def main() -> None:
        worker = PulseWorker(Settings().kafka_bootstrap, TenantSettingsStore(None), group_id=args.group,
                             activity_topic=specs["activity"], master_topics=(specs["master"],),
                             verdict_topic=specs[f"verdicts{args.outputs}"], indicator_topic=specs[f"indicators{args.outputs}"],
                             client_id=f"bench-pulse-{args.port}", batch_records=args.batch_records)
        app = web.Application()

        async def stats_page(request):
            from dataclasses import asdict

            return web.json_response(asdict(worker.stats))

        app.router.add_get("/stats", stats_page)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", args.port).start()
        while args.start_when is not None and not args.start_when.exists():
            await asyncio.sleep(0.01)
        await worker.start()
        stopping = asyncio.Event()
        import signal

        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
        try:
            await worker.run(stopping)
        finally:
            await worker.stop()
            await runner.cleanup()

    asyncio.run(main())


def faust_take_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--topic", required=True)
    parser.add_argument("--expected", type=int, required=True)
    args = parser.parse_args(argv)
    import faust

    name = f"bench-pulse-take-{uuid.uuid4().hex[:6]}"
    app = faust.App(name, broker=f"kafka://{Settings().kafka_bootstrap}", datadir=Path(tempfile.gettempdir()) / name,
                    store="memory://", web_port=16199, consumer_auto_offset_reset="earliest",
                    topic_replication_factor=1, topic_disable_leader=True)
    topic = app.topic(args.topic, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
                      partitions=PARTITIONS)
    state = {"n": 0, "t0": None}

    @app.agent(topic)
    async def consume(stream):
        async for batch in stream.take(2000, within=0.05):
            state["t0"] = state["t0"] or time.perf_counter()
            state["n"] += len(batch)
            if state["n"] >= args.expected:
                elapsed = time.perf_counter() - state["t0"]
                line = json.dumps({"events": state["n"], "seconds": round(elapsed, 3),
                                   "events_per_s": round(state["n"] / elapsed)})
                os.write(1, (line + "\n").encode())  # Faust redirects sys.stdout to its logger
                os._exit(0)

    sys.argv = [sys.argv[0]]
    faust.Worker(app, loglevel="error").execute_from_commandline()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        return worker_main(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "faust-take":
        return faust_take_main(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--live-days", type=int, default=1)
    parser.add_argument("--rate", type=float, default=20000)
    parser.add_argument("--live-seconds", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-records", type=int, default=BATCH_RECORDS, help="the workers' largest batch")
    parser.add_argument("--no-write", action="store_true", help="print the figures, leave bench/results alone")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2, default=str))
    if not args.no_write:
        write_results(result)


if __name__ == "__main__":
    main()
