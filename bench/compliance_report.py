"""Benchmark: the weekly compliance report from stream-maintained aggregates.

    python -m bench.compliance_report [--reps 2000] [--opportunities 200000] [--actions 5000000] [--seed 7] \
        [--batch-opportunities 400] [--redis-db 9] [--runs 20]

1. Aggregates. Synthetic `OpportunityEvent`s (protobuf, as on `actions.opportunity.v1`)
   for one fresh tenant — every opportunity on the shipped medical-devices template,
   owned by one of `--reps` reps in teams of 10, opened over six weeks, moving through
   lead -> qualification -> needs_diagnosis with template actions (valid and invalid,
   on time and late) and plain calls — are applied by the real aggregate code,
   `ReportingAggregator.apply_batch` (the method the Faust agent calls per batch of
   records), in batches of whole opportunities, to the real Redis. NOT through Kafka:
   records are handed to the aggregator directly, so the figure is the aggregator +
   Redis rate, not the stream's. `--actions` counts ActionRecorded events; opened and
   stage-changed events come on top.
2. Report. `ReportingService.compliance` + rendering for the busiest week: over every
   rep (what a director gets: the summary, missing actions counted), as JSON, CSV and
   XLSX separately; one team's drill-down (every missing action of its reps); and the
   same week as of mid-week (pending expectations counted per rep). `--runs` each,
   p50 and p95.

Everything goes to its own Redis database (`--redis-db`, default 9), so the running
workers' schedulers never see the bench tenant; it is flushed of the bench tenant's
keys afterwards. Results: bench/results/compliance_report.md and .json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from dealpulse.actions.v1 import events_pb2 as events
from kernel.clock import FixedClock
from kernel.config import Settings
from kernel.notifications import RedisOutbox
from kernel.redis_connection import connect_redis
from services.actions.adapters.reporting.store import PREFIX
from services.actions.adapters.messages import timestamp
from services.actions.adapters.read_models import Position
from services.actions.adapters.reporting import export
from services.actions.adapters.reporting.aggregator import ReportingAggregator
from services.actions.adapters.reporting.service import ReportingService
from services.actions.adapters.reporting.store import ReportingStore
from services.actions.domain.policy import DEFAULT_POLICY
from services.actions.domain.reporting.calendar import Week
from services.actions.domain.templates import load_catalogue
from services.actions.domain.templates.model import TemplateRef

RESULTS = Path(__file__).parent / "results"
TEMPLATE = load_catalogue().resolve(TemplateRef("medical_devices", 1), tenant_id="bench")
STAGES = ("lead", "qualification", "needs_diagnosis")
REPORT_WEEK = Week(2026, 10)
TEAM_SIZE = 10


async def policy_of(tenant):
    return DEFAULT_POLICY


async def template_of(tenant, ref):
    return TEMPLATE


class NoPublisher:
    async def publish(self, *args, **kwargs):
        raise AssertionError("the report benchmark publishes nothing")


def opportunity_events(tenant: str, n: int, owner: str, actions: int, rng: random.Random) -> list[events.OpportunityEvent]:
    start = REPORT_WEEK.start(DEFAULT_POLICY.zone) - timedelta(weeks=rng.randint(0, 5)) + timedelta(hours=rng.uniform(0, 160))
    opp = f"o{n}"

    def base(at):
        return dict(tenant_id=tenant, opportunity_id=opp, actor_id=owner, occurred_at=timestamp(at))

    out = [events.OpportunityEvent(**base(start), stall_threshold_seconds=172800, opened=events.OpportunityOpened(
        account_id=f"a{n}", name=f"Deal {n}", owner_id=owner, stage="lead", amount_cents=rng.randint(1, 500) * 1_000_00,
        currency="CNY", template_id=TEMPLATE.id, template_version=TEMPLATE.version))]
    at, stage_index, made = start, 0, 0
    while made < actions:
        stage = TEMPLATE.stage(STAGES[stage_index])
        for spec in stage.mandatory_actions:
            if made >= actions:
                break
            if rng.random() < 0.15:  # skipped: missing in the drill-down
                continue
            at = at + timedelta(hours=rng.uniform(1, spec.due_offset_hours * 1.3))
            valid = rng.random() < 0.85
            out.append(events.OpportunityEvent(**base(at), action_recorded=events.ActionRecorded(
                action_id=f"{opp}-{made}", kind=events.ACTION_KIND_NOTE, valid=valid, template_action_id=spec.id,
                stage=stage.id)))
            made += 1
        plain = min(actions - made, rng.randint(2, 5))
        for _ in range(plain):
            at = at + timedelta(hours=rng.uniform(1, 12))
            out.append(events.OpportunityEvent(**base(at), action_recorded=events.ActionRecorded(
                action_id=f"{opp}-{made}", kind=events.ACTION_KIND_CALL, call_duration_seconds=rng.randint(10, 900),
                valid=rng.random() < 0.8)))
            made += 1
        if stage_index + 1 < len(STAGES) and made < actions:
            at = at + timedelta(hours=rng.uniform(1, 24))
            out.append(events.OpportunityEvent(**base(at), stall_threshold_seconds=172800, stage_changed=events.StageChanged(
                from_stage=STAGES[stage_index], to_stage=STAGES[stage_index + 1], all_mandatory_verified=True)))
            stage_index += 1
    return out


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered), 3), "p95": round(p95, 3), "max": round(ordered[-1], 3), "runs": len(ordered)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--opportunities", type=int, default=200_000)
    parser.add_argument("--actions", type=int, default=5_000_000)
    parser.add_argument("--batch-opportunities", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--redis-db", type=int, default=9)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    settings = Settings()
    redis = connect_redis(settings.model_copy(update={"redis_url": settings.redis_url.rsplit("/", 1)[0] + f"/{args.redis_db}"}))
    tenant = f"bench-{int(time.time())}"
    store = ReportingStore(redis)
    aggregator = ReportingAggregator(store, policy_of, template_of)
    rng = random.Random(args.seed)
    per_opp, extra = divmod(args.actions, args.opportunities)

    counts = {"opened": 0, "action_recorded": 0, "stage_changed": 0}
    offset = 0
    applied_seconds = generate_seconds = slowest_batch = 0.0
    batches = 0
    wall = time.perf_counter()
    deleted = 0
    try:
        for rep in range(args.reps):
            await store.put_rep(tenant, f"rep{rep}", f"Rep {rep}", f"mgr{rep // TEAM_SIZE}")
        for first in range(0, args.opportunities, args.batch_opportunities):
            t0 = time.perf_counter()
            batch = []
            for n in range(first, min(first + args.batch_opportunities, args.opportunities)):
                for event in opportunity_events(tenant, n, f"rep{n % args.reps}", per_opp + (1 if n < extra else 0), rng):
                    offset += 1
                    counts[event.WhichOneof("change")] += 1
                    batch.append((event, Position(0, offset)))
            t1 = time.perf_counter()
            await aggregator.apply_batch(batch)
            took = time.perf_counter() - t1
            applied_seconds += took
            slowest_batch = max(slowest_batch, took)
            generate_seconds += t1 - t0
            batches += 1
            if batches % 25 == 0:
                print(f"{first + args.batch_opportunities:>7} opportunities, {offset:>8} events, "
                      f"{offset / applied_seconds:,.0f} ev/s applied, {time.perf_counter() - wall:,.0f} s", flush=True)
        total_events = offset
        wall = time.perf_counter() - wall
        memory = (await redis.info("memory"))["used_memory"]

        service = ReportingService(store, policy_of, template_of, NoPublisher(), RedisOutbox(redis, "bench"),
                                   FixedClock(datetime.now(timezone.utc)))
        zone = DEFAULT_POLICY.zone
        after_week = REPORT_WEEK.end(zone) + timedelta(days=1)
        mid_week = REPORT_WEEK.start(zone) + timedelta(days=3, hours=12)
        cases = {
            "tenant summary, JSON": (after_week, "", "json"),
            "tenant summary, CSV": (after_week, "", "csv"),
            "tenant summary, XLSX": (after_week, "", "xlsx"),
            "tenant summary mid-week (pending counted), JSON": (mid_week, "", "json"),
            "one team with every missing action, JSON": (after_week, "mgr0", "json"),
            "one team with every missing action, XLSX": (after_week, "mgr0", "xlsx"),
        }
        timings: dict[str, list[float]] = {name: [] for name in cases}
        shapes: dict[str, dict] = {}
        for name, (as_of, team, fmt) in cases.items():
            for _ in range(args.runs):
                t0 = time.perf_counter()
                report = await service.compliance(tenant, REPORT_WEEK, as_of, None, team)
                content, _, _ = export.render(report, fmt)
                timings[name].append(time.perf_counter() - t0)
            shapes[name] = {"reps": len(report.reps), "teams": len(report.teams), "bytes": len(content),
                            "missing_action_rows": sum(len(r.missing_actions) for r in report.reps),
                            "missing_counted": report.total.tally.missing, "pending": report.total.tally.pending,
                            "expectations_due": report.total.tally.due}
    finally:
        async for key in redis.scan_iter(f"{PREFIX}:{tenant}:*", count=5000):
            deleted += await redis.unlink(key)
        await redis.srem(f"{PREFIX}:tenants", tenant)
        await redis.aclose()

    result = {
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "command": f"PYTHONPATH=.:gen/python .venv/bin/python -m bench.compliance_report --reps {args.reps} "
                   f"--opportunities {args.opportunities} --actions {args.actions} --seed {args.seed} "
                   f"--batch-opportunities {args.batch_opportunities} --redis-db {args.redis_db} --runs {args.runs}",
        "reps": args.reps,
        "teams": -(-args.reps // TEAM_SIZE),
        "opportunities": args.opportunities,
        "events": counts,
        "total_events": total_events,
        "batches": batches,
        "aggregate_apply_events_per_second": round(total_events / applied_seconds) if applied_seconds else None,
        "aggregate_apply_seconds": round(applied_seconds, 1),
        "slowest_batch_seconds": round(slowest_batch, 3),
        "generate_seconds": round(generate_seconds, 1),
        "feed_wall_seconds": round(wall, 1),
        "report_week": str(REPORT_WEEK),
        "reports": {name: {**_percentiles(timings[name]), **shapes[name]} for name in cases},
        "redis_used_memory_mib_with_aggregates": round(memory / 2**20),
        "bench_keys_deleted": deleted,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores shared with other jobs, Python {platform.python_version()}",
        "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "compliance_report.json").write_text(json.dumps(result, indent=1) + "\n")
    write_markdown(result)
    print(json.dumps(result, indent=1))


def write_markdown(result: dict) -> None:
    """bench/results/compliance_report.md from a run's figures (the .json)."""
    ev = result["events"]
    lines = [
        "# Weekly compliance report benchmark",
        "",
        f"Run {result['when']} (git {result['git']}; {result['machine']}):",
        "",
        f"    {result['command']}",
        "",
        "Method: see the docstring of `bench/compliance_report.py`. The report figures are the",
        "`ReportingService.compliance` call plus rendering, in process, against the real Redis",
        "(not through gRPC and the gateway).",
        "",
        "## Aggregates maintained by the stream code",
        "",
        f"- Fed {result['total_events']:,} events ({ev['action_recorded']:,} ActionRecorded, {ev['opened']:,} opened, "
        f"{ev['stage_changed']:,} stage changes) for {result['opportunities']:,} opportunities of {result['reps']:,} reps "
        f"({result['teams']:,} teams) through `ReportingAggregator.apply_batch` in {result['batches']:,} batches, "
        "straight to Redis (not through Kafka).",
        f"- Aggregate update rate: **{result['aggregate_apply_events_per_second']:,} events/s** "
        f"({result['aggregate_apply_seconds']} s applying; generating the events took {result['generate_seconds']} s more; "
        f"slowest batch {result['slowest_batch_seconds']} s).",
        f"- Redis used memory with the aggregates loaded: {result['redis_used_memory_mib_with_aggregates']:,} MiB "
        "(the shared instance, other data included). The bench keys "
        f"({result['bench_keys_deleted']:,}) were deleted afterwards.",
        "",
        f"## The report for {result['report_week']} (target: ≤ 2 s)",
        "",
        "| report | p50 | p95 | max | runs | reps | teams | missing-action rows | missing counted | pending | bytes |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in result["reports"].items():
        lines.append(
            f"| {name} | {r['p50']:.3f} s | {r['p95']:.3f} s | {r['max']:.3f} s | {r['runs']} | {r['reps']:,} | "
            f"{r['teams']:,} | {r['missing_action_rows']:,} | {r['missing_counted']:,} | {r['pending']:,} | {r['bytes']:,} |"
        )
    (RESULTS / "compliance_report.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
