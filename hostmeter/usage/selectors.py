"""Functions that read what the Usage lists show: the reseller usage and organization site
usage lists (sorted, searched, paged, with each row's report status) and the action bar."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    Model,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils.functional import cached_property

from hostmeter.metering.models import UsageUpdate
from hostmeter.paging import PER_PAGE, page_of, slice_in_order
from hostmeter.reports.models import Report
from hostmeter.reports.selectors import HOLDER, with_report
from hostmeter.tenancy.models import (
    Organization,
    Reseller,
    ResellerLink,
    Service,
)
from hostmeter.tenancy.names import name_key
from hostmeter.tenancy.scope import WHOLE, Scope

_M = TypeVar("_M", bound=Model)
_Holder = TypeVar("_Holder", Reseller, Organization)

# ---------------------------------------------------------------- lists

# Per column key: what a list is ordered by (field names or expressions), in turn.
Sorts = dict[str, tuple[str | F, ...]]


def _order(
    qs: QuerySet[_M], sorts: Sorts, sort: str, nullable: frozenset[str]
) -> tuple[QuerySet[_M], str]:
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
        expr = F(f) if isinstance(f, str) else f
        if i == 0 and key in nullable:
            order.append(expr.desc(nulls_last=True) if descending else expr.asc(nulls_first=True))
        else:
            order.append(expr.desc() if descending else expr.asc())
    return qs.order_by(*order), sort


# Names sort by their folded key (tenancy.names), the same on every database, through
# the (name_key, id) index.
NAME = F("name_key")
RESELLER_SORTS: Sorts = {
    "name": (NAME,),
    "domain": ("domain",),
    "services": ("service_count", NAME),
    "status": ("report_rank", NAME),
    "updated": ("report_generated_at", NAME),
}
RESELLER_NULLABLE = frozenset({"updated"})  # Not generated: no report time


def _service_count(model: type[Reseller] | type[Organization]) -> Subquery:
    """How many services a row has: one count through the (holder, service) index a row.
    Count("services") joined and grouped every listed column instead, slow on a long
    list (docs/benchmarks.md, Usage pages, "The fixes, shipped")."""
    through = model.services.through
    holder = f"{model._meta.model_name}_id"
    counted = through.objects.filter(**{holder: OuterRef("pk")}).order_by()
    # COUNT(*) without GROUP BY: one row, 0 when there is none
    return Subquery(counted.values(n=Func(template="COUNT(*)", output_field=IntegerField())))


def _with_services(rows: list[_Holder]) -> list[_Holder]:
    """Sets each row's service_list: its services in the catalog's order. One query of
    (row, service) pairs, one object a service (the catalog is a handful); a prefetch
    made an object per row and service and a queryset per row to hold them (~2 ms of a
    list page's CPU, docs/benchmarks.md, Load)."""
    if not rows:
        return rows
    through = type(rows[0]).services.through
    holder = f"{type(rows[0])._meta.model_name}_id"
    pairs = (
        through.objects.filter(**{f"{holder}__in": [row.pk for row in rows]})
        .order_by("service__position", "service__code")
        .values_list(holder, "service_id", "service__code", "service__name", "service__position")
    )
    services: dict[int, Service] = {}
    by_row: dict[int, list[Service]] = {}
    for row_id, pk, code, name, position in pairs:
        if pk not in services:
            services[pk] = Service(pk=pk, code=code, name=name, position=position)
        by_row.setdefault(row_id, []).append(services[pk])
    for row in rows:
        # an attribute for the template, which the models' stubs cannot know of
        row.service_list = by_row.get(row.pk, [])  # type: ignore[attr-defined]
    return rows


def reseller_usage_list(
    *,
    search: str = "",
    sort: str = "name",
    page: int | str | None = 1,
    update: UsageUpdate | None,
    scope: Scope = WHOLE,
    per_page: int = PER_PAGE,
) -> tuple[Page[Reseller], str]:
    """The resellers added (a reseller login's: its sub-resellers), with services and
    report status, sorted, searched, paged."""
    rows, qs, ids, sort = _listed(
        scope.sub_resellers(Reseller.objects.select_related("parent")),
        search=search,
        sort=sort,
        kind=Report.Kind.RESELLER,
        update=update,
    )
    listed = page_of(qs, page, per_page, count_of=rows, ids_of=ids)
    listed.object_list = _with_services(list(listed.object_list))
    return listed, sort


def _domain_contains(search: str) -> Q:
    """Domains holding the text, whatever its case. They are stored lower-case (ASCII,
    tenancy.models.domain_validator), so an ASCII text lower-cased is matched as it
    stands: icontains made PostgreSQL upper-case every row's domain first, 3 times the
    cost of a search of 100,000 organizations (docs/benchmarks.md, Load)."""
    if search.isascii():
        return Q(domain__contains=search.lower())
    return Q(domain__icontains=search)


def _listed(
    qs: QuerySet[_Holder], *, search: str, sort: str, kind: str, update: UsageUpdate | None
) -> tuple[QuerySet[_Holder], QuerySet[_Holder], QuerySet[_Holder], str]:
    """The rows a list shows (searched); the same annotated and ordered for a page; the
    same order with only the joins it needs, for the page's ids; the sort key used."""
    if search := search.strip():
        qs = qs.filter(Q(name_key__contains=name_key(search)) | _domain_contains(search))
    rows = qs
    if sort.lstrip("-") == "services":
        qs = qs.annotate(service_count=_service_count(qs.model))
    sorts, nullable = (
        (RESELLER_SORTS, RESELLER_NULLABLE)
        if kind == Report.Kind.RESELLER
        else (ORGANIZATION_SORTS, ORGANIZATION_NULLABLE)
    )
    ids, sort = _order(qs, sorts, sort, nullable)
    qs, _ = _order(with_report(qs, kind=kind, update=update), sorts, sort, nullable)
    if sort.lstrip("-") in _ReportSort.KEYS:
        ids = qs  # ordered by the report: its join is needed
    return rows, qs, ids, sort


ORGANIZATION_SORTS: Sorts = {
    **RESELLER_SORTS,
    "reseller": (F("reseller__name_key"), NAME),
}
ORGANIZATION_NULLABLE = RESELLER_NULLABLE | {"reseller"}  # direct: no reseller


def organization_usage_list(
    *,
    search: str = "",
    sort: str = "name",
    page: int | str | None = 1,
    update: UsageUpdate | None,
    reseller: Reseller | None = None,
    scope: Scope = WHOLE,
    per_page: int = PER_PAGE,
) -> tuple[Page[Organization], str]:
    """Organizations (added directly and by every reseller; a reseller login's: those its
    subtree added), optionally below one reseller."""
    qs = scope.organizations(Organization.objects.select_related("reseller"))
    if reseller is not None:
        below = ResellerLink.objects.filter(ancestor=reseller).values("descendant_id")
        qs = qs.filter(reseller_id__in=below)
    rows, qs, ids, sort = _listed(
        qs, search=search, sort=sort, kind=Report.Kind.ORGANIZATION, update=update
    )
    key, descending = sort.lstrip("-"), sort.startswith("-")
    listed: _ReportSort | _Grouped
    if key in _ReportSort.KEYS:
        reports = Report.objects.filter(
            kind=Report.Kind.ORGANIZATION, update=update, format=Report.Format.CSV
        )
        listed = _ReportSort(qs, rows=rows, reports=reports, sort=sort)
    elif key == "reseller" or (key == "services" and not rows.query.where):
        listed = _Grouped(qs, _GROUPS[key], rows=rows, descending=descending)
    else:
        found = page_of(qs, page, per_page, count_of=rows, ids_of=ids)
        found.object_list = _with_services(list(found.object_list))
        return found, sort
    # the paginator only counts and slices its list, all that these do (the stubs ask
    # for a full sequence)
    pages: Paginator[Organization] = Paginator(listed, per_page)  # type: ignore[arg-type]
    return pages.get_page(page), sort


class _ReportSort:
    """Organizations sorted by report status or report last updated, a page at a time,
    without ranking them all.

    Ranking every organization by its report was slow on a long list (docs/benchmarks.md,
    Usage pages, "The fixes, shipped"). Most of them have no report (or no file yet) for
    the latest update, the lowest value either way (Not generated; NULLs first): those
    come straight from the name index in name order, and only the others are ranked. A
    page inside one group takes two queries (its ids, then its rows), a page across the
    two four.
    """

    KEYS = {"status": "report_rank", "updated": "report_generated_at"}

    def __init__(
        self,
        qs: QuerySet[Organization],
        *,
        rows: QuerySet[Organization],
        reports: QuerySet[Report],
        sort: str,
    ):
        key, descending = sort.lstrip("-"), sort.startswith("-")
        if key == "updated":
            reports = reports.filter(generated_at__isnull=False)
        value = F(self.KEYS[key])
        name = [NAME.desc(), F("pk").desc()] if descending else [NAME.asc(), F("pk").asc()]
        # NOT EXISTS, not "report_… IS NULL": PostgreSQL estimates an anti-join well and
        # walks the name index; the join's IS NULL it took for one row, and sorted them all.
        # (the lowest group's ids come without the report's join: they have none)
        lowest = rows.filter(~Exists(reports.filter(organization=OuterRef("pk"))))
        has = "report_id" if key == "status" else "report_generated_at"
        ranked = qs.filter(**{f"{has}__isnull": False})
        lowest = lowest.order_by(*name)
        ranked = ranked.order_by(value.desc() if descending else value.asc(), *name)
        self.groups = (ranked, lowest) if descending else (lowest, ranked)
        self.qs = qs
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

    def __getitem__(self, bounds: slice) -> list[Organization]:
        first, second = self.groups
        ranked = self.ranked.count()
        split = ranked if self.descending else self.total - ranked  # rows in first
        start, stop = bounds.start or 0, bounds.stop  # the paginator always gives a stop
        found = slice_in_order(first, self.qs, start, min(stop, split)) if start < split else []
        if stop > split:
            found += slice_in_order(second, self.qs, max(start - split, 0), stop - split)
        return _with_services(found)


Groups = list[tuple[QuerySet[Organization], int]]


def _by_reseller(rows: QuerySet[Organization], descending: bool) -> Groups:
    """Organizations by their reseller's name: the direct ones (no reseller: first
    ascending, last descending) and those of a reseller, each group by name.

    One ORDER BY over the reseller's join sorted every organization (~100-150 ms on
    SQLite at 100,000, docs/benchmarks.md, Load); the reseller's own name index joined
    to the (reseller, name key, id) index gives them in order, reseller by reseller."""
    sizes = rows.aggregate(total=Count("pk"), direct=Count("pk", filter=Q(reseller__isnull=True)))
    name = _name_order(descending)
    owner = F("reseller__name_key").desc() if descending else F("reseller__name_key").asc()
    direct = rows.filter(reseller__isnull=True).order_by(*name)
    # a condition on the reseller's row makes the join an inner one, which the
    # database may start from the reseller's side
    owned = rows.filter(reseller__name_key__isnull=False).order_by(owner, *name)
    groups = [(direct, sizes["direct"]), (owned, sizes["total"] - sizes["direct"])]
    return groups[::-1] if descending else groups


def _by_services(rows: QuerySet[Organization], descending: bool) -> Groups:
    """Every organization by how many services it has: one group per count, each by name.

    Ranking every organization by a count of its services sorted them all (~130-210 ms
    at 100,000, docs/benchmarks.md, Load); the size of each group comes from the
    services' table alone (its organization index; those without a service are the
    rest), and a page walks the name index within its group. A filtered list (a search,
    one reseller's) counts its own rows' services in one ORDER BY, as cheap as counting
    the groups would be."""
    through = connection.ops.quote_name(Organization.services.through._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n, COUNT(*) FROM (SELECT COUNT(*) AS n FROM "
            f"{through} GROUP BY organization_id) per_organization GROUP BY n"
        )
        sizes: dict[int, int] = dict(cursor.fetchall())
    sizes[0] = rows.count() - sum(sizes.values())
    counted = rows.annotate(service_count=_service_count(Organization))
    name = _name_order(descending)
    return [
        (counted.filter(service_count=n).order_by(*name), sizes[n])
        for n in sorted(sizes, reverse=descending)
        if sizes[n]
    ]


def _name_order(descending: bool) -> list[OrderBy]:
    return [NAME.desc(), F("pk").desc()] if descending else [NAME.asc(), F("pk").asc()]


_GROUPS: dict[str, Callable[[QuerySet[Organization], bool], Groups]] = {
    "reseller": _by_reseller,
    "services": _by_services,
}


class _Grouped:
    """Organizations sorted group after group, each group's rows in its own order, a
    page at a time: the page's ids from the groups it spans (from the start of the one
    it starts in), then its rows. Iterated, it is the whole list in one ORDER BY: the
    order the groups give, a page at a time."""

    def __init__(
        self,
        qs: QuerySet[Organization],
        grouping: Callable[[QuerySet[Organization], bool], Groups],
        *,
        rows: QuerySet[Organization],
        descending: bool,
    ):
        self.qs, self.rows = qs, rows
        self.grouping, self.descending = grouping, descending

    @cached_property
    def groups(self) -> Groups:
        return self.grouping(self.rows, self.descending)

    def count(self) -> int:
        return sum(n for _, n in self.groups)

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[Organization]:
        return iter(self.qs)

    def __getitem__(self, bounds: slice) -> list[Organization]:
        start, stop = bounds.start or 0, bounds.stop  # the paginator always gives a stop
        found: list[Organization] = []
        seen = 0
        for ids, n in self.groups:
            if seen < stop and seen + n > start:
                found += slice_in_order(ids, self.qs, max(start - seen, 0), min(stop - seen, n))
            seen += n
        return _with_services(found)


@dataclass
class ActionBar:
    """Which action-bar links the current selection makes valid (DESIGN.md's rules)."""

    ids: list[int]
    overview: bool
    generate: bool
    export: bool
    ready: int
    hint: str


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
