"""What the usage endpoints read beyond the figures selectors: an update by its key, the
organizations an update froze and each one's usage cells."""

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet, Value

from hostmeter.ids import row_id
from hostmeter.metering.models import UsageRow, UsageUpdate
from hostmeter.metering.selectors.updates import UsagePeriod, usage_update_latest
from hostmeter.tenancy.models import Organization, Resource


def usage_update_find(key: str, *, period: UsagePeriod | None = None) -> UsageUpdate | None:
    """The update a request names: by id, or "latest": the most recent completed one, or
    with a billing period the update that shows its figures (a closed one's as of its end)."""
    if key == "latest":
        return period.update if period else usage_update_latest()
    pk = row_id(key)
    if pk is None:
        return None
    return UsageUpdate.objects.select_related("requested_by").filter(pk=pk).first()


def update_organizations_query(*, update: UsageUpdate) -> QuerySet[Organization]:
    """The organizations frozen in an update. The update's id goes along as the alias
    `usage_update`, for filters on the update's rows (UpdateOrganizationFilterSet)."""
    rows = UsageRow.objects.filter(update=update, organization_id=OuterRef("pk"))
    qs = Organization.objects.select_related("reseller").filter(Exists(rows))
    return qs.alias(usage_update=Value(update.pk))


def update_usage_cells(*, update: UsageUpdate, organizations: list[Organization]) -> None:
    """Sets `usage_cells` on each organization of a page: its resources' used and limit."""
    codes = dict(Resource.objects.values_list("pk", "code"))
    cells: dict[int, list[dict[str, Any]]] = {}
    rows = (
        UsageRow.objects.filter(update=update, organization__in=[o.pk for o in organizations])
        .order_by("organization_id", "resource__service__position", "resource__position")
        .values_list("organization_id", "resource_id", "used", "limit")
    )
    for org_id, resource_id, used, limit in rows:
        cells.setdefault(org_id, []).append(
            {"resource": codes[resource_id], "used": used, "limit": limit}
        )
    for org in organizations:
        # not a field: the page's organizations carry it to their serializer
        org.usage_cells = cells.get(org.pk, [])  # type: ignore[attr-defined]
