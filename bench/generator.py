"""A synthetic sales organisation and its activity stream, deterministic for a seed.

    org = generate_org(seed=7, tenant_ids=["bench-1"], shape=OrgShape(opportunities=500))
    for record in activity(org, seed=7, rate=50, count=10_000, start=now):
        topic, key, value, headers = record.kafka()

Tenants have a director, teams (each led by a manager) of reps, accounts owned by reps
and opportunities on those accounts. The activity stream opens the opportunities over
its first third, then mixes check-in visits, calls (with durations), emails, notes and
stage changes, with evidence that is valid or not exactly as the actions service's
verifier (`services/actions/domain/evidence.py`) would judge it: a 20 s call, an email
without a message id, a visit without a check-in or a 5-character note is recorded as
invalid with the verifier's reasons.

Everything here is pure Python (no I/O): the records are protobuf payloads with their
topic, key, event time and event id, turned into CloudEvents headers on demand.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from google.protobuf.message import Message

from dealpulse.actions.v1 import events_pb2 as events
from kernel.envelope import Envelope, Headers
from kernel.topics import ACCOUNT, OPPORTUNITY, POLICY, REP, TopicSpec
from services.actions.adapters.messages import action_recorded, timestamp
from services.actions.domain.evidence import ActionKind, Evidence, verify
from services.actions.domain.pipeline import CLOSED_STAGES, DEFAULT_STAGES
from services.actions.domain.policy import DEFAULT_POLICY, ProcessPolicy

SOURCE = "dealpulse/bench"

OPEN_STAGES: tuple[str, ...] = tuple(s for s in DEFAULT_STAGES if s not in CLOSED_STAGES)
INDUSTRIES = (
    "medical_devices",
    "manufacturing",
    "education",
    "finance",
    "retail",
    "energy",
    "logistics",
    "software",
)
_CITIES = ("Shanghai", "Beijing", "Shenzhen", "Hangzhou", "Chengdu", "Wuhan", "Suzhou", "Nanjing", "Xi'an", "Tianjin")
_NOUNS = {
    "medical_devices": ("Hospital", "Clinic", "Health Group", "Diagnostics"),
    "manufacturing": ("Machinery", "Precision Works", "Auto Parts", "Steel"),
    "education": ("University", "Academy", "School Group", "Learning"),
    "finance": ("Bank", "Securities", "Insurance", "Capital"),
    "retail": ("Mart", "Department Store", "Foods", "Fashion"),
    "energy": ("Power", "New Energy", "Grid", "Solar"),
    "logistics": ("Express", "Shipping", "Cold Chain", "Freight"),
    "software": ("Cloud", "Data", "Systems", "Networks"),
}
_PRODUCTS = ("CT scanner", "MES rollout", "campus network", "core banking upgrade", "POS fleet", "SCADA retrofit",
             "WMS licence", "data platform", "ultrasound units", "ERP migration", "fleet telematics", "CRM seats")
_FIRST = ("Wei", "Fang", "Lei", "Min", "Jing", "Hao", "Yan", "Tao", "Li", "Jun", "Xin", "Bo", "Ying", "Qiang", "Hui")
_LAST = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu", "Xu", "Sun", "Ma", "Zhu")
_NOTES = (
    "Customer confirmed budget for Q3 and asked for a revised quote with training included.",
    "CFO raised concerns about payment terms; agreed to prepare a 30/60/10 schedule.",
    "Technical team wants a site survey before the proposal; scheduled for next week.",
    "Competitor demoed last Friday; customer prefers our service SLA but price is 8% higher.",
    "Procurement asked for three references in the same industry.",
)
_SHORT_NOTES = ("ok", "called", "todo", "see email", "met")


# --- the organisation ----------------------------------------------------------------
@dataclass(frozen=True)
class Rep:
    rep_id: str
    display_name: str
    manager_id: str  # "" for the director
    team_id: str  # "" for the director
    role: str  # rep | manager | director


@dataclass(frozen=True)
class Team:
    team_id: str
    manager_id: str
    rep_ids: tuple[str, ...]


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    industry: str
    owner_id: str


@dataclass(frozen=True)
class Opportunity:
    tenant_id: str
    opportunity_id: str
    account_id: str
    name: str
    owner_id: str
    stage: str  # the stage it is opened in
    amount_cents: int
    currency: str
    # Relative activity: a few opportunities are hot, most are quiet (lognormal).
    heat: float = 1.0

    @property
    def key(self) -> str:
        return f"{self.tenant_id}/{self.opportunity_id}"


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    director_id: str
    teams: tuple[Team, ...]
    reps: tuple[Rep, ...]
    accounts: tuple[Account, ...]
    opportunities: tuple[Opportunity, ...]

    def rep(self, rep_id: str) -> Rep:
        return next(r for r in self.reps if r.rep_id == rep_id)


@dataclass(frozen=True)
class Org:
    tenants: tuple[Tenant, ...]

    @property
    def opportunities(self) -> tuple[Opportunity, ...]:
        return tuple(o for t in self.tenants for o in t.opportunities)


@dataclass(frozen=True)
class OrgShape:
    """The size of each tenant. Opportunities are spread over the accounts."""

    teams: int = 4
    reps_per_team: int = 6
    accounts_per_rep: int = 8
    opportunities: int = 1000

    def __post_init__(self) -> None:
        if min(self.teams, self.reps_per_team, self.accounts_per_rep) < 1 or self.opportunities < 0:
            raise ValueError(f"an org needs at least one team, rep and account: {self}")


def _rng(seed: int, *scope: str) -> random.Random:
    """An independent, reproducible stream per (seed, scope)."""
    return random.Random("\x1f".join((str(seed), *scope)))


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_LAST)} {rng.choice(_FIRST)}"


def generate_org(seed: int, tenant_ids: Iterable[str], shape: OrgShape = OrgShape()) -> Org:
    """The random draws depend on the seed and each tenant's position, not its name, so a
    benchmark with fresh tenant names per run replays the same workload."""
    return Org(tuple(_tenant(seed, index, tenant_id, shape) for index, tenant_id in enumerate(tenant_ids)))


def _tenant(seed: int, index: int, tenant_id: str, shape: OrgShape) -> Tenant:
    rng = _rng(seed, "org", str(index))
    director = Rep("director-1", _person(rng), "", "", "director")
    reps: list[Rep] = [director]
    teams: list[Team] = []
    for t in range(1, shape.teams + 1):
        team_id = f"team-{t}"
        manager = Rep(f"mgr-{t}", _person(rng), director.rep_id, team_id, "manager")
        members = [Rep(f"rep-{t}-{r}", _person(rng), manager.rep_id, team_id, "rep") for r in range(1, shape.reps_per_team + 1)]
        reps += [manager, *members]
        teams.append(Team(team_id, manager.rep_id, tuple(m.rep_id for m in members)))
    sellers = [r for r in reps if r.role == "rep"]
    accounts: list[Account] = []
    for n, owner in enumerate((s for s in sellers for _ in range(shape.accounts_per_rep)), start=1):
        industry = rng.choice(INDUSTRIES)
        name = f"{rng.choice(_CITIES)} {rng.choice(_NOUNS[industry])} {n}"
        accounts.append(Account(f"acct-{n:05d}", name, industry, owner.rep_id))
    opportunities: list[Opportunity] = []
    for n in range(1, shape.opportunities + 1):
        account = rng.choice(accounts)
        # Deal sizes are lognormal: median ~CNY 480k, a long tail of multi-million deals.
        amount = int(round(rng.lognormvariate(math.log(480_000), 0.9), -3)) * 100
        opportunities.append(
            Opportunity(
                tenant_id=tenant_id,
                opportunity_id=f"opp-{n:06d}",
                account_id=account.account_id,
                name=f"{account.name}: {rng.choice(_PRODUCTS)}",
                owner_id=account.owner_id,
                stage="lead" if rng.random() < 0.8 else "qualification",
                amount_cents=amount,
                currency="CNY" if rng.random() < 0.9 else "USD",
                heat=rng.lognormvariate(0, 0.8),
            )
        )
    return Tenant(tenant_id, director.rep_id, tuple(teams), tuple(reps), tuple(accounts), tuple(opportunities))


# --- records ---------------------------------------------------------------------
@dataclass(frozen=True)
class Record:
    """One event ready to publish: topic, key, payload, event time and event id."""

    spec: TopicSpec
    key: str
    tenant_id: str
    payload: Message
    event_time: datetime
    event_id: str

    def envelope(self, source: str = SOURCE) -> Envelope:
        return Envelope.for_topic(
            self.spec, source=source, subject=self.key, tenant_id=self.tenant_id, time=self.event_time,
            event_id=self.event_id,
        )

    def headers(self, source: str = SOURCE) -> Headers:
        return self.envelope(source).to_headers()

    def kafka(self, source: str = SOURCE) -> tuple[str, bytes, bytes, Headers]:
        """(topic, key, value, headers) as a Kafka producer takes them."""
        return self.spec.name, self.key.encode(), self.payload.SerializeToString(), self.headers(source)


def _event_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def org_records(org: Org, at: datetime, seed: int = 0) -> list[Record]:
    """Who reports to whom and who owns which account: `actions.rep.v1`, `actions.account.v1`."""
    rng = _rng(seed, "org-records")
    out: list[Record] = []
    for tenant in org.tenants:
        for rep in tenant.reps:
            payload = events.RepEvent(
                tenant_id=tenant.tenant_id, rep_id=rep.rep_id, actor_id=tenant.director_id, occurred_at=timestamp(at),
                registered=events.RepRegistered(display_name=rep.display_name, manager_id=rep.manager_id),
            )
            out.append(Record(REP, f"{tenant.tenant_id}/{rep.rep_id}", tenant.tenant_id, payload, at, _event_id(rng)))
        for account in tenant.accounts:
            payload = events.AccountEvent(
                tenant_id=tenant.tenant_id, account_id=account.account_id, actor_id=account.owner_id, occurred_at=timestamp(at),
                created=events.AccountCreated(name=account.name, industry=account.industry, owner_id=account.owner_id),
            )
            out.append(Record(ACCOUNT, f"{tenant.tenant_id}/{account.account_id}", tenant.tenant_id, payload, at,
                              _event_id(rng)))
    return out


def policy_record(tenant: Tenant, stall_threshold: timedelta, at: datetime, seed: int = 0) -> Record:
    """The tenant's stall threshold on `actions.policy.v1` (as `SetStallPolicy` writes it)."""
    DEFAULT_POLICY.with_stall_threshold(stall_threshold)  # the service's own bounds
    payload = events.TenantPolicyEvent(
        tenant_id=tenant.tenant_id, actor_id=tenant.director_id, occurred_at=timestamp(at),
        stall=events.StallPolicy(threshold_seconds=int(stall_threshold.total_seconds())),
    )
    return Record(POLICY, tenant.tenant_id, tenant.tenant_id, payload, at, _event_id(_rng(seed, "policy", tenant.tenant_id)))


