"""Billing periods: the months hosting is sold by, in the provider's time zone.

A period starts at midnight, local time, on the anchor day (1–28, so that every month
has it) and ends at the next one. Usage is counted per period by instant: a sample or a
cut-off belongs to the period with start < instant ≤ end. An instant exactly at
midnight on the anchor day therefore closes the period that ends there: a counter
measured then reports traffic up to that instant, and an update as of that midnight is
the period's last, holding its whole total.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ANCHOR_DAYS = range(1, 29)


@dataclass(frozen=True, order=True)
class Period:
    """One billing period, (start, end] in UTC, and the local dates it spans."""

    start: datetime
    end: datetime
    first_day: date
    last_day: date

    @property
    def key(self) -> str:
        """YYYY-MM of the month the period starts in: how commands, the API and file
        names name it."""
        return f"{self.first_day:%Y-%m}"

    @property
    def label(self) -> str:
        """ "December 2026" for a calendar month, "15 Dec 2026 – 14 Jan 2027" otherwise."""
        if self.first_day.day == 1:
            return f"{self.first_day:%B %Y}"
        first, last = self.first_day, self.last_day
        return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"

    def __contains__(self, instant: datetime) -> bool:
        return self.start < instant <= self.end


def period_from_bounds(start: datetime, end: datetime, *, zone: ZoneInfo) -> Period:
    """The period with these bounds (as an update stored them), dated in a time zone."""
    return Period(
        start=start,
        end=end,
        first_day=start.astimezone(zone).date(),
        last_day=(end.astimezone(zone) - timedelta(microseconds=1)).date(),
    )


def _check_anchor(anchor_day: int) -> None:
    if anchor_day not in ANCHOR_DAYS:
        raise ValueError(f"The billing anchor day is 1 to 28, not {anchor_day}.")


def _month_after(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, day.day)


def _month_before(day: date) -> date:
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, day.day)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight of a day, in UTC. Where a clock change skips midnight, the first
    instant of the day (fold 0 reads a skipped time with the offset before the change);
    where midnight happens twice, the first."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def period_starting(first_day: date, *, zone: ZoneInfo) -> Period:
    """The period whose first local day is first_day (an anchor day)."""
    following = _month_after(first_day)
    return Period(
        start=_midnight(first_day, zone),
        end=_midnight(following, zone),
        first_day=first_day,
        last_day=following - timedelta(days=1),
    )


def billing_period(instant: datetime, *, anchor_day: int, zone: ZoneInfo) -> Period:
    """The period an instant belongs to (start < instant ≤ end)."""
    _check_anchor(anchor_day)
    if instant.tzinfo is None:
        raise ValueError("A billing period is found for an instant with a time zone.")
    local = instant.astimezone(zone)
    first = date(local.year, local.month, anchor_day)
    if local.day < anchor_day:
        first = _month_before(first)
    period = period_starting(first, zone=zone)
    # Midnight of the anchor day itself closes the period before it.
    while instant <= period.start:
        period = period_starting(_month_before(period.first_day), zone=zone)
    return period


def period_named(key: str, *, anchor_day: int, zone: ZoneInfo) -> Period:
    """The period a YYYY-MM key names: the one starting in that month."""
    _check_anchor(anchor_day)
    wrong = ValueError(f"“{key}” is not a billing period: give its month as YYYY-MM.")
    if not re.fullmatch(r"\d{4}-\d{2}", key):
        raise wrong
    try:
        first = date(int(key[:4]), int(key[5:]), anchor_day)
    except ValueError:
        raise wrong from None
    return period_starting(first, zone=zone)
