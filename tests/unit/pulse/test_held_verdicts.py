"""The pulse worker holds verdict changes back while input is waiting: what it publishes
when it releases them, and which offsets wait for them."""

from datetime import datetime, timezone

from aiokafka import TopicPartition

from services.pulse.adapters.worker import HeldVerdicts
from services.pulse.domain.book import VerdictChange
from services.pulse.domain.visits import ENDED_BY_NONE, VisitVerdict

ACTIVITY = "gateway.activity.v1"
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)


def change(visit: str, revision: int, tenant: str = "t", decided: bool = False) -> VerdictChange:
    verdict = VisitVerdict(
        visit_id=visit, tenant_id=tenant, rep_id="r1", customer_id="c1", opportunity_id="", started_at=T0,
        ended_at=None, ended_by=ENDED_BY_NONE, on_site=None, distance_m=None, effective=False, decided=decided,
        reasons=("no check-out and no later activity yet; time on site unknown",), evidence_event_ids=(visit,),
    )
    return VerdictChange(verdict, revision, cause_event_id=f"cause-{visit}-{revision}")


def at(p: int) -> TopicPartition:
    return TopicPartition(ACTIVITY, p)


def test_a_visit_revised_by_several_batches_is_released_once_as_it_ends_up():
    held = HeldVerdicts()
    held.hold([change("v1", 1), change("v2", 1)], {at(0): 10}, None, now=0.0)
    held.hold([change("v1", 2, decided=True)], {at(0): 25, at(1): 4}, None, now=0.4)
    held.hold([change("v1", 1, tenant="other")], {at(1): 9}, None, now=0.5)  # another tenant's visit v1
    verdicts, offsets, master = held.contents()
    assert [(c.verdict.tenant_id, c.verdict.visit_id, c.revision) for c in verdicts] == [
        ("t", "v1", 2), ("t", "v2", 1), ("other", "v1", 1),
    ]
    assert verdicts[0].verdict.decided
    assert offsets == {at(0): 25, at(1): 9} and master == {}
    held.clear()
    assert held.contents() == ([], {}, {}) and held.due(0.5, interval=1.0)


def test_what_was_read_stays_held_until_cleared_and_later_batches_add_to_it():
    """A hand-over that fails between reading and clearing keeps everything for the next."""
    held = HeldVerdicts()
    held.hold([change("v1", 1)], {at(0): 10}, None, now=0.0)
    first = held.contents()
    first[1][at(0)] = 999  # what was handed out is a copy
    held.hold([change("v2", 1)], {at(0): 20}, None, now=0.2)
    assert held.contents() == ([change("v1", 1), change("v2", 1)], {at(0): 20}, {})


def test_verdicts_are_due_once_the_oldest_has_waited_the_interval():
    held = HeldVerdicts()
    held.hold([change("v1", 1)], {at(0): 10}, None, now=100.0)
    held.hold([change("v2", 1)], {at(0): 20}, None, now=100.9)
    assert not held.due(100.9, interval=1.0)
    assert held.due(101.0, interval=1.0)
    held.clear()
    held.hold([change("v3", 1)], {at(0): 30}, None, now=105.0)  # the clock restarts with the next one
    assert not held.due(105.5, interval=1.0)


def test_offsets_and_master_positions_wait_for_the_verdicts_and_without_any_are_due_at_once():
    master = TopicPartition("actions.account.v1", 0)
    held = HeldVerdicts()
    held.hold([], {at(0): 10}, {master: 3}, now=0.0)
    assert held.due(0.0, interval=1.0), "no verdict held: nothing to wait for"
    held.hold([change("v1", 1)], {at(0): 12}, {master: 5}, now=0.0)
    assert not held.due(0.5, interval=1.0)
    assert held.contents() == ([change("v1", 1)], {at(0): 12}, {master: 5})
