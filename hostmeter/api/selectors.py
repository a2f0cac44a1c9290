"""Functions that read what the API lists: querysets filtered from query parameters,
shaped for keyset pagination (no COUNT, every ordering backed by an index)."""

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from hostmeter.accounts.levels import Action, user_can
from hostmeter.metering.models import UsageRow, UsageUpdate
from hostmeter.metering.selectors.updates import usage_update_latest
from hostmeter.reports.models import Report
from hostmeter.tenancy.models import (
    Organization,
    Reseller,
    ResellerLink,
    Resource,
    ResourceLimit,
    Service,
)
from hostmeter.tenancy.names import name_key

from .models import ApiToken


def services_list() -> QuerySet[Service]:
    resources = Resource.objects.select_related("service").order_by("position", "code")
    return Service.objects.prefetch_related(Prefetch("resources", queryset=resources))


def resources_list() -> QuerySet[Resource]:
    return Resource.objects.select_related("service")


def _search(qs: QuerySet, search: str) -> QuerySet:
    if search := search.strip():
        qs = qs.filter(Q(name_key__contains=name_key(search)) | Q(domain__icontains=search))
    return qs


def resellers_query(
    *,
    search: str = "",
    parent: Reseller | None = None,
    top_level: bool | None = None,
    below: Reseller | None = None,
    suspended: bool | None = None,
) -> QuerySet[Reseller]:
    """Resellers, with their parent, services and direct sub-resellers prefetched."""
    qs = Reseller.objects.select_related("parent").prefetch_related(
        Prefetch("services", queryset=Service.objects.order_by("position")),
        Prefetch("children", queryset=Reseller.objects.order_by("domain").only("domain", "parent")),
    )
    qs = _search(qs, search)
    if parent is not None:
        qs = qs.filter(parent=parent)
    if top_level is not None:
        qs = qs.filter(parent__isnull=top_level)
    if below is not None:
        qs = qs.filter(
            pk__in=ResellerLink.objects.filter(ancestor=below, depth__gt=0).values("descendant_id")
        )
    if suspended is not None:
        qs = qs.filter(is_suspended=suspended)
    return qs


def organizations_query(
    *,
    search: str = "",
    reseller: Reseller | None = None,
    below: Reseller | None = None,
    direct: bool | None = None,
    service: Service | None = None,
    suspended: bool | None = None,
) -> QuerySet[Organization]:
    """Organizations; `reseller` is its own, `below` includes its sub-resellers'."""
    qs = Organization.objects.select_related("reseller").prefetch_related(
        Prefetch("services", queryset=Service.objects.order_by("position"))
    )
    qs = _search(qs, search)
    if reseller is not None:
        qs = qs.filter(reseller=reseller)
    if below is not None:
        qs = qs.filter(
            reseller_id__in=ResellerLink.objects.filter(ancestor=below).values("descendant_id")
        )
    if direct is not None:
        qs = qs.filter(reseller__isnull=direct)
    if service is not None:
        qs = qs.filter(
            Exists(
                Organization.services.through.objects.filter(
                    organization_id=OuterRef("pk"), service_id=service.pk
                )
            )
        )
    if suspended is not None:
        qs = qs.filter(is_suspended=suspended)
    return qs


def limits_query(
    *,
    kind: str | None = None,
    reseller: Reseller | None = None,
    organization: Organization | None = None,
    resource: Resource | None = None,
) -> QuerySet[ResourceLimit]:
    qs = ResourceLimit.objects.select_related("resource", "reseller", "organization")
    if kind == "provider":
        qs = qs.filter(reseller__isnull=True, organization__isnull=True)
    elif kind == "reseller":
        qs = qs.filter(reseller__isnull=False)
    elif kind == "organization":
        qs = qs.filter(organization__isnull=False)
    if reseller is not None:
        qs = qs.filter(reseller=reseller)
    if organization is not None:
        qs = qs.filter(organization=organization)
    if resource is not None:
        qs = qs.filter(resource=resource)
    return qs


def usage_updates_query(*, status: str | None = None) -> QuerySet[UsageUpdate]:
    qs = UsageUpdate.objects.select_related("requested_by")
    return qs.filter(status=status) if status else qs


def usage_update_find(key: str) -> UsageUpdate | None:
    """An update by id, or "latest": the most recent completed one."""
    if key == "latest":
        return usage_update_latest()
    if not key.isdigit() or len(key) > 18:
        return None
    return UsageUpdate.objects.select_related("requested_by").filter(pk=int(key)).first()


def update_organizations_query(
    *, update: UsageUpdate, below: Reseller | None = None
) -> QuerySet[Organization]:
    """The organizations frozen in an update (optionally below a reseller, as the reseller
    report counts them: by their reseller at the time)."""
    rows = UsageRow.objects.filter(update=update, organization_id=OuterRef("pk"))
    if below is not None:
        rows = rows.filter(
            reseller_id__in=ResellerLink.objects.filter(ancestor=below).values("descendant_id")
        )
    return Organization.objects.select_related("reseller").filter(Exists(rows))


def update_usage_cells(*, update: UsageUpdate, organizations: list[Organization]) -> None:
    """Sets `usage_cells` on each organization of a page: its resources' used and limit."""
    codes = dict(Resource.objects.values_list("pk", "code"))
    cells: dict[int, list[dict]] = {}
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
        org.usage_cells = cells.get(org.pk, [])


def reports_query(
    *,
    kind: str | None = None,
    status: str | None = None,
    format: str | None = None,
    reseller: Reseller | None = None,
    organization: Organization | None = None,
    update: UsageUpdate | None = None,
) -> QuerySet[Report]:
    """Report records, newest first: the current ones and every earlier file."""
    qs = Report.objects.select_related("update", "reseller", "organization")
    filters = {
        "kind": kind,
        "status": status,
        "format": format,
        "reseller": reseller,
        "organization": organization,
        "update": update,
    }
    return qs.filter(**{k: v for k, v in filters.items() if v is not None})


def api_tokens_visible_to(user) -> QuerySet[ApiToken]:
    """A login sees its own tokens; Systems (who manages logins) sees everyone's."""
    qs = ApiToken.objects.select_related("user", "created_by")
    return qs if user_can(user, Action.MANAGE_STAFF) else qs.filter(user=user)
