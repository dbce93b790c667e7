"""Benchmark: the weekly compliance report from stream-maintained aggregates.

    python -m bench.compliance_report [--reps 2000] [--opportunities 200000] [--actions 5000000] [--seed 7]

1. Aggregates. Synthetic `OpportunityEvent`s (protobuf, as on `actions.opportunity.v1`)
   for one fresh tenant — every opportunity on the shipped medical-devices template,
   owned by one of `--reps` reps in teams of 10, opened over six weeks, moving through
   lead -> qualification -> needs_diagnosis with template actions (valid and invalid,
   on time and late) and plain calls — are applied by the real aggregate code,
   `ReportingAggregator.apply_batch` (the method the Faust agent calls per event),
   in batches of whole opportunities, to the real Redis. NOT through Kafka: records
   are handed to the aggregator directly, so the figure is the aggregator + Redis
   rate, not the stream's. `--actions` counts ActionRecorded events; opened and
   stage-changed events come on top.
2. Report. `ReportingService.compliance` for the busiest week, over every rep (what a
   director gets), then JSON rendering; also CSV and XLSX. 5 runs each, median and max.

Results: bench/results/compliance_report.md (appended) and compliance_report.json
(latest). The tenant's keys are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--opportunities", type=int, default=200_000)
    parser.add_argument("--actions", type=int, default=5_000_000)
    parser.add_argument("--batch-opportunities", type=int, default=80)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--report-only", metavar="TENANT", default="",
                        help="skip feeding; time the report over aggregates an earlier run of this script fed "
                        "for TENANT (the feed figures are then not measured in this run)")
    args = parser.parse_args()
    redis = connect_redis(Settings())
    tenant = args.report_only or f"bench-{int(time.time())}"
    store = ReportingStore(redis)
    aggregator = ReportingAggregator(store, policy_of, template_of)
    rng = random.Random(args.seed)
    per_opp, extra = divmod(args.actions, args.opportunities)
    for rep in range(args.reps if not args.report_only else 0):
        await store.put_rep(tenant, f"rep{rep}", f"Rep {rep}", f"mgr{rep // TEAM_SIZE}")

    counts = {"opened": 0, "action_recorded": 0, "stage_changed": 0}
    offset = 0
    applied_seconds = generate_seconds = 0.0
    wall = time.perf_counter()
    for first in range(0, 0 if args.report_only else args.opportunities, args.batch_opportunities):
        t0 = time.perf_counter()
        batch = []
        for n in range(first, min(first + args.batch_opportunities, args.opportunities)):
            for event in opportunity_events(tenant, n, f"rep{n % args.reps}", per_opp + (1 if n < extra else 0), rng):
                offset += 1
                counts[event.WhichOneof("change")] += 1
                batch.append((event, Position(0, offset)))
        t1 = time.perf_counter()
        await aggregator.apply_batch(batch)
        applied_seconds += time.perf_counter() - t1
        generate_seconds += t1 - t0
        if first % (args.batch_opportunities * 250) == 0:
            print(f"{first:>7} opportunities, {offset:>8} events, {offset / applied_seconds if applied_seconds else 0:,.0f} ev/s applied", flush=True)
    total_events = offset
    wall = time.perf_counter() - wall

    service = ReportingService(store, policy_of, template_of, NoPublisher(), RedisOutbox(redis, "bench"), FixedClock(datetime.now(timezone.utc)))
    as_of = REPORT_WEEK.end(DEFAULT_POLICY.zone) + timedelta(days=1)
    timings: dict[str, list[float]] = {"report+json": [], "report+csv": [], "report+xlsx": []}
    report = None
    for fmt in ("json", "csv", "xlsx"):
        for _ in range(5):
            t0 = time.perf_counter()
            report = await service.compliance(tenant, REPORT_WEEK, as_of, None)
            content, _, _ = export.render(report, fmt)
            timings[f"report+{fmt}"].append(time.perf_counter() - t0)
    assert report is not None
    missing_rows = sum(len(r.missing_actions) for r in report.reps)
    memory = (await redis.info("memory"))["used_memory"]

    keys = [k async for k in redis.scan_iter(f"dealpulse:reporting:{tenant}:*", count=5000)]
    for i in range(0, len(keys), 5000):
        await redis.delete(*keys[i:i + 5000])
    await redis.srem("dealpulse:reporting:tenants", tenant)
    await redis.aclose()

    result = {
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "command": f"python -m bench.compliance_report --reps {args.reps} --opportunities {args.opportunities} --actions {args.actions} --seed {args.seed}",
        "reps": args.reps,
        "teams": -(-args.reps // TEAM_SIZE),
        "opportunities": args.opportunities,
        "events": counts,
        "total_events": total_events,
        "aggregate_apply_events_per_second": round(total_events / applied_seconds) if applied_seconds else None,
        "aggregate_apply_seconds": round(applied_seconds, 1),
        "generate_seconds": round(generate_seconds, 1),
        "wall_seconds": round(wall, 1),
        "report_week": str(REPORT_WEEK),
        "report_rows": {"reps": len(report.reps), "teams": len(report.teams), "missing_actions": missing_rows,
                        "expectations_due": report.total.tally.due},
        "report_seconds": {k: {"median": round(statistics.median(v), 3), "max": round(max(v), 3)} for k, v in timings.items()},
        "redis_used_memory_mib_with_aggregates": round(memory / 2**20),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "compliance_report.json").write_text(json.dumps(result, indent=1) + "\n")
    md = RESULTS / "compliance_report.md"
    if not md.exists():
        md.write_text("# Weekly compliance report benchmark\n\nWritten by `python -m bench.compliance_report` "
                      "(see its docstring for the method); newest run last.\n")
    r = result["report_seconds"]
    with md.open("a") as out:
        out.write(
            f"\n## {result['when']}\n\n`{result['command']}` (git {result['git']}, {result['machine']})\n\n"
            f"- Fed: {total_events:,} events ({counts['action_recorded']:,} ActionRecorded, {counts['opened']:,} opened, "
            f"{counts['stage_changed']:,} stage changes) for {args.opportunities:,} opportunities of {args.reps:,} reps "
            f"({result['teams']} teams), applied by `ReportingAggregator.apply_batch` to Redis directly (not through Kafka) "
            f"at {result['aggregate_apply_events_per_second']:,} events/s ({result['aggregate_apply_seconds']} s; generating the "
            f"events took {result['generate_seconds']} s more).\n"
            f"- Report for {REPORT_WEEK} over every rep: {len(report.reps):,} rep rows, {len(report.teams)} team rows, "
            f"{missing_rows:,} missing-action rows, {report.total.tally.due:,} expectations due.\n\n"
            "| report from the aggregates | median | max (5 runs) |\n|---|---|---|\n"
            + "".join(f"| {k} | {v['median']:.3f} s | {v['max']:.3f} s |\n" for k, v in r.items())
            + f"\nTarget: ≤ 2 s. Redis used memory with the aggregates loaded: {result['redis_used_memory_mib_with_aggregates']} MiB "
            "(shared instance). The Kafka path's rate was not measured in this run.\n"
        )
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
