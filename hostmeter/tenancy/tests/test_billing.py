"""Billing periods in the provider's time zone (tenancy.billing)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hostmeter.tenancy.billing import billing_period, period_named, period_starting

BERLIN = ZoneInfo("Europe/Berlin")
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago"]


def test_a_calendar_month_in_utc():
    period = billing_period(datetime(2026, 12, 4, 2, tzinfo=UTC), anchor_day=1, zone=UTC)
    assert (period.start, period.end) == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert (period.first_day, period.last_day) == (date(2026, 12, 1), date(2026, 12, 31))
    assert period.key == "2026-12"
    assert period.label == "December 2026"


def test_midnight_of_the_anchor_day_closes_the_period_before():
    boundary = datetime(2026, 12, 1, tzinfo=UTC)
    assert billing_period(boundary, anchor_day=1, zone=UTC).key == "2026-11"
    after = boundary + timedelta(microseconds=1)
    assert billing_period(after, anchor_day=1, zone=UTC).key == "2026-12"


def test_the_boundary_is_local_midnight_of_the_providers_zone():
    # 23:30 UTC on 30 November is 00:30 on 1 December in Berlin: December already.
    instant = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert billing_period(instant, anchor_day=1, zone=BERLIN).key == "2026-12"
    assert billing_period(instant, anchor_day=1, zone=UTC).key == "2026-11"
    assert billing_period(instant, anchor_day=1, zone=BERLIN).start == datetime(
        2026, 11, 30, 23, tzinfo=UTC
    )


def test_a_period_across_a_clock_change_is_a_local_month_not_a_fixed_length():
    # Berlin's clocks go back on 25 October 2026: the period is an hour longer.
    october = period_named("2026-10", anchor_day=1, zone=BERLIN)
    assert october.start == datetime(2026, 9, 30, 22, tzinfo=UTC)  # CEST, UTC+2
    assert october.end == datetime(2026, 10, 31, 23, tzinfo=UTC)  # CET, UTC+1
    assert october.end - october.start == timedelta(days=31, hours=1)


def test_a_midnight_skipped_by_a_clock_change_starts_at_the_first_instant_of_the_day():
    # Santiago springs forward at 00:00 on 6 September 2026: that day starts at 01:00.
    zone = ZoneInfo("America/Santiago")
    period = period_named("2026-09", anchor_day=6, zone=zone)
    assert period.start == datetime(2026, 9, 6, 4, tzinfo=UTC)
    assert period.start.astimezone(zone).hour == 1
    assert billing_period(period.start, anchor_day=6, zone=zone).key == "2026-08"


def test_anchor_day_28_and_a_month_with_31_days():
    period = billing_period(datetime(2027, 1, 31, 12, tzinfo=UTC), anchor_day=28, zone=UTC)
    assert (period.first_day, period.last_day) == (date(2027, 1, 28), date(2027, 2, 27))
    february = billing_period(datetime(2027, 2, 28, 12, tzinfo=UTC), anchor_day=28, zone=UTC)
    assert (february.first_day, february.last_day) == (date(2027, 2, 28), date(2027, 3, 27))
    assert february.label == "28 Feb 2027 – 27 Mar 2027"
    assert february.key == "2027-02"


def test_the_year_turns_both_ways():
    january = billing_period(datetime(2027, 1, 10, tzinfo=UTC), anchor_day=15, zone=UTC)
    assert (january.first_day, january.last_day) == (date(2026, 12, 15), date(2027, 1, 14))
    december = period_named("2026-12", anchor_day=15, zone=UTC)
    assert december == january


@pytest.mark.parametrize("anchor", [0, 29, 31, -1])
def test_an_anchor_day_outside_1_to_28_is_refused(anchor):
    with pytest.raises(ValueError, match="1 to 28"):
        billing_period(datetime(2026, 1, 1, tzinfo=UTC), anchor_day=anchor, zone=UTC)


@pytest.mark.parametrize("key", ["2026-13", "2026-00", "26-01", "2026-1", "2026/01", "", "x"])
def test_a_period_key_that_is_not_a_month_is_refused(key):
    with pytest.raises(ValueError, match="YYYY-MM"):
        period_named(key, anchor_day=1, zone=UTC)


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        billing_period(datetime(2026, 1, 1), anchor_day=1, zone=UTC)


@given(
    instant=st.datetimes(
        min_value=datetime(2001, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)
    ),
    anchor=st.integers(min_value=1, max_value=28),
    zone=st.sampled_from(ZONES).map(ZoneInfo),
)
def test_every_instant_falls_in_exactly_one_period_that_tiles_the_timeline(instant, anchor, zone):
    period = billing_period(instant, anchor_day=anchor, zone=zone)
    assert period.start < instant <= period.end
    assert instant in period
    # Local midnight of the anchor day (or the day's first instant) at both ends.
    start, end = period.start.astimezone(zone), period.end.astimezone(zone)
    assert (start.day, end.day) == (anchor, anchor)
    assert start.hour <= 1 and start.minute == 0 and end.hour <= 1 and end.minute == 0
    # The next period starts where this one ends, and the key names it back.
    following = billing_period(period.end + timedelta(microseconds=1), anchor_day=anchor, zone=zone)
    assert following.start == period.end
    assert following.first_day == period.last_day + timedelta(days=1)
    assert period_named(period.key, anchor_day=anchor, zone=zone) == period
    assert period_starting(period.first_day, zone=zone) == period
