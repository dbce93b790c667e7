import csv
import hashlib
import io
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from services.audit.domain import audit_log as log
from services.audit.domain.audit_log import AuditDraft, AuditQuery, ChainHead, PermissionDecision, ProblemKind, Source
from services.audit.domain.errors import InvalidCommand

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
BEIJING = timezone(timedelta(hours=8))


def draft(i=1, tenant="acme", **overrides):
    fields = dict(
        tenant_id=tenant,
        event_id=f"ev-{i}",
        actor_id="rep-1",
        actor_roles=("rep",),
        entity_type="opportunity",
        entity_id=f"o{i % 3}",
        field="contact_phone",
        before=f"+86 10 0000 {i:04d}",
        after=f"+86 10 0000 {i + 1:04d}",
        occurred_at=T0 + timedelta(minutes=i),
        source=Source.API,
        reason="customer moved office",
    )
    fields.update(overrides)
    return AuditDraft(**fields)


def chain(n=5, tenant="acme"):
    records, _ = log.append_all(ChainHead.genesis(tenant), (draft(i, tenant) for i in range(1, n + 1)))
    return records


def rechain(records, tenant="acme"):
    """What an attacker with write access to the store can do: recompute every hash."""
    head = ChainHead.genesis(tenant)
    result = []
    for position, record in enumerate(records, start=1):
        fixed = replace(record, sequence=position, prev_hash=head.hash)
        fixed = replace(fixed, hash=log.compute_hash(fixed))
        result.append(fixed)
        head = ChainHead.of(fixed)
    return result


# --- appending ------------------------------------------------------------------------


def test_sequences_start_at_one_and_each_record_links_to_the_previous():
    records = chain(3)
    assert [r.sequence for r in records] == [1, 2, 3]
    assert records[0].prev_hash == hashlib.sha256(b"dealpulse-audit-genesis:acme").hexdigest()
    assert records[0].prev_hash == log.genesis_hash("acme") == ChainHead.genesis("acme").hash
    assert records[1].prev_hash == records[0].hash
    assert records[2].prev_hash == records[1].hash
    assert len({r.hash for r in records}) == 3


def test_genesis_differs_per_tenant():
    assert log.genesis_hash("acme") != log.genesis_hash("globex")


def test_canonical_form_is_pinned():
    # Verifiers in other languages rebuild exactly these bytes; changing them is a new format version.
    unsorted_roles = ("rep", "manager", "rep")
    record = log.append(ChainHead.genesis("acme"), draft(1, actor_roles=unsorted_roles, reason="客户搬家"))
    genesis = log.genesis_hash("acme")
    assert log.canonical_bytes(record).decode("utf-8") == (
        '{"actor_id":"rep-1","actor_roles":["manager","rep"],"after":"+86 10 0000 0002",'
        '"before":"+86 10 0000 0001","decision":null,"entity_id":"o1","entity_type":"opportunity",'
        '"event_id":"ev-1","field":"contact_phone","occurred_at":"2026-11-02T09:01:00.000000Z",'
        f'"prev_hash":"{genesis}","reason":"客户搬家","sequence":1,"source":"api","tenant_id":"acme","v":1}}'
    )
    assert record.hash == hashlib.sha256(log.canonical_bytes(record)).hexdigest()
    assert record.actor_roles == ("manager", "rep")


def reference_canonical(record) -> bytes:
    """The canonical form as the module docstring defines it."""
    content = {**log.record_to_dict(record), "v": 1}
    del content["hash"]
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"reason": "客户搬家 \u2028 \x7f \x00\x1f \t\n\r\b\f \" \\ / 😀 \ud7ff \ue000"},
        {"actor_roles": ("rep", "manager", "rep", "Ärzte", "a b"), "actor_id": "😀"},
        {"before": None, "after": {"z": [1, -2, {"é": "x", "a": None, "B": True}], "a": False, "": 0}},
        {"before": 2**53 - 1, "after": -(2**53 - 1), "field": ""},
        {"before": [], "after": {}, "entity_id": "\""},
        {"decision": PermissionDecision(False, "rule \"x\"", "SEC-SALES-2026-01", 17)},
        {"decision": PermissionDecision(True, "", "", 0), "source": Source.WEBHOOK},
        {"occurred_at": datetime(999, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "source": "system"},
    ],
)
def test_the_laid_out_canonical_bytes_are_exactly_the_reference_json(overrides):
    record = log.append(ChainHead.genesis("acme"), draft(7, **overrides))
    assert log.canonical_bytes(record) == reference_canonical(record)
    assert record.hash == hashlib.sha256(reference_canonical(record)).hexdigest()


