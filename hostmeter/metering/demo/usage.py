"""The demo's usage history: one sample per organization, resource and day, a gauge
that grows or a counter that varies, and the daily cut-offs its usage updates run at."""

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
    days: int,
    fill: float,
    hot: float | None,
    *,
    whole: bool,
    threshold: float,
) -> list[int]:
    """An amount per day, busier as the customer grows; a hot one spikes on the last day."""
    growth = rng.uniform(0.0, 0.4)
    ceiling = _fill_cap(threshold) * limit
    values = []
    for day in range(days):
        share = day / (days - 1) if days > 1 else 1.0
        amount = min(ceiling, fill * limit * (1 + growth * share) * rng.uniform(0.75, 1.25))
        if hot is not None and day == days - 1:
            amount = hot * limit
            if whole:
                amount = max(round(amount), math.floor(threshold * limit) + 1)
        values.append(round(amount) * SCALE if whole else round(amount * SCALE))
    return values


def _fill_cap(threshold: float) -> float:
    """How full an organization that is not meant to be flagged may get, noise included."""
    return min(0.7, threshold * 0.85)


def _usage_samples(
    *,
    seed: int,
    organizations: list[_Organization],
    catalog: _Catalog,
    measured: list[datetime],
    progress: Callable[[str], None],
) -> Iterator[tuple[int, int, datetime, int, str]]:
    """Yields every sample, one organization at a time, so memory stays flat."""
    step = max(1, len(organizations) // 5)
    for org in organizations:
        # One generator per organization: its numbers do not depend on the others.
        rng = random.Random(f"{seed}:usage:{org.index}")
        for resource in catalog.resources_of(org.services):
            limit = org.limits[resource.code]
            whole = resource.unit != "MB"
            threshold = float(resource.threshold_percent) / 100
            fill = min(_fill_cap(threshold), 0.05 + rng.betavariate(2, 5) * 0.8)
            shape = _counter if resource.kind == Resource.Kind.COUNTER else _gauge
            values = shape(
                rng,
                limit,
                len(measured),
                fill,
                org.hot.get(resource.code),
                whole=whole,
                threshold=threshold,
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