def opened_record(opp: Opportunity, at: datetime, event_id: str) -> Record:
    payload = events.OpportunityEvent(
        tenant_id=opp.tenant_id, opportunity_id=opp.opportunity_id, actor_id=opp.owner_id, occurred_at=timestamp(at),
        opened=events.OpportunityOpened(
            account_id=opp.account_id, name=opp.name, owner_id=opp.owner_id, stage=opp.stage,
            amount_cents=opp.amount_cents, currency=opp.currency,
        ),
    )
    return Record(OPPORTUNITY, opp.key, opp.tenant_id, payload, at, event_id)


def openings(org: Org, at: datetime, seed: int = 0) -> list[Record]:
    """One `opened` event per opportunity, all at `at` (to arm many stall timers at once)."""
    rng = _rng(seed, "openings")
    return [opened_record(opp, at, _event_id(rng)) for opp in org.opportunities]


# --- the activity stream ------------------------------------------------------------
@dataclass(frozen=True)
class ActivityMix:
    """What reps do, and how often their evidence fails the verifier."""

    visit: float = 0.20
    call: float = 0.38
    email: float = 0.27
    note: float = 0.05
    stage_change: float = 0.10
    visit_without_checkin: float = 0.10  # forgot to check in at the customer's site
    email_without_message_id: float = 0.08  # logged by hand, not synced from the mailbox
    short_note: float = 0.30
    # Call durations are lognormal (median 3 min); with sigma 1.4 about a quarter last under
    # a minute (voicemail, no answer), which the default policy does not count.
    call_median_seconds: float = 180.0
    call_sigma: float = 1.4
    # Of the stage changes, this share is a loss from any stage; at negotiation the
    # outcome is won with `win_rate`.
    lost_early: float = 0.08
    win_rate: float = 0.45
    # The share of the stream spent opening the opportunities.
    opening_share: float = 1 / 3

    def weights(self) -> tuple[float, ...]:
        return (self.visit, self.call, self.email, self.note, self.stage_change)