def test_one_instant_in_any_time_zone_hashes_the_same():
    head = ChainHead.genesis("acme")
    utc = log.append(head, draft(1))
    local = log.append(head, draft(1, occurred_at=(T0 + timedelta(minutes=1)).astimezone(BEIJING)))
    assert utc.hash == local.hash


def test_a_permission_decision_is_part_of_the_hashed_content():
    head = ChainHead.genesis("acme")
    denied = PermissionDecision(False, "grade-locked-after-closed-won", "SEC-SALES-2026-01", 1)
    record = log.append(head, draft(1, field="grade", before="B", after="A", decision=denied))
    assert log.verify([record]).ok
    lifted = replace(record, decision=replace(denied, allowed=True))
    assert log.verify([lifted]).problem.kind is ProblemKind.EDITED


def test_structured_values_hash_independently_of_key_order():
    head = ChainHead.genesis("acme")
    a = log.append(head, draft(1, field="", before=None, after={"name": "Deal", "amount_cents": 5, "tags": ["x"]}))
    b = log.append(head, draft(1, field="", before=None, after={"tags": ["x"], "amount_cents": 5, "name": "Deal"}))
    assert a.hash == b.hash


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"after": 12.5}, "after"),
        ({"before": {"amount": 0.1}}, "before.amount"),
        ({"after": 2**53}, "after"),
        ({"after": float("nan")}, "after"),
        ({"after": {1: "x"}}, "after"),
        ({"after": {"when": T0}}, "after.when"),
        ({"occurred_at": datetime(2026, 11, 2, 9, 0)}, "occurred_at"),
        ({"actor_id": ""}, "actor_id"),
        ({"event_id": " "}, "event_id"),
        ({"entity_id": ""}, "entity_id"),
        ({"source": "email"}, "source"),
        ({"actor_roles": "rep"}, "actor_roles"),
    ],
)
def test_append_refuses_what_has_no_single_canonical_form(overrides, field):
    with pytest.raises(InvalidCommand) as caught:
        log.append(ChainHead.genesis("acme"), draft(1, **overrides))
    assert caught.value.field == field


def test_a_draft_cannot_join_another_tenants_chain():
    with pytest.raises(InvalidCommand) as caught:
        log.append(ChainHead.genesis("acme"), draft(1, tenant="globex"))
    assert "globex" in str(caught.value) and "acme" in str(caught.value)


def test_safe_integers_and_negative_numbers_are_fine():
    record = log.append(ChainHead.genesis("acme"), draft(1, before=-(2**53 - 1), after=2**53 - 1))
    assert log.verify([record]).ok


# --- verifying ------------------------------------------------------------------------


def test_an_intact_chain_verifies_and_reports_its_head():
    records = chain(5)
    report = log.verify(records)
    assert report.ok and report.problem is None
    assert report.checked == 5
    assert report.head == ChainHead.of(records[-1])
    assert report.tenant_id == "acme"


def test_an_empty_chain_is_sound():
    report = log.verify([], "acme")
    assert report.ok and report.checked == 0 and report.head == ChainHead.genesis("acme")


def test_editing_a_middle_record_names_that_record():
    records = chain(5)
    records[2] = replace(records[2], after="+86 10 9999 9999")
    report = log.verify(records)
    assert not report.ok
    assert report.problem.kind is ProblemKind.EDITED
    assert (report.problem.sequence, report.problem.position) == (3, 2)
    assert "record 3" in report.problem.detail and "opportunity o0" in report.problem.detail
    assert report.checked == 2 and report.head == ChainHead.of(records[1])


def test_editing_a_record_and_its_hash_breaks_the_next_link():
    records = chain(5)
    edited = replace(records[2], reason="nothing to see")
    records[2] = replace(edited, hash=log.compute_hash(edited))
    report = log.verify(records)
    assert report.problem.kind is ProblemKind.BROKEN_LINK
    assert report.problem.sequence == 4
    assert "does not link to record 3" in report.problem.detail


