"""The figures of a reseller's overview and of the organization site usage list: its
counts and services, five figures per resource, and the used figure of each
organization on a page."""

from typing import Any
from zoneinfo import ZoneInfo

from django.core.paginator import Page

from hostmeter.paging import PER_PAGE, page_of
from hostmeter.tenancy.models import Organization, Reseller, Resource

from ..models import UsageRow, UsageUpdate
from ..scope import subtree_at
from .figures import ResourceFigures, rollup_figures
from .summary import subtree_counts


def reseller_overview(
    *,
    reseller: Reseller,
    update: UsageUpdate | None,
    compare: ZoneInfo | None = None,
) -> dict[str, Any]:
    """Counts, services and five figures per resource (compare: as in rollup_figures) of
    one reseller (its trend: usage_history)."""
    return {
        "counts": subtree_counts(reseller),
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
