"""The usage figures the summary and the overviews show: the status line, five figures
per resource (with the period's peak and the change since the previous period), top
resellers, history for the charts (by update and by billing period)."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.paginator import Page
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.functional import cached_property

from hostmeter.paging import PER_PAGE, page_of
from hostmeter.tenancy.billing import Period, period_from_bounds
from hostmeter.tenancy.models import (
    Organization,
    Provider,
    Reseller,
    ResellerLink,
    Resource,
    Service,
)
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
_FEW_SUB_RESELLERS = 100  # top_resellers: a subtree this small goes in as a list of ids


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
    resources = _resources()
    rollups = UsageRollup.objects.filter(update=update, reseller=reseller)
    figures = [
        ResourceFigures(
            resources[r.resource_id],
            r.limit,
            r.allocated,
            r.used,
            r.organizations_count,
            increment=r.increment,
            peak=r.peak,
        )
        for r in rollups
    ]
    if compare is not None:
        source = UsageRollup.objects.filter(reseller=reseller)
        _compare(figures, source, update=update, zone=compare)
    _late_after_close(figures, update=update, reseller=reseller)
    return _group_by_service(figures)


def organization_figures(
    *, update: UsageUpdate | None, organization: Organization, compare: ZoneInfo | None = None
) -> list[ServiceFigures]:
    """Per service, an organization's resources (compare: as in rollup_figures)."""
    if update is None:
        return []
    resources = _resources()
    rows = UsageRow.objects.filter(update=update, organization=organization)
    figures = [
        ResourceFigures(
            resources[r.resource_id], r.limit, None, r.used, increment=r.increment, peak=r.peak
        )
        for r in rows
    ]
    if compare is not None:
        source = UsageRow.objects.filter(organization=organization)
        _compare(figures, source, update=update, zone=compare)
    _late_after_close(figures, update=update, organization=organization)
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


# ---------------------------------------------------------------- summary


def provider_summary(
    *, update: UsageUpdate | None, compare: ZoneInfo | None = None
) -> dict[str, Any]:
    """Counts, per-service figures and top resellers for the summary tab (compare: as in
    rollup_figures)."""
    return _summary(update=update, reseller=None, counts=_customer_counts(), compare=compare)


def _summary(
    *,
    update: UsageUpdate | None,
    reseller: Reseller | None,
    counts: dict[str, int],
    compare: ZoneInfo | None,
) -> dict[str, Any]:
    """A summary tab's parts: the roll-up's figures per service with its subscribers, the
    customer counts given plus subscriptions and services, and the top resellers (below
    the reseller, when one is given)."""
    services = rollup_figures(update=update, reseller=reseller, compare=compare)
    # Every resource of an enabled service has a row per organization, so the
    # roll-up already counts each service's subscribers as of the update.
    for group in services:
        group.subscribers = max((f.organizations or 0 for f in group.resources), default=0)
    counts = counts | {
        "subscriptions": sum(g.subscribers or 0 for g in services),
        "services": sum(1 for g in services if g.subscribers),
    }
    resource_ids = [f.resource.pk for group in services for f in group.resources]
    top = top_resellers(update=update, resource_ids=resource_ids, below=reseller)
    return {"counts": counts, "services": services, "top": top}


def _subtree_counts(reseller: Reseller) -> dict[str, int]:
    """A reseller's sub-resellers at every depth, those at depth 1, its organizations and
    those it added directly."""
    below = ResellerLink.objects.filter(ancestor=reseller)
    counts = below.aggregate(
        direct_sub_resellers=Count("pk", filter=Q(depth=1)),
        sub_resellers=Count("pk", filter=Q(depth__gt=0)),
    )
    counts |= Organization.objects.filter(reseller_id__in=below.values("descendant_id")).aggregate(
        direct_organizations=Count("pk", filter=Q(reseller=reseller)),
        organizations=Count("pk"),
    )
    return counts


def reseller_summary(
    *, reseller: Reseller, update: UsageUpdate | None, compare: ZoneInfo | None = None
) -> dict[str, Any]:
    """The summary tab of a reseller login: provider_summary's parts for the reseller's
    subtree (its limits and what it allocated, not the provider's capacity; its
    sub-resellers as the resellers, those below its own as their sub-resellers; the top
    resellers among those below it)."""
    below = _subtree_counts(reseller)
    counts = {
        "resellers": below["sub_resellers"],
        "sub_resellers": below["sub_resellers"] - below["direct_sub_resellers"],
        "organizations": below["organizations"],
        "direct": below["direct_organizations"],
    }
    return _summary(update=update, reseller=reseller, counts=counts, compare=compare)


def _customer_counts() -> dict[str, int]:
    """Resellers, sub-resellers, organizations and those added directly: four plain
    counts. Two aggregates with FILTER read and tested every row (~17 ms of PostgreSQL
    at 100,000 organizations), a bare count and one through the parent or reseller
    index take ~6 (docs/benchmarks.md, Load). On PostgreSQL they are one statement, one
    round trip; SQLite counts a whole table from its b-tree alone only in a statement
    of its own (inside one it reads every row, ~3 ms)."""
    if connection.vendor != "postgresql":
        return {
            "resellers": Reseller.objects.count(),
            "sub_resellers": Reseller.objects.filter(parent__isnull=False).count(),
            "organizations": Organization.objects.count(),
            "direct": Organization.objects.filter(reseller__isnull=True).count(),
        }
    q = connection.ops.quote_name
    resellers, organizations = q(Reseller._meta.db_table), q(Organization._meta.db_table)
    parent = q(Reseller._meta.get_field("parent").column)
    owner = q(Organization._meta.get_field("reseller").column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {resellers}), "
            f"(SELECT COUNT(*) FROM {resellers} WHERE {parent} IS NOT NULL), "
            f"(SELECT COUNT(*) FROM {organizations}), "
            f"(SELECT COUNT(*) FROM {organizations} WHERE {owner} IS NULL)"
        )
        found = cursor.fetchone()
    names = ("resellers", "sub_resellers", "organizations", "direct")
    return {name: int(n) for name, n in zip(names, found, strict=True)}