@pytest.mark.parametrize("edit", [{"after": 1.5}, {"occurred_at": datetime(2026, 1, 1)}, {"source": "fax"}])
def test_content_no_writer_could_have_hashed_is_reported_as_an_edit(edit):
    records = chain(3)
    records[1] = replace(records[1], **edit)
    problem = log.verify(records).problem
    assert (problem.kind, problem.sequence) == (ProblemKind.EDITED, 2)


def test_a_forged_hash_field_is_reported_as_an_edit():
    records = chain(2)
    records[1] = replace(records[1], hash="not-a-hash")
    assert log.verify(records).problem.kind is ProblemKind.EDITED


def test_deleting_a_middle_record_reports_the_gap():
    records = chain(5)
    del records[2]
    problem = log.verify(records).problem
    assert problem.kind is ProblemKind.GAP
    assert problem.sequence == 3 and problem.position == 2
    assert "record 3 missing: record 4 follows record 2" in problem.detail


def test_deleting_several_records_names_the_missing_range():
    records = chain(6)
    del records[1:4]
    problem = log.verify(records).problem
    assert problem.kind is ProblemKind.GAP
    assert "record 2-4 missing: record 5 follows record 1" in problem.detail


def test_deleting_the_first_record_is_a_gap_at_the_start():
    problem = log.verify(chain(3)[1:], "acme").problem
    assert problem.kind is ProblemKind.GAP
    assert problem.sequence == 1 and "follows the start of the chain" in problem.detail


def test_a_repeated_record_is_a_duplicate():
    records = chain(4)
    records.insert(2, records[1])
    problem = log.verify(records).problem
    assert problem.kind is ProblemKind.DUPLICATE
    assert (problem.sequence, problem.position) == (2, 2)


def test_reordered_records_are_reported_where_the_order_breaks():
    records = chain(5)
    records[2], records[3] = records[3], records[2]
    problem = log.verify(records).problem
    assert problem.kind is ProblemKind.GAP
    assert (problem.sequence, problem.position) == (3, 2)
    assert "record 4 follows record 2" in problem.detail


def test_a_record_after_a_later_one_is_out_of_order():
    records = chain(4)
    records.append(records[1])
    problem = log.verify(records).problem
    assert problem.kind is ProblemKind.OUT_OF_ORDER
    assert "record 2 comes after record 4" in problem.detail


def test_renumbering_to_reorder_breaks_the_hashes():
    records = chain(5)
    records[2], records[3] = replace(records[3], sequence=3), replace(records[2], sequence=4)
    problem = log.verify(records).problem
    assert problem.kind is ProblemKind.EDITED and problem.sequence == 3


def test_a_record_of_another_tenant_is_reported():
    records = chain(4)
    records.insert(2, chain(3, tenant="globex")[2])
    problem = log.verify(records).problem
    assert problem.kind is ProblemKind.OTHER_TENANT
    assert problem.position == 2 and "'globex'" in problem.detail


def test_another_tenants_chain_relabelled_breaks_at_its_first_record():
    stolen = [replace(r, tenant_id="acme") for r in chain(3, tenant="globex")]
    assert log.verify(stolen, "acme").problem.kind is ProblemKind.EDITED
    rehashed = [replace(r, hash=log.compute_hash(r)) for r in stolen]
    problem = log.verify(rehashed, "acme").problem
    assert problem.kind is ProblemKind.BROKEN_LINK and problem.sequence == 1
    assert "genesis" in problem.detail


def test_verifying_a_whole_chain_as_another_tenant_fails_at_once():
    problem = log.verify(chain(2, tenant="globex"), "acme").problem
    assert problem.kind is ProblemKind.OTHER_TENANT and problem.position == 0


def test_a_fully_recomputed_chain_is_caught_only_by_a_published_anchor():
    records = chain(5)
    anchor = ChainHead.of(records[-1])
    forged = rechain([*records[:2], *records[3:]])  # record 3 removed, the rest renumbered and rehashed
    assert log.verify(forged).ok  # the chain alone cannot tell
    problem = log.verify(forged, anchor=ChainHead.of(records[3])).problem
    assert problem.kind is ProblemKind.ANCHOR_MISMATCH and problem.sequence == 4
    assert log.verify(records, anchor=anchor).ok


