"""The action bar's rules, the status poll, and the export reports tab's lists."""

from dataclasses import dataclass

from django.core.paginator import Page

from hostmeter.metering.models import UsageUpdate
from hostmeter.tenancy.models import (
    Organization,
    Reseller,
)

from ..models import Report, ReportEvent
from .lists import PER_PAGE, page_of, with_report

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
    qs = with_report(model.objects.filter(pk__in=ids), kind=kind, update=update)
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
    return page_of(qs, page, per_page)


def report_events(*, page=1, per_page: int = 50) -> Page:
    qs = ReportEvent.objects.select_related(
        "user", "report", "report__update", "report__reseller", "report__organization"
    ).order_by("-at", "-pk")
    return page_of(qs, page, per_page)
