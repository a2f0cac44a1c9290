"""Functions that read what the Usage pages show."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import cached_property

from hostmeter.metering.models import UsageRollup, UsageRow, UsageUpdate
from hostmeter.metering.services import usage_schedule_next, usage_update_latest  # noqa: F401
from hostmeter.tenancy.models import (
    Organization,
    Provider,
    Reseller,
    ResellerLink,
    Resource,
    Service,
)

from .models import Report

PER_PAGE = 25
HISTORY = 60  # updates shown in charts


# ---------------------------------------------------------------- status line


@dataclass
class UsageStatus:
    latest: UsageUpdate | None
    next_run: datetime | None
    pending: UsageUpdate | None  # queued or running
    last_failed: UsageUpdate | None


def usage_status(*, provider: Provider) -> UsageStatus:
    """When usage was last updated, when the next update runs, and one under way."""
    latest = usage_update_latest()
    recent = list(
        UsageUpdate.objects.exclude(status=UsageUpdate.Status.SUCCEEDED).order_by("-created_at")[:1]
    )
    pending = next((u for u in recent if u.status in ("queued", "running")), None)
    failed = next(
        (u for u in recent if u.status == "failed" and (not latest or u.cutoff > latest.cutoff)),
        None,
    )
    next_run = usage_schedule_next(provider=provider, now=timezone.now())[0]
    return UsageStatus(latest=latest, next_run=next_run, pending=pending, last_failed=failed)


# ---------------------------------------------------------------- usage figures


@dataclass
class ResourceFigures:
    """One resource's five figures for a subject (the provider, a reseller, an organization)."""

    resource: Resource
    limit: Decimal | None
    allocated: Decimal | None
    used: Decimal
    organizations: int | None = None  # in a roll-up: organizations with this resource

    @property
    def available(self) -> Decimal | None:
        if self.limit is None:
            return None
        return self.limit - (self.allocated or 0)

    @property
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


def rollup_figures(
    *, update: UsageUpdate | None, reseller: Reseller | None
) -> list[ServiceFigures]:
    """Per service, the resources of a reseller's (or, with None, the provider's) roll-up."""
    if update is None:
        return []
    resources = _resources()
    rollups = UsageRollup.objects.filter(update=update, reseller=reseller)
    figures = [
        ResourceFigures(
            resources[r.resource_id], r.limit, r.allocated, r.used, r.organizations_count
        )
        for r in rollups
    ]
    return _group_by_service(figures)


def organization_figures(*, update: UsageUpdate | None, organization: Organization):
    if update is None:
        return []
    resources = _resources()
    rows = UsageRow.objects.filter(update=update, organization=organization)
    figures = [ResourceFigures(resources[r.resource_id], r.limit, None, r.used) for r in rows]
    return _group_by_service(figures)


def usage_history(
    *, reseller: Reseller | None = None, organization: Organization | None = None
) -> dict[int, list[tuple[datetime, Decimal, Decimal | None]]]:
    """Per resource id: (cut-off, used, limit) over the most recent kept updates, oldest first."""
    updates = list(
        UsageUpdate.objects.filter(status=UsageUpdate.Status.SUCCEEDED)
        .order_by("-cutoff")
        .values_list("pk", "cutoff")[:HISTORY]
    )
    cutoffs = dict(updates)
    if organization is not None:
        source = UsageRow.objects.filter(organization=organization)
    else:
        source = UsageRollup.objects.filter(reseller=reseller)
    series: dict[int, list] = {}
    for update_id, resource_id, used, limit in source.filter(update_id__in=cutoffs).values_list(
        "update_id", "resource_id", "used", "limit"
    ):
        series.setdefault(resource_id, []).append((cutoffs[update_id], used, limit))
    for points in series.values():
        points.sort(key=lambda p: p[0])
    return series


# ---------------------------------------------------------------- summary