def test_cutting_records_off_the_end_is_caught_by_the_anchor():
    records = chain(5)
    problem = log.verify(records[:3], anchor=ChainHead.of(records[-1])).problem
    assert problem.kind is ProblemKind.TRUNCATED
    assert (problem.sequence, problem.position) == (4, 3)
    assert "end at 3" in problem.detail and "reaches 5" in problem.detail


def test_verification_resumes_from_a_checked_head():
    records = chain(6)
    first = log.verify(records[:4])
    rest = log.verify(records[4:], after=first.head)
    assert rest.ok and rest.checked == 2 and rest.head == ChainHead.of(records[-1])
    assert log.verify(records[5:], after=first.head).problem.kind is ProblemKind.GAP


def test_a_head_of_another_tenant_cannot_resume_a_chain():
    with pytest.raises(InvalidCommand):
        log.verify(chain(2), "acme", after=ChainHead.genesis("globex"))


def test_verification_reads_the_records_once():
    records = chain(4)
    assert log.verify(iter(records)).checked == 4


# --- querying -------------------------------------------------------------------------


def test_query_filters_by_entity_actor_field_and_time():
    head = ChainHead.genesis("acme")
    drafts = [
        draft(1, entity_id="o1", actor_id="rep-1", field="contact_phone"),
        draft(2, entity_id="o1", actor_id="mgr-1", field="grade"),
        draft(3, entity_id="o2", actor_id="rep-1", field="contact_phone"),
        draft(4, entity_type="account", entity_id="o1", actor_id="rep-1", field="name"),
    ]
    records, _ = log.append_all(head, drafts)

    def seqs(**criteria):
        return [r.sequence for r in log.select(records, AuditQuery("acme", **criteria))]

    assert seqs() == [1, 2, 3, 4]
    assert seqs(entity_type="opportunity", entity_id="o1") == [1, 2]
    assert seqs(actor_id="rep-1") == [1, 3, 4]
    assert seqs(field="contact_phone") == [1, 3]
    # Half-open: since <= occurred_at < until.
    assert seqs(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4)) == [2, 3]
    assert seqs(since=(T0 + timedelta(minutes=3)).astimezone(BEIJING)) == [3, 4]


def test_query_never_returns_another_tenants_records():
    mixed = chain(2, tenant="globex") + chain(2)
    assert [r.tenant_id for r in log.select(mixed, AuditQuery("acme"))] == ["acme", "acme"]


@pytest.mark.parametrize(
    "criteria, field",
    [
        ({"tenant_id": ""}, "tenant_id"),
        ({"since": datetime(2026, 1, 1)}, "since"),
        ({"since": T0, "until": T0}, "until"),
    ],
)
def test_bad_queries_are_refused_naming_the_criterion(criteria, field):
    with pytest.raises(InvalidCommand) as caught:
        AuditQuery(**{"tenant_id": "acme", **criteria})
    assert caught.value.field == field


# --- exporting ------------------------------------------------------------------------


def test_json_export_round_trips_and_still_verifies():
    head = ChainHead.genesis("acme")
    decision = PermissionDecision(False, "grade-locked-after-closed-won", "SEC-SALES-2026-01", 1)
    records, _ = log.append_all(
        head,
        [
            draft(1, reason="客户搬家", after={"phone": "+86", "ext": [1, 2]}),
            draft(2, field="grade", before="B", after="A", decision=decision, occurred_at=T0.astimezone(BEIJING)),
            draft(3, source=Source.SYSTEM),
        ],
    )
    text = log.to_json(records)
    lines = text.splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 5  # one record per line
    back = log.records_from_json(text)
    assert [log.record_to_dict(r) for r in back] == [log.record_to_dict(r) for r in records]
    assert log.verify(back).ok
    assert back[1].decision == decision and back[2].source is Source.SYSTEM


