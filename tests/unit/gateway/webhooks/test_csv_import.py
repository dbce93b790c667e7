from datetime import UTC, datetime

import pytest

from services.gateway.webhooks.csv_import import MAX_ROWS, RowError, import_csv
from services.gateway.webhooks.model import MalformedPayload, thaw

from .conftest import NOW, TENANT

HEADER = "source,source_id,rep_id,customer_id,kind,occurred_at,duration_minutes,latitude,longitude,address,note"


def test_happy_path():
    data = (
        "\ufeff" + HEADER + "\r\n"
        "crm,V-1,rep-1,acct-1,visit,2026-02-01T10:00:00+08:00,45,30.28,120.01,\"Hangzhou, West Lake\",first visit\r\n"
        "crm,C-1,rep-1,acct-1,CALL,2026-02-02T03:00:00Z,2.5,,,,\r\n"
        "mail,E-1,rep-2,,email,2026-02-03T03:00:00Z,,,,,\r\n"
    ).encode()
    report = import_csv(TENANT, data, NOW)
    assert report.errors == []
    visit, call, mail = report.accepted
    assert visit.source == "csv" and visit.source_id == "crm:V-1" and visit.kind == "visit"
    assert visit.occurred_at == datetime(2026, 2, 1, 2, tzinfo=UTC)
    assert visit.duration_seconds == 2700 and visit.rep_id == "rep-1" and visit.customer_id == "acct-1"
    loc = visit.location
    assert (loc.latitude, loc.longitude, loc.address) == (30.28, 120.01, "Hangzhou, West Lake")
    assert visit.details["note"] == "first visit" and visit.details["origin"] == "crm"
    assert thaw(visit.evidence)["address"] == "Hangzhou, West Lake"
    assert call.kind == "call" and call.duration_seconds == 150 and call.location is None
    assert mail.kind == "email" and mail.customer_id is None and mail.duration_seconds is None
    assert report.rows == 3


def test_minimal_header_in_any_order_and_case():
    data = "Kind,Occurred_At,Rep_Id,Source_Id,Source\nvisit,2026-02-01T10:00:00Z,r,1,crm\n"
    (a,) = import_csv(TENANT, data, NOW).accepted
    assert a.source_id == "crm:1" and a.location is None


def row(**values) -> str:
    base = {
        "source": "crm", "source_id": "X", "rep_id": "rep-1", "customer_id": "acct", "kind": "visit",
        "occurred_at": "2026-02-01T10:00:00Z", "duration_minutes": "30", "latitude": "", "longitude": "",
        "address": "", "note": "",
    }
    base.update(values)
    return ",".join(base[c] for c in HEADER.split(","))


@pytest.mark.parametrize(
    ("bad", "column", "problem"),
    [
        (row(source=""), "source", "required"),
        (row(source_id=" "), "source_id", "required"),
        (row(rep_id=""), "rep_id", "required"),
        (row(kind=""), "kind", "required"),
        (row(occurred_at=""), "occurred_at", "required"),
        (row(kind="lunch"), "kind", "expected one of"),
        (row(occurred_at="2026-02-01T10:00:00"), "occurred_at", "offset"),
        (row(occurred_at="01/02/2026"), "occurred_at", "RFC 3339"),
        (row(occurred_at="2026-02-01"), "occurred_at", "date"),
        (row(occurred_at="2027-01-01T00:00:00Z"), "occurred_at", "future"),
        (row(duration_minutes="ten"), "duration_minutes", "not a number"),
        (row(duration_minutes="-5"), "duration_minutes", ">= 0"),
        (row(duration_minutes="nan"), "duration_minutes", "finite"),
        (row(latitude="30.1"), "longitude", "together"),
        (row(longitude="120"), "latitude", "together"),
        (row(latitude="91", longitude="0"), "latitude", "out of range"),
        (row(latitude="0", longitude="-181"), "longitude", "out of range"),
        (row() + ",extra", None, "12 fields"),
    ],
)
def test_each_row_error_is_reported_and_the_other_rows_survive(bad, column, problem):
    data = "\n".join([HEADER, row(source_id="OK-1"), bad, row(source_id="OK-2")]) + "\n"
    report = import_csv(TENANT, data, NOW)
    assert [a.source_id for a in report.accepted] == ["crm:OK-1", "crm:OK-2"]
    (err,) = report.errors
    assert err.row == 3 and err.column == column and problem in err.problem


def test_short_row_is_padded_then_validated():
    data = HEADER + "\ncrm,S-1,rep-1\n"
    report = import_csv(TENANT, data, NOW)
    assert report.accepted == [] and report.errors == [RowError(2, "kind", "required")]


def test_duplicate_source_id_in_file_and_blank_lines_keep_row_numbers():
    data = "\n".join([HEADER, row(source_id="D"), "", row(source_id="D"), row(source_id="D", source="erp")]) + "\n"
    report = import_csv(TENANT, data, NOW)
    assert [a.source_id for a in report.accepted] == ["crm:D", "erp:D"]
    assert report.errors == [RowError(4, "source_id", "duplicate of row 2")]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ("", "empty"),
        (HEADER + ",colour\n", "unknown column(s): 'colour'"),
        ("source,source_id,rep_id,kind,occurred_at,kind\n", "duplicated column(s): kind"),
        ("source,source_id,rep_id,kind\n", "missing required column(s): occurred_at"),
        (b"source,source_id\xff\n", "not UTF-8"),
    ],
)
def test_whole_file_failures(data, needle):
    with pytest.raises(MalformedPayload) as e:
        import_csv(TENANT, data, NOW)
    assert needle in e.value.problem


def test_row_limit():
    data = "\n".join([HEADER] + [row(source_id=str(i)) for i in range(3)]) + "\n"
    assert len(import_csv(TENANT, data, NOW, max_rows=3).accepted) == 3
    with pytest.raises(MalformedPayload) as e:
        import_csv(TENANT, data, NOW, max_rows=2)
    assert e.value.field == "file"
    assert MAX_ROWS >= 10_000


def test_header_only_file_is_empty_report():
    report = import_csv(TENANT, HEADER + "\n", NOW)
    assert report.accepted == [] and report.errors == [] and report.rows == 0


def test_reimport_gives_identical_dedup_keys():
    data = "\n".join([HEADER, row(source_id="A"), row(source_id="B")])
    first = [a.dedup_key for a in import_csv(TENANT, data, NOW).accepted]
    second = [a.dedup_key for a in import_csv(TENANT, data.encode(), NOW).accepted]
    assert first == second