def provider_summary(*, update: UsageUpdate | None) -> dict:
    """Counts, per-service figures and top resellers for the summary tab."""
    services = rollup_figures(update=update, reseller=None)
    # Every resource of an enabled service has a row per organization, so the
    # provider roll-up already counts each service's subscribers as of the update.
    for group in services:
        group.subscribers = max((f.organizations or 0 for f in group.resources), default=0)
    counts = Reseller.objects.aggregate(
        resellers=Count("pk"), sub_resellers=Count("pk", filter=Q(parent__isnull=False))
    )
    counts |= Organization.objects.aggregate(
        organizations=Count("pk"), direct=Count("pk", filter=Q(reseller__isnull=True))
    )
    counts["subscriptions"] = sum(g.subscribers for g in services)
    counts["services"] = sum(1 for g in services if g.subscribers)
    resource_ids = [f.resource.pk for group in services for f in group.resources]
    top = top_resellers(update=update, resource_ids=resource_ids)
    return {"counts": counts, "services": services, "top": top}


def top_resellers(
    *, update: UsageUpdate | None, resource_ids: list[int], per_resource: int = 5
) -> dict[int, list]:
    """Per resource id, the resellers using most of it (sub-resellers are resellers too).

    One short range of the (update, resource, used DESC, reseller) index per resource,
    glued with UNION ALL: ranking every reseller's roll-up with a window function took
    150 ms at 10,000 resellers. The ORM refuses LIMIT inside a compound statement on
    SQLite, so the parts are the ORM's own SQL, each wrapped in a sub-select.
    """
    if update is None or not resource_ids:
        return {}
    parts, params = [], []
    for n, resource_id in enumerate(resource_ids):
        leaders = (
            UsageRollup.objects.filter(
                update=update, resource_id=resource_id, reseller__isnull=False, used__gt=0
            )
            .order_by("-used", "reseller_id")
            .values("pk")[:per_resource]
        )
        sql, part_params = leaders.query.get_compiler(using=leaders.db).as_sql()
        parts.append(f"SELECT * FROM ({sql}) leaders_{n}")
        params.extend(part_params)
    ranked = (
        UsageRollup.objects.filter(pk__in=RawSQL(" UNION ALL ".join(parts), params))
        .select_related("reseller")
        .order_by("resource_id", "-used", "reseller_id")
    )
    top: dict[int, list] = {}
    for rollup in ranked:
        top.setdefault(rollup.resource_id, []).append(rollup)
    return top


# ---------------------------------------------------------------- lists


STATUS_RANK = Case(
    When(report_status=Report.Status.QUEUED, then=Value(1)),
    When(report_status=Report.Status.GENERATING, then=Value(2)),
    When(report_status=Report.Status.READY, then=Value(3)),
    When(report_status=Report.Status.FAILED, then=Value(4)),
    default=Value(0),
    output_field=IntegerField(),
)


def _with_report(qs: QuerySet, *, kind: str, update: UsageUpdate | None) -> QuerySet:
    """Annotates each row with its CSV report's status and time for the most recent update.

    One LEFT JOIN (the unique constraints allow one CSV report per subject and update):
    correlated subqueries, one per figure and four more in the status rank, ran for
    every row an OFFSET skipped or a status sort ranked.
    """
    this_report = FilteredRelation(
        "reports",
        condition=Q(reports__kind=kind, reports__update=update, reports__format=Report.Format.CSV),
    )
    return (
        qs.annotate(this_report=this_report)
        .annotate(
            report_id=F("this_report__id"),
            report_status=F("this_report__status"),
            report_progress=F("this_report__progress"),
            report_generated_at=F("this_report__generated_at"),
            report_error=F("this_report__error"),
        )
        .annotate(report_rank=STATUS_RANK)
    )


def _order(
    qs: QuerySet, sorts: dict[str, tuple], sort: str, nullable: frozenset[str]
) -> tuple[QuerySet, str]:
    """Orders by a column key ("name", "-name", …), then by id.

    Only a key that can be NULL gets NULLS FIRST ascending (LAST descending), the same
    on every engine. Asked of names and ids, it stopped PostgreSQL from walking their
    indexes (a default b-tree serves neither ASC NULLS FIRST nor DESC NULLS LAST).
    """
    key = sort.lstrip("-")
    if key not in sorts:
        sort, key = "name", "name"
    descending = sort.startswith("-")
    order = []
    for i, f in enumerate((*sorts[key], "pk")):
        expr = f if hasattr(f, "resolve_expression") else F(f)
        if i == 0 and key in nullable:
            order.append(expr.desc(nulls_last=True) if descending else expr.asc(nulls_first=True))
        else:
            order.append(expr.desc() if descending else expr.asc())
    return qs.order_by(*order), sort