def test_the_stored_form_is_the_canonical_bytes_plus_the_hash_and_reads_back_exactly():
    decision = PermissionDecision(True, "rep-may-edit", "SEC-SALES-2026-01", 2)
    head = ChainHead.genesis("acme")
    for d in (draft(1, reason="客户搬家", after={"b": [1, {"z": None}], "a": True}), draft(2, decision=decision)):
        record, canonical = log.append_validated(head, d)
        assert canonical == log.canonical_bytes(record)
        assert record.hash == hashlib.sha256(canonical).hexdigest()
        stored = log.stored_json(record, canonical)
        assert stored == log.record_json(record)
        data = json.loads(stored)
        assert data == {**log.record_to_dict(record), "v": 1}
        assert log.record_from_dict(data) == record
        head = ChainHead.of(record)


def test_a_stored_record_of_another_canonical_format_is_refused():
    record = chain(1)[0]
    data = json.loads(log.record_json(record))
    data["v"] = 2
    with pytest.raises(InvalidCommand) as refused:
        log.record_from_dict(data)
    assert refused.value.field == "v"


def test_an_edited_export_no_longer_verifies():
    text = log.to_json(chain(3)).replace("+86 10 0000 0003", "+86 10 0000 0666")
    assert log.verify(log.records_from_json(text)).problem.kind is ProblemKind.EDITED


def test_empty_json_export_is_an_empty_array():
    assert log.to_json([]) == "[]\n"
    assert log.records_from_json("[]") == []


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda d: d.update(extra=1), "extra"),
        (lambda d: d.pop("hash"), "hash"),
        (lambda d: d.update(actor_roles="rep"), "actor_roles"),
        (lambda d: d.update(sequence=0), "sequence"),
        (lambda d: d.update(entity_id=5), "entity_id"),
        (lambda d: d.update(decision={"allowed": True}), "decision"),
    ],
)
def test_reading_back_a_malformed_record_names_the_field(mutate, field):
    data = log.record_to_dict(chain(1)[0])
    mutate(data)
    with pytest.raises(InvalidCommand) as caught:
        log.record_from_dict(data)
    assert caught.value.field == field


def test_json_is_written_to_a_writer_as_it_goes():
    out = io.StringIO()
    assert log.write_json(iter(chain(3)), out) == 3
    assert len(log.records_from_json(out.getvalue())) == 3


def test_csv_export_has_a_header_and_one_row_per_record():
    decision = PermissionDecision(False, "grade-locked-after-closed-won", "SEC-SALES-2026-01", 1)
    record = log.append(
        ChainHead.genesis("acme"),
        draft(1, field="grade", before="B", after="A", decision=decision, actor_roles=("rep", "manager")),
    )
    rows = list(csv.DictReader(io.StringIO(log.to_csv([record]))))
    assert len(rows) == 1
    row = rows[0]
    assert list(row) == list(log.CSV_COLUMNS)
    assert row["sequence"] == "1"
    assert row["occurred_at"] == "2026-11-02T09:01:00.000000Z"
    assert row["actor_roles"] == "manager;rep"
    assert (row["before"], row["after"]) == ('"B"', '"A"')
    assert (row["decision_allowed"], row["decision_rule_id"]) == ("denied", "grade-locked-after-closed-won")
    assert row["decision_policy"] == "SEC-SALES-2026-01@1"
    assert row["hash"] == record.hash


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised():
    record = log.append(
        ChainHead.genesis("acme"), draft(1, reason='=HYPERLINK("http://evil")', before=-5, after="@SUM(A1)")
    )
    row = next(csv.DictReader(io.StringIO(log.to_csv([record]))))
    assert row["reason"] == "'=HYPERLINK(\"http://evil\")"
    assert row["before"] == "-5"  # a plain number stays a number
    assert row["after"] == '"@SUM(A1)"'  # JSON quoting already keeps it from starting with @


def test_csv_goes_to_a_writer_and_counts_rows():
    out = io.StringIO(newline="")
    assert log.write_csv(chain(4), out) == 4
    assert out.getvalue().count("\r\n") == 5


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 13, 17, 5, 9, 0, tzinfo=timezone.utc),
        datetime(2026, 3, 14, 1, 5, 9, 123, tzinfo=timezone(timedelta(hours=8))),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
        datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
    ],
)
def test_the_canonical_time_has_one_spelling(moment):
    # The hash of every stored record depends on this exact text.
    assert log.format_time(moment) == moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