def top_resellers(
    *,
    update: UsageUpdate | None,
    resource_ids: list[int],
    per_resource: int = 5,
    below: Reseller | None = None,
) -> dict[int, list[UsageRollup]]:
    """Per resource id, the resellers using most of it (sub-resellers are resellers too;
    below: only those under that reseller).

    One short range of the (update, resource, used DESC, reseller) index per resource,
    glued with UNION ALL: ranking every reseller's roll-up with a window function was
    the summary's slowest statement (docs/benchmarks.md, Usage pages, "Where the time
    goes"). The ORM refuses LIMIT inside a compound statement on SQLite, so the parts
    are the ORM's own SQL, each wrapped in a sub-select.
    """
    if update is None or not resource_ids:
        return {}
    subtree: Any = None
    if below is not None:  # those below it as the update froze the tree
        tree = subtree_at(below, update).reseller_ids()
        # A few sub-resellers go in as their ids, so that the database reads their own
        # roll-ups: given the subtree as a subquery it cannot tell how few it holds, and
        # walks the index of every reseller's roll-ups by use looking for them.
        few = list(
            Reseller.objects.filter(pk__in=tree)
            .exclude(pk=below.pk)
            .order_by()
            .values_list("pk", flat=True)[: _FEW_SUB_RESELLERS + 1]
        )
        if not few:
            return {}
        subtree = few if len(few) <= _FEW_SUB_RESELLERS else tree

    def leaders_sql(resource_id: int) -> tuple[str, list[Any]]:
        rollups = UsageRollup.objects.filter(
            update=update, resource_id=resource_id, reseller__isnull=False, used__gt=0
        )
        if below is not None:
            rollups = rollups.filter(reseller_id__in=subtree).exclude(reseller_id=below.pk)
        leaders = rollups.order_by("-used", "reseller_id").values("pk")[:per_resource]
        sql, params = leaders.query.get_compiler(using=leaders.db).as_sql()
        return str(sql), list(params)

    # The parts differ in their resource only: one is compiled (with an id no resource
    # has) and its resource parameter replaced, not one compiled a resource (~0.4 ms each)
    sql, shape = leaders_sql(_NO_RESOURCE)
    at = [i for i, value in enumerate(shape) if value == _NO_RESOURCE]
    parts: list[str] = []
    params: list[Any] = []
    for n, resource_id in enumerate(resource_ids):
        if len(at) == 1:
            part_sql, part_params = (
                sql,
                [resource_id if i in at else v for i, v in enumerate(shape)],
            )
        else:  # the parameters did not say where the resource goes
            part_sql, part_params = leaders_sql(resource_id)
        parts.append(f"SELECT * FROM ({part_sql}) leaders_{n}")
        params.extend(part_params)
    ranked = (
        UsageRollup.objects.filter(pk__in=RawSQL(" UNION ALL ".join(parts), params))
        .select_related("reseller")
        .order_by("resource_id", "-used", "reseller_id")
    )
    top: dict[int, list[UsageRollup]] = {}
    for rollup in ranked:
        top.setdefault(rollup.resource_id, []).append(rollup)
    return top


# ---------------------------------------------------------------- overviews


def reseller_overview(
    *,
    reseller: Reseller,
    update: UsageUpdate | None,
    compare: ZoneInfo | None = None,
) -> dict[str, Any]:
    """Counts, services and five figures per resource (compare: as in rollup_figures) of
    one reseller (its trend: usage_history)."""
    return {
        "counts": _subtree_counts(reseller),
        "services": list(reseller.services.order_by("position")),
        "figures": rollup_figures(update=update, reseller=reseller, compare=compare),
    }


def reseller_organizations_usage(
    *,
    reseller: Reseller,
    update: UsageUpdate | None,
    page: int | str | None = 1,
    per_page: int = PER_PAGE,
) -> tuple[Page[Organization], list[Resource]]:
    """The organizations below a reseller (as the update froze the tree) with their used
    figure per resource."""
    qs = subtree_at(reseller, update).organizations().select_related("reseller")
    page_obj = page_of(qs.order_by("name_key", "pk"), page, per_page)
    resources = list(Resource.objects.filter(service__resellers=reseller).select_related("service"))
    # the figures alone, of the resources shown: a model object per usage row (25
    # organizations, ~20 rows each) cost more than the page's SQL
    usage: dict[int, dict[int, tuple[Any, ...]]] = {}
    if update is not None:
        rows = UsageRow.objects.filter(
            update=update,
            organization__in=[o.pk for o in page_obj.object_list],
            resource__in=[r.pk for r in resources],
        ).values_list("organization_id", "resource_id", "limit", "used", "increment", "peak")
        for org_id, resource_id, *figures in rows:
            usage.setdefault(org_id, {})[resource_id] = tuple(figures)
    for org in page_obj.object_list:
        org.usage_cells = [_cell(usage.get(org.pk, {}).get(r.pk), r) for r in resources]
    return page_obj, resources


def _cell(figures: tuple[Any, ...] | None, resource: Resource) -> ResourceFigures | None:
    """A cell's figures: (limit, used, increment, peak) of the row, None without one."""
    if figures is None:
        return None
    limit, used, increment, peak = figures
    return ResourceFigures(resource, limit, None, used, increment=increment, peak=peak)