# Names sort case-insensitively, the same on every database (an index on lower(name)).
NAME = Lower("name")
RESELLER_SORTS = {
    "name": (NAME,),
    "domain": ("domain",),
    "services": ("service_count", NAME),
    "status": ("report_rank", NAME),
    "updated": ("report_generated_at", NAME),
}
RESELLER_NULLABLE = frozenset({"updated"})  # Not generated: no report time


class _Paginator(Paginator):
    """Counts the rows of another queryset: the list's filters without its joins."""

    def __init__(self, object_list: QuerySet, per_page: int, *, count_of: QuerySet):
        super().__init__(object_list, per_page)
        self.count_of = count_of

    @cached_property
    def count(self) -> int:
        return self.count_of.count()


def _service_count(model) -> Subquery:
    """How many services a row has: one count through the (holder, service) index a row.
    Count("services") joined and grouped every listed column instead (200 ms at 10,000
    resellers, 5 s at 200,000 organizations on SQLite)."""
    through = model.services.through
    holder = f"{model._meta.model_name}_id"
    counted = through.objects.filter(**{holder: OuterRef("pk")}).order_by()
    # COUNT(*) without GROUP BY: one row, 0 when there is none
    return Subquery(counted.values(n=Func(template="COUNT(*)", output_field=IntegerField())))


def _page(
    qs: QuerySet, page: int | str | None, per_page: int, *, count_of: QuerySet | None = None
) -> Page:
    if count_of is None:
        return Paginator(qs, per_page).get_page(page)
    return _Paginator(qs, per_page, count_of=count_of).get_page(page)


def _services_prefetch() -> Prefetch:
    return Prefetch("services", queryset=Service.objects.order_by("position"))


def reseller_usage_list(
    *,
    search: str = "",
    sort: str = "name",
    page=1,
    update: UsageUpdate | None,
    per_page: int = PER_PAGE,
) -> tuple[Page, str]:
    """The resellers added, with services and report status, sorted, searched, paged."""
    qs = Reseller.objects.select_related("parent")
    if search := search.strip():
        qs = qs.filter(Q(name__icontains=search) | Q(domain__icontains=search))
    rows = qs
    if sort.lstrip("-") == "services":
        qs = qs.annotate(service_count=_service_count(qs.model))
    qs = _with_report(qs, kind=Report.Kind.RESELLER, update=update)
    qs, sort = _order(qs, RESELLER_SORTS, sort, RESELLER_NULLABLE)
    page_obj = _page(qs.prefetch_related(_services_prefetch()), page, per_page, count_of=rows)
    return page_obj, sort


ORGANIZATION_SORTS = {
    **RESELLER_SORTS,
    "reseller": (Lower("reseller__name"), NAME),
}
ORGANIZATION_NULLABLE = RESELLER_NULLABLE | {"reseller"}  # direct: no reseller


def organization_usage_list(
    *,
    search: str = "",
    sort: str = "name",
    page=1,
    update: UsageUpdate | None,
    reseller: Reseller | None = None,
    per_page: int = PER_PAGE,
) -> tuple[Page, str]:
    """Organizations (added directly and by every reseller), optionally below one reseller."""
    qs = Organization.objects.select_related("reseller")
    if reseller is not None:
        below = ResellerLink.objects.filter(ancestor=reseller).values("descendant_id")
        qs = qs.filter(reseller_id__in=below)
    if search := search.strip():
        qs = qs.filter(Q(name__icontains=search) | Q(domain__icontains=search))
    rows = qs
    if sort.lstrip("-") == "services":
        qs = qs.annotate(service_count=_service_count(qs.model))
    qs = _with_report(qs, kind=Report.Kind.ORGANIZATION, update=update)
    qs, sort = _order(qs, ORGANIZATION_SORTS, sort, ORGANIZATION_NULLABLE)
    if sort.lstrip("-") in _ReportSort.KEYS:
        reports = Report.objects.filter(
            kind=Report.Kind.ORGANIZATION, update=update, format=Report.Format.CSV
        )
        by_report = _ReportSort(qs, rows=rows, reports=reports, sort=sort)
        return Paginator(by_report, per_page).get_page(page), sort
    return _page(qs.prefetch_related(_services_prefetch()), page, per_page, count_of=rows), sort