_KINDS = ("visit", "call", "email", "note", "stage_change")


@dataclass
class _Live:
    opp: Opportunity
    stage: str
    actions: int = 0


@dataclass
class _Picker:
    """Weighted choice among the open opportunities, O(log n) per pick."""

    live: list[_Live] = field(default_factory=list)
    cumulative: list[float] = field(default_factory=list)
    dirty: bool = False

    def add(self, item: _Live) -> None:
        self.live.append(item)
        self.cumulative.append((self.cumulative[-1] if self.cumulative else 0.0) + item.opp.heat)

    def remove_closed(self) -> None:
        self.live = [x for x in self.live if x.stage not in CLOSED_STAGES]
        self.cumulative = list(itertools.accumulate(x.opp.heat for x in self.live))
        self.dirty = False

    def pick(self, rng: random.Random) -> _Live | None:
        if self.dirty:
            self.remove_closed()
        if not self.live:
            return None
        index = bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])
        return self.live[min(index, len(self.live) - 1)]


def activity(
    org: Org,
    *,
    seed: int,
    rate: float,
    start: datetime,
    count: int | None = None,
    duration: timedelta | None = None,
    mix: ActivityMix = ActivityMix(),
    policy: ProcessPolicy = DEFAULT_POLICY,
) -> Iterator[Record]:
    """`count` (or `rate` × `duration`) opportunity events, Poisson at `rate` events/s of
    event time from `start`. Each opportunity is opened before anything else happens to
    it; a closed one sees no more activity. Per opportunity, event times only grow."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    if count is None:
        if duration is None:
            raise ValueError("give count or duration")
        count = int(rate * duration.total_seconds())
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    rng = _rng(seed, "activity", str(len(org.tenants)))
    unopened = list(org.opportunities)
    rng.shuffle(unopened)
    unopened.reverse()  # pop() from the end in shuffled order
    total_opps = len(unopened)
    opening_span = max(1.0, count * mix.opening_share)
    picker = _Picker()
    opened = 0
    elapsed = 0.0
    action_seq = 0
    for i in range(count):
        elapsed += rng.expovariate(rate)
        at = start + timedelta(seconds=elapsed)
        event_id = _event_id(rng)
        due_open = min(total_opps, math.ceil(total_opps * min(1.0, (i + 1) / opening_span)))
        live = None if opened < due_open else picker.pick(rng)
        if live is None:
            if not unopened:
                return  # every opportunity is closed: nothing left to happen
            opp = unopened.pop()
            opened += 1
            picker.add(_Live(opp, opp.stage))
            yield opened_record(opp, at, event_id)
            continue
        what = rng.choices(_KINDS, weights=mix.weights())[0]
        if what == "stage_change":
            to_stage = _next_stage(live.stage, rng, mix)
            payload = events.OpportunityEvent(
                tenant_id=live.opp.tenant_id, opportunity_id=live.opp.opportunity_id, actor_id=live.opp.owner_id,
                occurred_at=timestamp(at), stage_changed=events.StageChanged(from_stage=live.stage, to_stage=to_stage),
            )
            live.stage = to_stage
            if to_stage in CLOSED_STAGES:
                picker.dirty = True
        else:
            action_seq += 1
            live.actions += 1
            payload = events.OpportunityEvent(
                tenant_id=live.opp.tenant_id, opportunity_id=live.opp.opportunity_id, actor_id=live.opp.owner_id,
                occurred_at=timestamp(at), action_recorded=_action(what, f"act-{action_seq:08d}", rng, mix, policy),
            )
        yield Record(OPPORTUNITY, live.opp.key, live.opp.tenant_id, payload, at, event_id)


def _next_stage(stage: str, rng: random.Random, mix: ActivityMix) -> str:
    if rng.random() < mix.lost_early:
        return "closed_lost"
    if stage == OPEN_STAGES[-1]:
        return "closed_won" if rng.random() < mix.win_rate else "closed_lost"
    return OPEN_STAGES[OPEN_STAGES.index(stage) + 1]


def _action(what: str, action_id: str, rng: random.Random, mix: ActivityMix, policy: ProcessPolicy) -> events.ActionRecorded:
    if what == "visit":
        kind = ActionKind.VISIT
        checkin = "" if rng.random() < mix.visit_without_checkin else f"dingtalk-checkin-{rng.getrandbits(48):012x}"
        evidence = Evidence(checkin_id=checkin)
    elif what == "call":
        kind = ActionKind.CALL
        seconds = int(rng.lognormvariate(math.log(mix.call_median_seconds), mix.call_sigma))
        evidence = Evidence(call_duration_seconds=min(seconds, 4 * 3600))
    elif what == "email":
        kind = ActionKind.EMAIL
        message_id = "" if rng.random() < mix.email_without_message_id else f"<{rng.getrandbits(64):016x}@mail.example.cn>"
        evidence = Evidence(email_message_id=message_id)
    else:
        kind = ActionKind.NOTE
        evidence = Evidence(note=rng.choice(_SHORT_NOTES if rng.random() < mix.short_note else _NOTES))
    return action_recorded(action_id, kind, evidence, verify(kind, evidence, policy))
