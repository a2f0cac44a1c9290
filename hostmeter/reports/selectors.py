"""Functions that read reports: each listed subject's report status, the status poll,
and the export reports tab's lists."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict, TypeVar
from zoneinfo import ZoneInfo

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    FilteredRelation,
    IntegerField,
    Model,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.utils.functional import cached_property

from hostmeter.metering.models import UsageUpdate
from hostmeter.metering.scope import reseller_at_sql, seen_at_sql
from hostmeter.metering.selectors.updates import (
    UsagePeriod,
    usage_period_for_key,
    usage_period_of,
    usage_update_latest,
)
from hostmeter.paging import PER_PAGE, page_of
from hostmeter.tenancy.models import Organization, Reseller
from hostmeter.tenancy.scope import WHOLE, Scope

from .models import IN_PROGRESS, Report, ReportEvent

# a plain str finds its kind too: TextChoices members are strings
HOLDER: dict[str, str] = {
    Report.Kind.RESELLER: "reseller_id",
    Report.Kind.ORGANIZATION: "organization_id",
}


def reports_seen(scope: Scope, qs: QuerySet[Report] | None = None) -> QuerySet[Report]:
    """The reports a scope sees: every one, or a reseller login's: those of the resellers
    and organizations in its subtree and the files made for its subtree or one below it
    (the provider's whole-customer-base files are not its), each by the tree as its
    update froze it (metering.scope): a report of a sub-reseller moved away since stays
    the reseller's, for the updates it was its."""
    qs = Report.objects.all() if qs is None else qs
    if scope.whole:
        return qs
    table = connection.ops.quote_name(Report._meta.db_table)
    update = f"{table}.update_id"
    organization_reseller = reseller_at_sql(update=update, organization=f"{table}.organization_id")
    seen = [
        f"({table}.{column} IS NOT NULL AND {seen_at_sql(update=update, reseller=holder)})"
        for column, holder in (
            ("reseller_id", f"{table}.reseller_id"),
            ("subtree_id", f"{table}.subtree_id"),
            ("organization_id", organization_reseller),
        )
    ]
    params = [scope.reseller_id] * 2 * len(seen)
    return qs.filter(RawSQL(" OR ".join(seen), params, output_field=BooleanField()))


STATUS_RANK = Case(
    When(report_status=Report.Status.QUEUED, then=Value(1)),
    When(report_status=Report.Status.GENERATING, then=Value(2)),
    When(report_status=Report.Status.READY, then=Value(3)),
    When(report_status=Report.Status.FAILED, then=Value(4)),
    default=Value(0),
    output_field=IntegerField(),
)


_M = TypeVar("_M", bound=Model)


def with_report(qs: QuerySet[_M], *, kind: str, update: UsageUpdate | None) -> QuerySet[_M]:
    """Annotates each row with its CSV report's status and time for the most recent update.

    One LEFT JOIN (the unique constraints allow one CSV report per subject and update):
    correlated subqueries, one per figure and four more in the status rank, ran for
    every row an OFFSET skipped or a status sort ranked.
    """
    this_report = FilteredRelation(
        "reports",
        condition=Q(reports__kind=kind, reports__update=update, reports__format=Report.Format.CSV),
    )
    # the same rows with more attributes (django-stubs types annotate() on a queryset of
    # a model not known until the call as Any)
    annotated: QuerySet[_M] = (
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
    return annotated


def report_update(*, period: str | None = None) -> UsageUpdate | None:
    """The update a report of a billing period (YYYY-MM) is made from: a closed period's
    closing update, the current period's latest; without a period, the latest update.
    None before the first update; UnknownPeriod for a key that names no period with
    figures."""
    if not period:
        return usage_update_latest()
    return usage_period_for_key(period).update


class WholeReport(TypedDict):
    kind: str
    label: str
    formats: list[tuple[str, Report | None]]  # (format, its report if there is one)


def whole_reports(*, update: UsageUpdate | None, scope: Scope = WHOLE) -> list[WholeReport]:
    """The summary, reseller usage and organization site usage reports of the latest update
    (a reseller login's: those of its subtree)."""
    kinds = [Report.Kind.SUMMARY, Report.Kind.RESELLERS, Report.Kind.ORGANIZATIONS]
    found: dict[tuple[str, str], Report] = {}
    if update is not None:
        # no subject, as these kinds never have: the partial unique indexes of whole
        # reports (the provider's, or a reseller login's subtree's), not every report of
        # the update
        whole = Report.objects.filter(
            update=update,
            kind__in=kinds,
            reseller__isnull=True,
            organization__isnull=True,
            subtree_id=scope.reseller_id,
        )
        for report in whole:
            found[(report.kind, report.format)] = report
    return [
        {
            "kind": kind,
            "label": Report.Kind(kind).label,
            "formats": [(fmt, found.get((kind, fmt))) for fmt in Report.Format],
        }
        for kind in kinds
    ]


def report_cells(*, kind: str, ids: list[int], update: UsageUpdate | None) -> list[Model]:
    """The rows' report status and time, for the status poll of a list page."""
    model = Reseller if kind == Report.Kind.RESELLER else Organization
    qs = with_report(model.objects.filter(pk__in=ids), kind=kind, update=update)
    return list(qs.order_by("pk"))


def in_progress_ids(rows: Iterable[Model]) -> list[int]:
    return [row.pk for row in rows if getattr(row, "report_status", None) in IN_PROGRESS]


def earlier_reports(
    *,
    page: int | str | None = 1,
    per_page: int = PER_PAGE,
    period: UsagePeriod | None = None,
    scope: Scope = WHOLE,
) -> Page[Report]:
    """Every generated file the scope sees, newest update first: earlier ones stay
    downloadable. With a period, the files of its updates (a closed one's file and those
    made while it ran)."""
    ready = reports_seen(scope, Report.objects.filter(status=Report.Status.READY))
    if period is not None:
        ready = ready.filter(update__period_start=period.period.start)
    # the paginator only counts and slices its list, all that _ReadyByUpdate does (the
    # stubs ask for a full sequence)
    files = _ReadyByUpdate(ready)
    return Paginator(files, per_page).get_page(page)  # type: ignore[arg-type]


class _ReadyByUpdate:
    """Ready reports ordered by their update's cut-off (newest first), then newest
    generated first, a page at a time without sorting them all.

    Ordering every Ready report by its update's cut-off through a join sorted all of
    them on every view of the export tab (docs/benchmarks.md, Load). Updates are few: one
    query counts each one's Ready reports, and a page inside one update is a range of the
    (status, update, generated at, id) index; a page across updates (rare) takes those
    updates' reports in the old order. Two queries either way.
    """

    ORDER = ("-update__cutoff", "-generated_at", "-pk")

    def __init__(self, ready: QuerySet[Report]):
        self.ready = ready

    @cached_property
    def updates(self) -> list[tuple[int, int]]:
        """(update id, its Ready reports), newest cut-off first."""
        counted = self.ready.order_by().values_list("update_id", "update__cutoff")
        rows = counted.annotate(n=Count("pk"))
        return [(pk, n) for pk, _, n in sorted(rows, key=lambda r: r[1], reverse=True)]

    def count(self) -> int:
        return sum(n for _, n in self.updates)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, bounds: slice) -> list[Report]:
        start, stop = bounds.start or 0, bounds.stop  # the paginator always gives a stop
        spanned: list[int] = []
        skipped = seen = 0
        for pk, n in self.updates:
            if seen + n > start and seen < stop:
                if not spanned:
                    skipped = seen
                spanned.append(pk)
            seen += n
        if not spanned:
            return []
        rows = self.ready.select_related(
            "update", "reseller", "organization", "subtree", "requested_by"
        )
        if len(spanned) == 1:
            rows = rows.filter(update_id=spanned[0]).order_by(*self.ORDER[1:])
        else:
            rows = rows.filter(update_id__in=spanned).order_by(*self.ORDER)
        return list(rows[start - skipped : stop - skipped])


@dataclass(frozen=True)
class ReportFile:
    """A generated file as the export reports tab lists it: the billing period it holds."""

    report: Report
    period: UsagePeriod | None


def report_files(*, reports: Iterable[Report], zone: ZoneInfo) -> list[ReportFile]:
    return [ReportFile(r, usage_period_of(update=r.update, zone=zone)) for r in reports]


def report_events(*, page: int | str | None = 1, per_page: int = 50) -> Page[ReportEvent]:
    qs = ReportEvent.objects.select_related(
        "user", "report", "report__update", "report__reseller", "report__organization"
    ).order_by("-at", "-pk")
    return page_of(qs, page, per_page)