class _ReportSort:
    """Organizations sorted by report status or report last updated, a page at a time,
    without ranking them all.

    Ranking 200,000 organizations by their report took a quarter to half a second. Most
    of them have no report (or no file yet) for the latest update, the lowest value
    either way (Not generated; NULLs first): those come straight from the name index in
    name order, and only the others are ranked. A page inside one group is one query, a
    page across the two is two.
    """

    KEYS = {"status": "report_rank", "updated": "report_generated_at"}

    def __init__(self, qs: QuerySet, *, rows: QuerySet, reports: QuerySet, sort: str):
        key, descending = sort.lstrip("-"), sort.startswith("-")
        if key == "updated":
            reports = reports.filter(generated_at__isnull=False)
        value = F(self.KEYS[key])
        name = [NAME.desc(), F("pk").desc()] if descending else [NAME.asc(), F("pk").asc()]
        # NOT EXISTS, not "report_… IS NULL": PostgreSQL estimates an anti-join well and
        # walks the name index; the join's IS NULL it took for one row, and sorted them all.
        lowest = qs.filter(~Exists(reports.filter(organization=OuterRef("pk"))))
        has = "report_id" if key == "status" else "report_generated_at"
        ranked = qs.filter(**{f"{has}__isnull": False})
        lowest = lowest.order_by(*name)
        ranked = ranked.order_by(value.desc() if descending else value.asc(), *name)
        self.groups = (ranked, lowest) if descending else (lowest, ranked)
        self.rows = rows
        # how many listed organizations are ranked: all such reports, unless filtered
        if rows.query.where:
            reports = reports.filter(organization__in=rows.values("pk"))
        self.ranked = reports
        self.descending = descending

    @cached_property
    def total(self) -> int:
        return self.rows.count()

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, bounds: slice) -> list:
        first, second = self.groups
        ranked = self.ranked.count()
        split = ranked if self.descending else self.total - ranked  # rows in first
        start, stop = bounds.start or 0, bounds.stop  # the paginator always gives a stop
        found = list(first[start : min(stop, split)]) if start < split else []
        if stop > split:
            found += list(second[max(start - split, 0) : stop - split])
        prefetch_related_objects(found, _services_prefetch())
        return found


# ---------------------------------------------------------------- overviews


def reseller_overview(*, reseller: Reseller, update: UsageUpdate | None) -> dict:
    """Counts, services, five figures per resource, and trend of one reseller."""
    below = ResellerLink.objects.filter(ancestor=reseller)
    counts = below.aggregate(
        direct_sub_resellers=Count("pk", filter=Q(depth=1)),
        sub_resellers=Count("pk", filter=Q(depth__gt=0)),
    )
    counts |= Organization.objects.filter(reseller_id__in=below.values("descendant_id")).aggregate(
        direct_organizations=Count("pk", filter=Q(reseller=reseller)),
        organizations=Count("pk"),
    )
    return {
        "counts": counts,
        "services": list(reseller.services.order_by("position")),
        "figures": rollup_figures(update=update, reseller=reseller),
        "history": usage_history(reseller=reseller),
    }


