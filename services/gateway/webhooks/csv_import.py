"""CSV bulk import for historical backfill → activities plus a per-row error report.

File contract (ours): UTF-8 (a BOM is accepted), comma-separated, one header row.

    required: source, source_id, rep_id, kind, occurred_at
    optional: customer_id, opportunity_id, lead_id, duration_minutes, latitude, longitude,
              address, note

* `kind`: visit | call | email | note (→ Activity kinds visit, call, email — direction
  unknown —, requirement_note: the `note` text recorded on `opportunity_id`/`customer_id`).
* `occurred_at`: RFC 3339 with an offset or Z (`2026-01-02T09:30:00+08:00`); not in the future.
* `duration_minutes`: a non-negative number (fractions allowed; stored as whole seconds).
* `latitude`/`longitude`: both or neither, in range.
* `source` is the system the history came from (e.g. `crm`, `dingtalk`); the Activity source is
  `csv` and its source id `<source>:<source_id>`, so re-importing a file changes nothing.

Whole-file failures (`MalformedPayload`, nothing accepted): no header, an unknown or duplicated
column, a required column missing, more than `max_rows` rows. Row failures (`RowError`: row
number as a spreadsheet shows it — the header is row 1 — column, problem) skip that row only.
A source id repeated inside the file is a row error on the later row.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import datetime

from .model import Activity, Location, MalformedPayload, parse_rfc3339

REQUIRED = ("source", "source_id", "rep_id", "kind", "occurred_at")
OPTIONAL = (
    "customer_id",
    "opportunity_id",
    "lead_id",
    "duration_minutes",
    "latitude",
    "longitude",
    "address",
    "note",
)
COLUMNS = REQUIRED + OPTIONAL
KINDS = {"visit": "visit", "call": "call", "email": "email", "note": "requirement_note"}
MAX_ROWS = 50_000


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    problem: str


@dataclass(frozen=True)
class ImportReport:
    accepted: list[Activity] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.accepted) + len({e.row for e in self.errors})


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedPayload("file", "not UTF-8") from None


class _RowInvalid(Exception):
    def __init__(self, column: str | None, problem: str) -> None:
        self.column, self.problem = column, problem


def _number(row: dict[str, str], column: str) -> float | None:
    text = row.get(column, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise _RowInvalid(column, f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise _RowInvalid(column, "not a finite number")
    return value


def _row_activity(tenant_id: str, row: dict[str, str], now: datetime) -> Activity:
    for column in REQUIRED:
        if not row.get(column, "").strip():
            raise _RowInvalid(column, "required")
    kind = KINDS.get(row["kind"].strip().lower())
    if kind is None:
        raise _RowInvalid("kind", f"expected one of {', '.join(KINDS)}, got {row['kind']!r}")
    try:
        occurred = parse_rfc3339(row["occurred_at"], "occurred_at")
    except MalformedPayload as exc:
        raise _RowInvalid("occurred_at", exc.problem) from None
    if occurred > now:
        raise _RowInvalid("occurred_at", "in the future")
    if kind == "requirement_note" and not (row.get("opportunity_id", "").strip() or row.get("customer_id", "").strip()):
        raise _RowInvalid("opportunity_id", "a note needs an opportunity_id or a customer_id")
    minutes = _number(row, "duration_minutes")
    if minutes is not None and minutes < 0:
        raise _RowInvalid("duration_minutes", "must be >= 0")
    lat, lon = _number(row, "latitude"), _number(row, "longitude")
    if (lat is None) != (lon is None):
        raise _RowInvalid("latitude" if lat is None else "longitude", "latitude and longitude come together")
    if lat is not None and not -90 <= lat <= 90:
        raise _RowInvalid("latitude", "out of range")
    if lon is not None and not -180 <= lon <= 180:
        raise _RowInvalid("longitude", "out of range")
    address = row.get("address", "").strip() or None
    location = Location(lat, lon, address) if lat is not None or address else None
    return Activity(
        tenant_id=tenant_id,
        source="csv",
        source_id=f"{row['source'].strip()}:{row['source_id'].strip()}",
        kind=kind,
        occurred_at=occurred,
        rep_id=row["rep_id"].strip(),
        customer_id=row.get("customer_id", "").strip() or None,
        opportunity_id=row.get("opportunity_id", "").strip() or None,
        lead_id=row.get("lead_id", "").strip() or None,
        duration_seconds=round(minutes * 60) if minutes is not None else None,
        location=location,
        evidence=dict(row),
        details={"origin": row["source"].strip(), "note": row.get("note", "").strip() or None},
    )


def import_csv(tenant_id: str, data: bytes | str, now: datetime, max_rows: int = MAX_ROWS) -> ImportReport:
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise MalformedPayload("header", "empty file") from None
    except csv.Error as exc:
        raise MalformedPayload("header", f"unreadable CSV: {exc}") from None
    names = [h.strip().lower() for h in header]
    unknown = [h for h in names if h not in COLUMNS]
    if unknown:
        raise MalformedPayload(
            "header", f"unknown column(s): {', '.join(map(repr, unknown))}; allowed: {', '.join(COLUMNS)}"
        )
    duplicated = sorted({h for h in names if names.count(h) > 1})
    if duplicated:
        raise MalformedPayload("header", f"duplicated column(s): {', '.join(duplicated)}")
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise MalformedPayload("header", f"missing required column(s): {', '.join(missing)}")

    accepted: list[Activity] = []
    errors: list[RowError] = []
    first_row_of: dict[str, int] = {}
    count = 0
    row_no = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise MalformedPayload("file", f"unreadable CSV after row {reader.line_num}: {exc}") from None
        row_no += 1
        if not any(v.strip() for v in values):
            continue  # blank lines are not rows (but keep the numbering a spreadsheet shows)
        count += 1
        if count > max_rows:
            raise MalformedPayload("file", f"more than {max_rows} rows; split the file")
        if len(values) > len(names):
            errors.append(RowError(row_no, None, f"{len(values)} fields, header has {len(names)}"))
            continue
        row = dict(zip(names, values + [""] * (len(names) - len(values)), strict=True))
        try:
            activity = _row_activity(tenant_id, row, now)
        except _RowInvalid as exc:
            errors.append(RowError(row_no, exc.column, exc.problem))
            continue
        if activity.source_id in first_row_of:
            errors.append(RowError(row_no, "source_id", f"duplicate of row {first_row_of[activity.source_id]}"))
            continue
        first_row_of[activity.source_id] = row_no
        accepted.append(activity)
    return ImportReport(accepted, errors)
