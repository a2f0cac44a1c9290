"""Which usage update the pages, files and API show: the latest, or a billing period's."""

from dataclasses import dataclass
from types import EllipsisType
from zoneinfo import ZoneInfo

from django.db.models import F, QuerySet

from hostmeter.tenancy.billing import Period, period_from_bounds
from hostmeter.tenancy.models import Provider

from ..models import UsageUpdate


def usage_updates_latest_first() -> QuerySet[UsageUpdate]:
    """The completed updates, the most recent (the one pages and reports show) first."""
    return UsageUpdate.objects.filter(status=UsageUpdate.Status.SUCCEEDED).order_by("-cutoff")


def usage_update_latest() -> UsageUpdate | None:
    """The most recent completed update: the one pages and reports show."""
    return usage_updates_latest_first().first()


@dataclass(frozen=True)
class UsagePeriod:
    """A billing period that has figures: the update that shows them, and whether the
    period is over (its update is as of its end) or still running (to date)."""

    period: Period
    update: UsageUpdate

    @property
    def key(self) -> str:
        return self.period.key

    @property
    def closed(self) -> bool:
        return self.update.closes_period

    @property
    def label(self) -> str:
        return self.period.label if self.closed else f"{self.period.label}, to date"


class UnknownPeriod(ValueError):
    """A period that is not YYYY-MM, or has no figures."""


def usage_periods(
    *, zone: ZoneInfo, latest: UsageUpdate | None | EllipsisType = ...
) -> list[UsagePeriod]:
    """The current period to date (the latest update's) and every closed period (the
    update as of its end), newest first. A month closes once, so there are few.
    latest: the latest completed update (or None), when the caller has read it already."""
    if latest is ...:
        latest = usage_update_latest()
    if latest is None or latest.period_start is None:
        return []
    closed = UsageUpdate.objects.filter(
        status=UsageUpdate.Status.SUCCEEDED, cutoff=F("period_end")
    ).order_by("-cutoff")
    found = [] if latest.closes_period else [latest]
    found += list(closed)
    return [p for u in found if (p := usage_period_of(update=u, zone=zone)) is not None]


def usage_period_named(
    *, key: str | None, zone: ZoneInfo, periods: list[UsagePeriod] | None = None
) -> UsagePeriod | None:
    """The period a YYYY-MM key names (none given: the latest update's period); None
    before the first update. UnknownPeriod for a key that is not a month with figures.
    A page that also lists the periods passes the usage_periods it read."""
    if periods is None:
        periods = usage_periods(zone=zone)
    if not key:
        return periods[0] if periods else None
    key = key.strip()
    for period in periods:
        if period.key == key:
            return period
    known = ", ".join(p.key for p in periods) or "none yet"
    raise UnknownPeriod(
        f"“{key[:20]}” is not a billing period with usage figures (YYYY-MM; known: {known})."
    )


def usage_period_for_key(key: str) -> UsagePeriod:
    """The billing period a YYYY-MM key names, dated in the provider's time zone (the
    API's and the commands' `period`); UnknownPeriod for anything else."""
    found = usage_period_named(key=key, zone=Provider.get().zone)
    if found is None:  # no key, or no figures at all
        raise UnknownPeriod("Give a billing period as YYYY-MM; there are no usage figures yet.")
    return found


def usage_update_of_period(*, key: str, zone: ZoneInfo) -> UsageUpdate | None:
    """The update a page, a report or the API shows for a period key: a closed period's
    closing update, the current period's latest; without a key, the latest update (one
    query). None before the first update; UnknownPeriod for a key with no figures."""
    if not key:
        return usage_update_latest()
    found = usage_period_named(key=key, zone=zone)
    return found.update if found else None


def usage_period_of(*, update: UsageUpdate, zone: ZoneInfo) -> UsagePeriod | None:
    """The billing period an update's figures belong to (closed when it is as of the
    period's end, else to date), dated in a time zone; None before it ran."""
    if update.period_start is None or update.period_end is None:
        return None
    period = period_from_bounds(update.period_start, update.period_end, zone=zone)
    return UsagePeriod(period, update)
