from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from services.pulse.domain.windows import Admission, DayWindows, EventTimeGate, FixedWindows, WeekWindows, fmt_minutes

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


def test_day_windows_follow_the_tenant_time_zone():
    w = DayWindows(SH).window_of(datetime(2026, 11, 24, 17, 0, tzinfo=timezone.utc))  # 01:00 on the 25th
    assert w.key == "2026-11-25"
    assert w.start == datetime(2026, 11, 24, 16, 0, tzinfo=timezone.utc)
    assert w.end - w.start == timedelta(hours=24)


def test_day_windows_are_dst_aware():
    w = DayWindows(NY).window_for_day(date(2026, 11, 1))  # DST ends: 25 h day
    assert w.end - w.start == timedelta(hours=25)


def test_week_and_fixed_windows():
    w = WeekWindows(SH).window_of(datetime(2026, 11, 26, 3, 0, tzinfo=timezone.utc))
    assert w.key == "2026-W48"
    assert w.start == datetime(2026, 11, 23, 0, 0, tzinfo=SH)
    h = FixedWindows(timedelta(hours=1)).window_of(datetime(2026, 11, 26, 3, 59, tzinfo=timezone.utc))
    assert h.start == datetime(2026, 11, 26, 3, 0, tzinfo=timezone.utc)


def test_gate_accepts_out_of_order_until_window_end_plus_allowance():
    g = EventTimeGate(FixedWindows(timedelta(hours=1)), timedelta(minutes=10))
    t = datetime(2026, 11, 26, 3, 0, tzinfo=timezone.utc)
    assert g.admit("a", t + timedelta(minutes=50)) is Admission.ACCEPTED
    assert g.admit("b", t + timedelta(minutes=5)) is Admission.ACCEPTED  # out of order, same window
    assert g.admit("c", t + timedelta(minutes=69)) is Admission.ACCEPTED  # watermark 04:09
    assert g.admit("d", t + timedelta(minutes=59)) is Admission.ACCEPTED  # 03:00 window closes at 04:10
    assert g.admit("e", t + timedelta(minutes=70)) is Admission.ACCEPTED  # watermark 04:10
    assert g.admit("f", t + timedelta(minutes=59, seconds=59)) is Admission.TOO_LATE
    assert g.admit("a", t) is Admission.DUPLICATE
    assert g.duplicates == 1
    assert g.watermark == t + timedelta(minutes=70)
    (late,) = g.too_late
    assert late.event_id == "f" and late.window_key == "2026-11-26T03:00:00+00:00"
    assert "closed at 2026-11-26T04:10:00+00:00" in late.reason
    assert g.admit("f", t) is Admission.DUPLICATE  # a redelivered late event is not listed twice
    assert len(g.too_late) == 1


def test_fmt_minutes_never_rounds_across_a_threshold():
    assert fmt_minutes(timedelta(minutes=18)) == "18 min"
    assert fmt_minutes(timedelta(minutes=24, seconds=59.9)) == "24 min 59 s"