def reseller_organizations_usage(
    *, reseller: Reseller, update: UsageUpdate | None, page=1, per_page: int = PER_PAGE
) -> tuple[Page, list[Resource]]:
    """The organizations below a reseller with their used figure per resource."""
    below = ResellerLink.objects.filter(ancestor=reseller).values("descendant_id")
    qs = Organization.objects.filter(reseller_id__in=below).select_related("reseller")
    page_obj = _page(qs.order_by("name", "pk"), page, per_page)
    resources = list(Resource.objects.filter(service__resellers=reseller).select_related("service"))
    usage: dict[int, dict[int, UsageRow]] = {}
    if update is not None:
        rows = UsageRow.objects.filter(
            update=update, organization__in=[o.pk for o in page_obj.object_list]
        )
        for row in rows:
            usage.setdefault(row.organization_id, {})[row.resource_id] = row
    for org in page_obj.object_list:
        org.usage_cells = [_cell(usage.get(org.pk, {}).get(r.pk), r) for r in resources]
    return page_obj, resources


def _cell(row: UsageRow | None, resource: Resource) -> ResourceFigures | None:
    if row is None:
        return None
    return ResourceFigures(resource, row.limit, None, row.used)


# ---------------------------------------------------------------- action bar and reports


@dataclass
class ActionBar:
    """Which action-bar links the current selection makes valid (DESIGN.md's rules)."""

    ids: list[int]
    overview: bool
    generate: bool
    export: bool
    ready: int
    hint: str


HOLDER = {Report.Kind.RESELLER: "reseller_id", Report.Kind.ORGANIZATION: "organization_id"}


def action_bar(*, kind: str, ids: list[int], update: UsageUpdate | None) -> ActionBar:
    noun = "reseller" if kind == Report.Kind.RESELLER else "organization"
    count = len(ids)
    ready = 0
    if ids and update is not None:
        ready = Report.objects.filter(
            kind=kind,
            update=update,
            format=Report.Format.CSV,
            status=Report.Status.READY,
            **{f"{HOLDER[kind]}__in": ids},
        ).count()
    if count == 0:
        hint = f"Select one or more {noun}s to use the action bar."
    elif update is None:
        hint = "There is no usage update yet, so there is nothing to report."
    elif ready < count:
        hint = (
            f"{count} selected. export csv report needs every selected report Ready: "
            f"{ready} of {count} {'is' if ready == 1 else 'are'}."
        )
    else:
        hint = f"{count} selected; every report is Ready."
    return ActionBar(
        ids=ids,
        overview=count == 1,
        generate=count >= 1 and update is not None,
        export=count >= 1 and ready == count,
        ready=ready,
        hint=hint,
    )


def whole_reports(*, update: UsageUpdate | None) -> list[dict]:
    """The summary, reseller usage and organization site usage reports of the latest update."""
    kinds = [Report.Kind.SUMMARY, Report.Kind.RESELLERS, Report.Kind.ORGANIZATIONS]
    found = {}
    if update is not None:
        for report in Report.objects.filter(update=update, kind__in=kinds):
            found[(report.kind, report.format)] = report
    return [
        {
            "kind": kind,
            "label": Report.Kind(kind).label,
            "formats": [(fmt, found.get((kind, fmt))) for fmt in Report.Format],
        }
        for kind in kinds
    ]


def report_cells(*, kind: str, ids: list[int], update: UsageUpdate | None) -> list:
    """The rows' report status and time, for the status poll of a list page."""
    model = Reseller if kind == Report.Kind.RESELLER else Organization
    qs = _with_report(model.objects.filter(pk__in=ids), kind=kind, update=update)
    return list(qs.order_by("pk"))


IN_PROGRESS = (Report.Status.QUEUED, Report.Status.GENERATING)


def in_progress_ids(rows) -> list[int]:
    return [row.pk for row in rows if getattr(row, "report_status", None) in IN_PROGRESS]


def earlier_reports(*, page=1, per_page: int = PER_PAGE) -> Page:
    """Every generated file, newest update first: earlier ones stay downloadable."""
    qs = (
        Report.objects.filter(status=Report.Status.READY)
        .select_related("update", "reseller", "organization", "requested_by")
        .order_by("-update__cutoff", "-generated_at", "-pk")
    )
    return _page(qs, page, per_page)


def report_events(*, page=1, per_page: int = 50) -> Page:
    from .models import ReportEvent

    qs = ReportEvent.objects.select_related(
        "user", "report", "report__update", "report__reseller", "report__organization"
    ).order_by("-at", "-pk")
    return _page(qs, page, per_page)
