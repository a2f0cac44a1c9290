"""The usage figures the summary and the overviews show: the status line, five figures
per resource (with the period's peak and the change since the previous period) and
history for the charts (by update and by billing period)."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.functional import cached_property

from hostmeter.tenancy.billing import Period, period_from_bounds
from hostmeter.tenancy.models import Organization, Provider, Reseller, Resource, Service
from hostmeter.tenancy.scope import Scope

from ..models import UsageAdjustment, UsageRollup, UsageRow, UsageUpdate
from ..scope import seen_at_sql, subtree_at
from .schedule import usage_schedule_next
from .updates import (
    UsagePeriod,
    usage_period_of,
    usage_updates_latest_first,
)

HISTORY = 60  # updates shown in charts
_NO_RESOURCE = -1  # an id no resource has


# ---------------------------------------------------------------- status line


@dataclass
class UsageStatus:
    latest: UsageUpdate | None
    next_run: datetime | None
    pending: UsageUpdate | None  # queued or running
    last_failed: UsageUpdate | None
    period: UsagePeriod | None = None  # the latest update's billing period
    shown: UsagePeriod | None = None  # the billing period a page shows (None: the latest)

    @property
    def showing_earlier(self) -> bool:
        """The page shows an earlier update than the latest (a closed period's)."""
        return bool(self.shown and self.latest and self.shown.update.pk != self.latest.pk)


def usage_status(*, provider: Provider) -> UsageStatus:
    """When usage was last updated, when the next update runs, and one under way."""
    # the latest completed update and the most recent other one, in one query (every
    # Usage page reads them: a round trip less)
    succeeded = UsageUpdate.Status.SUCCEEDED
    latest_pk = usage_updates_latest_first().values("pk")[:1]
    recent_pk = (
        UsageUpdate.objects.exclude(status=succeeded).order_by("-created_at").values("pk")[:1]
    )
    both = list(UsageUpdate.objects.filter(Q(pk__in=latest_pk) | Q(pk__in=recent_pk)))
    latest = next((u for u in both if u.status == succeeded), None)
    recent = [u for u in both if u.status != succeeded]
    pending = next((u for u in recent if u.status in ("queued", "running")), None)
    failed = next(
        (u for u in recent if u.status == "failed" and (not latest or u.cutoff > latest.cutoff)),
        None,
    )
    next_run = usage_schedule_next(provider=provider, now=timezone.now())[0]
    period = usage_period_of(update=latest, zone=provider.zone) if latest else None
    return UsageStatus(
        latest=latest, next_run=next_run, pending=pending, last_failed=failed, period=period
    )


# ---------------------------------------------------------------- usage figures


@dataclass
class ResourceFigures:
    """One resource's five figures for a subject (the provider, a reseller, an organization)."""

    resource: Resource
    limit: Decimal | None
    allocated: Decimal | None
    used: Decimal
    organizations: int | None = None  # in a roll-up: organizations with this resource
    increment: Decimal | None = None  # counters: since the previous update
    peak: Decimal | None = None  # gauges: the highest level of the period so far
    # the previous billing period's figure (its closing update's used), when compared
    previous: Decimal | None = None
    previous_period: Period | None = None
    # a closed period's counters: late usage that arrived after it closed (its adjustments)
    late_after_close: Decimal | None = None

    @classmethod
    def of(cls, resource: Resource, row: Any) -> "ResourceFigures":
        """The figures of a usage row or a roll-up (a row has no allocated or count)."""
        return cls(
            resource,
            row.limit,
            getattr(row, "allocated", None),
            row.used,
            getattr(row, "organizations_count", None),
            increment=row.increment,
            peak=row.peak,
        )

    @property
    def change(self) -> Decimal | None:
        """Used against the previous period's figure, in % (None without one, or from 0)."""
        if not self.previous:
            return None
        change = (self.used - self.previous) * 100 / self.previous
        return change.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def available(self) -> Decimal | None:
        if self.limit is None:
            return None
        return self.limit - (self.allocated or 0)

    @cached_property  # asked up to four times a cell (over, flagged, the text)
    def percent(self) -> Decimal | None:
        if not self.limit:
            return None
        # half up, as the report files round it
        return (self.used * 100 / self.limit).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def flagged(self) -> bool:
        return self.percent is not None and self.percent > self.resource.threshold_percent

    @property
    def over(self) -> bool:
        return self.percent is not None and self.percent > 100


@dataclass
class ServiceFigures:
    service: Service
    resources: list[ResourceFigures] = field(default_factory=list)
    subscribers: int | None = None


def _resources() -> dict[int, Resource]:
    return {r.pk: r for r in Resource.objects.select_related("service")}


def _group_by_service(figures: list[ResourceFigures]) -> list[ServiceFigures]:
    groups: dict[int, ServiceFigures] = {}
    for f in sorted(figures, key=lambda f: (f.resource.service.position, f.resource.position)):
        groups.setdefault(
            f.resource.service_id, ServiceFigures(f.resource.service)
        ).resources.append(f)
    return list(groups.values())


def _compare(
    figures: list[ResourceFigures],
    source: QuerySet[UsageRow] | QuerySet[UsageRollup],
    *,
    update: UsageUpdate,
    zone: ZoneInfo,
) -> None:
    """Sets each figure's previous: the same subject's figure in the closing update of the
    billing period just before the update's. Two queries however many resources: the
    closing update, then its rows by update id (on PostgreSQL, one partition of them)."""
    if update.period_start is None:
        return
    closing = (
        UsageUpdate.objects.filter(
            status=UsageUpdate.Status.SUCCEEDED,
            cutoff=update.period_start,
            period_end=update.period_start,
        )
        .values_list("pk", "period_start")
        .first()
    )
    if closing is None or closing[1] is None:
        return
    period = period_from_bounds(closing[1], update.period_start, zone=zone)
    found = dict(source.filter(update_id=closing[0]).values_list("resource_id", "used"))
    for f in figures:
        if f.resource.pk in found:
            f.previous, f.previous_period = found[f.resource.pk], period


def _late_after_close(
    figures: list[ResourceFigures],
    *,
    update: UsageUpdate,
    organization: Organization | None = None,
    reseller: Reseller | None = None,
) -> None:
    """A closed period's figures: each counter's late usage recorded after the period
    closed (UsageAdjustment), of the organization, of the organizations below the
    reseller in the closing update, or of everyone. One query (for any update, so that a
    page asks as many whether its period is closed or not: an open one has none)."""
    if update.period_start is None:
        return
    adjustments = UsageAdjustment.objects.filter(period_start=update.period_start)
    if organization is not None:
        adjustments = adjustments.filter(organization=organization)
    elif reseller is not None:
        # EXISTS per adjustment (there are few), not IN: SQLite built the list of every
        # usage row below the reseller first, ~100 ms on a big one with no adjustment
        # at all, 200 ms below 50,000 organizations (docs/benchmarks.md, Load, "CPU per
        # request", and Usage pages, "A reseller login with 50,000 organizations").
        below = subtree_at(reseller, update).reseller_ids()
        adjustments = adjustments.filter(
            Exists(
                UsageRow.objects.filter(
                    update=update,
                    organization_id=OuterRef("organization_id"),
                    reseller_id__in=below,
                )
            )
        )
    late = dict(adjustments.order_by().values_list("resource_id").annotate(total=Sum("value")))
    for f in figures:
        if f.resource.kind == Resource.Kind.COUNTER:
            f.late_after_close = late.get(f.resource.pk, Decimal(0))


def rollup_figures(
    *, update: UsageUpdate | None, reseller: Reseller | None, compare: ZoneInfo | None = None
) -> list[ServiceFigures]:
    """Per service, the resources of a reseller's (or, with None, the provider's) roll-up.
    compare (the provider's time zone, to name the periods in): each figure also gets the
    previous billing period's."""
    if update is None:
        return []
    return _subject_figures(
        UsageRollup.objects.filter(update=update, reseller=reseller),
        history=UsageRollup.objects.filter(reseller=reseller),
        update=update,
        compare=compare,
        reseller=reseller,
    )


def organization_figures(
    *, update: UsageUpdate | None, organization: Organization, compare: ZoneInfo | None = None
) -> list[ServiceFigures]:
    """Per service, an organization's resources (compare: as in rollup_figures)."""
    if update is None:
        return []
    return _subject_figures(
        UsageRow.objects.filter(update=update, organization=organization),
        history=UsageRow.objects.filter(organization=organization),
        update=update,
        compare=compare,
        organization=organization,
    )


def _subject_figures(
    rows: QuerySet[UsageRow] | QuerySet[UsageRollup],
    *,
    history: QuerySet[UsageRow] | QuerySet[UsageRollup],
    update: UsageUpdate,
    compare: ZoneInfo | None,
    **subject: Any,
) -> list[ServiceFigures]:
    """The figures of one subject's rows (usage rows or roll-ups) of the update, per
    service; with compare, each against the previous period's closing row in history."""
    resources = _resources()
    figures = [ResourceFigures.of(resources[r.resource_id], r) for r in rows]
    if compare is not None:
        _compare(figures, history, update=update, zone=compare)
    _late_after_close(figures, update=update, **subject)
    return _group_by_service(figures)


History = dict[int, list[tuple[datetime, Decimal, Decimal | None]]]


def usage_history(
    *,
    reseller: Reseller | None = None,
    organization: Organization | None = None,
    until: UsageUpdate | None = None,
    scope: Scope | None = None,
) -> History:
    """Per resource id: (cut-off, used, limit) over the most recent kept updates (up to
    `until`'s, when given), oldest first; for a reseller login's scope, only the updates
    in whose frozen tree the subject was its (as in _series)."""
    updates = UsageUpdate.objects.filter(status=UsageUpdate.Status.SUCCEEDED)
    if until is not None:
        updates = updates.filter(cutoff__lte=until.cutoff)
    cutoffs = dict(updates.order_by("-cutoff").values_list("pk", "cutoff")[:HISTORY])
    return _series(cutoffs, reseller=reseller, organization=organization, scope=scope)


def usage_history_by_period(
    *,
    periods: list[UsagePeriod],
    reseller: Reseller | None = None,
    organization: Organization | None = None,
    scope: Scope | None = None,
) -> History:
    """Per resource id: (period start, used, limit) per billing period given (usage_periods:
    each closed one's closing update, the current one's latest), oldest first."""
    starts = {p.update.pk: p.period.start for p in periods}
    return _series(starts, reseller=reseller, organization=organization, scope=scope)


def _series(
    when: dict[int, datetime],
    *,
    reseller: Reseller | None,
    organization: Organization | None,
    scope: Scope | None,
) -> History:
    """The subject's used and limit in the updates given (update id → its point's time).

    For a reseller login, a point is shown only if the update froze the subject in its
    subtree (metering.scope): a sub-reseller or organization moved in from another
    reseller shows no figures of the updates it was that one's."""
    source: QuerySet[UsageRow] | QuerySet[UsageRollup]
    if organization is not None:
        source = UsageRow.objects.filter(organization=organization)
    else:
        source = UsageRollup.objects.filter(reseller=reseller)
    if scope is not None and not scope.whole:
        # the row's own reseller (a usage row's: the organization's at the update; a
        # roll-up's: the subject) in the subtree the row's update froze
        table = connection.ops.quote_name(source.model._meta.db_table)
        sql = seen_at_sql(update=f"{table}.update_id", reseller=f"{table}.reseller_id")
        frozen = RawSQL(sql, [scope.reseller_id] * 2, output_field=BooleanField())
        source = source.filter(frozen)
    series: History = {}
    for update_id, resource_id, used, limit in source.filter(update_id__in=when).values_list(
        "update_id", "resource_id", "used", "limit"
    ):
        series.setdefault(resource_id, []).append((when[update_id], used, limit))
    for points in series.values():
        points.sort(key=lambda p: p[0])
    return series
