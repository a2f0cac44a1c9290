"""The demo's usage history: one sample per organization, resource and day, a gauge
that grows or a counter whose monthly total varies, and the daily cut-offs its usage
updates run at."""

import math
import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, tzinfo
from datetime import time as clock

from hostmeter.fields import SCALE
from hostmeter.tenancy.models import Resource

from .plan import _Catalog, _Organization

DEMO_SOURCE = "demo"
DEMO_PROVIDER = {
    "name": "Demo Hosting",
    "time_zone": "Europe/Amsterdam",
    "usage_schedule": "0 2 * * *",
}
CUTOFF_AT = clock(2, 0)  # matches DEMO_PROVIDER's schedule
SAMPLE_BEFORE_CUTOFF = timedelta(hours=1)


# ---------------------------------------------------------------- usage


def _gauge(
    rng: random.Random,
    limit: int,
    days: int,
    fill: float,
    hot: float | None,
    *,
    whole: bool,
    threshold: float,
) -> list[int]:
    """A level growing towards its last value, with small day-to-day noise."""
    if whole:
        if hot is not None:  # a hot count must really end above its threshold
            end = max(round(hot * limit), math.floor(threshold * limit) + 1)
        else:
            end = min(max(round(fill * limit), 1), math.floor(_fill_cap(threshold) * limit))
        start = max(0, round(end * rng.uniform(0.5, 1.0)))
    else:
        end = (hot or fill) * limit
        start = end * rng.uniform(0.55, 0.9)
    values = []
    for day in range(days):
        share = day / (days - 1) if days > 1 else 1.0
        level = start + (end - start) * share
        if day < days - 1 and not whole:
            level *= 1 + rng.gauss(0, 0.015)
        values.append(round(level) * SCALE if whole else max(0, round(level * SCALE)))
    return values


def _counter(
    rng: random.Random,
    limit: int,
    periods: list[int],
    fill: float,
    hot: float | None,
    *,
    whole: bool,
    threshold: float,
) -> list[int]:
    """An amount per day whose billing period's total is a share of the monthly limit,
    busier as the customer grows. A hot one ends its current (last) period above its
    threshold; no other period total reaches it.

    periods: the billing period (any label) each day's sample counts in, in order."""
    days = len(periods)
    growth = rng.uniform(0.0, 0.4)
    per_period = {p: periods.count(p) for p in periods}
    month = {p: _days_in_full_period(periods, p, per_period) for p in per_period}
    amounts = []
    for day, period in enumerate(periods):
        share = day / (days - 1) if days > 1 else 1.0
        amount = fill * limit * (1 + growth * share) * rng.uniform(0.75, 1.25) / month[period]
        amounts.append(amount)
    ceiling = _fill_cap(threshold) * limit
    last = periods[-1]
    for period in per_period:
        mine = [i for i, p in enumerate(periods) if p == period]
        total = sum(amounts[i] for i in mine)
        if hot is not None and period == last:
            target = hot * limit
            if whole:
                target = max(round(target), math.floor(threshold * limit) + 1)
        elif total > ceiling:
            target = ceiling
        else:
            continue
        for i in mine:
            amounts[i] *= target / total if total else 0
        if total == 0 and mine:
            amounts[mine[-1]] = target
    values = [round(a) * SCALE if whole else round(a * SCALE) for a in amounts]
    if whole and hot is not None:
        # Rounding day by day must not take a hot count back under its threshold.
        mine = [i for i, p in enumerate(periods) if p == last]
        short = max(round(hot * limit), math.floor(threshold * limit) + 1) * SCALE - sum(
            values[i] for i in mine
        )
        values[mine[-1]] = max(0, values[mine[-1]] + short)
    return values


def _days_in_full_period(periods: list[int], period: int, per_period: dict[int, int]) -> int:
    """How many days a period has in all: the demo's first and last ones are cut short
    by its start and today, the others are whole (28 to 31 days)."""
    return (
        max(per_period[period], 30) if period in (periods[0], periods[-1]) else per_period[period]
    )


def _fill_cap(threshold: float) -> float:
    """How full an organization that is not meant to be flagged may get, noise included."""
    return min(0.7, threshold * 0.85)


def _usage_samples(
    *,
    seed: int,
    organizations: list[_Organization],
    catalog: _Catalog,
    measured: list[datetime],
    periods: list[int],
    progress: Callable[[str], None],
) -> Iterator[tuple[int, int, datetime, int, str]]:
    """Yields every sample, one organization at a time, so memory stays flat.

    periods: the billing period each measured time counts in (counters fill a share of
    the monthly limit per period)."""
    step = max(1, len(organizations) // 5)
    for org in organizations:
        # One generator per organization: its numbers do not depend on the others.
        rng = random.Random(f"{seed}:usage:{org.index}")
        for resource in catalog.resources_of(org.services):
            limit = org.limits[resource.code]
            whole = resource.unit != "MB"
            threshold = float(resource.threshold_percent) / 100
            fill = min(_fill_cap(threshold), 0.05 + rng.betavariate(2, 5) * 0.8)
            hot = org.hot.get(resource.code)
            if resource.kind == Resource.Kind.COUNTER:
                values = _counter(rng, limit, periods, fill, hot, whole=whole, threshold=threshold)
            else:
                values = _gauge(
                    rng, limit, len(measured), fill, hot, whole=whole, threshold=threshold
                )
            for at, value in zip(measured, values, strict=True):
                yield org.pk, resource.pk, at, value, DEMO_SOURCE
        if (org.index + 1) % step == 0 or org.index + 1 == len(organizations):
            progress(f"  usage samples: {org.index + 1}/{len(organizations)} organizations")


def demo_cutoffs(*, days: int, now: datetime, zone: tzinfo) -> list[datetime]:
    """The daily cut-offs at 02:00 provider time, the last one at or before now.

    Built per local date rather than by walking the cron expression, so the
    day the clocks go back still has one update, not two.
    """
    local_now = now.astimezone(zone)
    last = local_now.date()
    if datetime.combine(last, CUTOFF_AT, tzinfo=zone) > now:
        last -= timedelta(days=1)
    dates = [last - timedelta(days=k) for k in range(days - 1, -1, -1)]
    return [datetime.combine(d, CUTOFF_AT, tzinfo=zone) for d in dates]
