"""The query parameters of the tenancy lists: search, the tree (parent, below, top level
or direct), services, suspension and the limits' holders."""

import django_filters as filters
from django.db.models import Exists, OuterRef, Q, QuerySet

from hostmeter.api.filtersets import FlagFilter, RecordFilter, RecordsFilterSet, choice_filter
from hostmeter.tenancy.models import (
    Organization,
    Reseller,
    ResellerLink,
    ResellerLogin,
    Resource,
    ResourceLimit,
    Service,
)
from hostmeter.tenancy.names import name_key

from .serializers import LIMIT_KINDS


def _subtree(reseller: Reseller, *, depth_from: int = 0) -> QuerySet:
    """The ids of the reseller's sub-resellers at any depth (and itself, from depth 0)."""
    links = ResellerLink.objects.filter(ancestor=reseller, depth__gte=depth_from)
    return links.values("descendant_id")


class TenantFilterSet(RecordsFilterSet):
    """What resellers and organizations are both filtered by."""

    q = filters.CharFilter(method="filter_search", help_text="Search in name and domain.")
    is_suspended = FlagFilter(help_text="Only suspended (true) or active (false) ones.")

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name_key__contains=name_key(value)) | Q(domain__icontains=value))


class ResellerFilterSet(TenantFilterSet):
    parent = RecordFilter(
        model=Reseller, help_text="Direct sub-resellers of this reseller (domain)."
    )
    below = RecordFilter(
        model=Reseller,
        method="filter_below",
        help_text="Every sub-reseller below this reseller, at any depth (domain).",
    )
    top_level = FlagFilter(
        field_name="parent",
        lookup_expr="isnull",
        help_text="true: only resellers added by the provider.",
    )

    class Meta:
        model = Reseller
        fields = ["q", "parent", "below", "top_level", "is_suspended"]

    def filter_below(self, queryset: QuerySet, name: str, value: Reseller) -> QuerySet:
        return queryset.filter(pk__in=_subtree(value, depth_from=1))


class OrganizationFilterSet(TenantFilterSet):
    q = filters.CharFilter(
        method="filter_search",
        help_text="Search in name and domain (slow on very large lists: prefer domain).",
    )
    reseller = RecordFilter(model=Reseller, help_text="Organizations this reseller added (domain).")
    below = RecordFilter(
        model=Reseller,
        method="filter_below",
        help_text="Organizations of this reseller and of its sub-resellers (domain).",
    )
    direct = FlagFilter(
        field_name="reseller",
        lookup_expr="isnull",
        help_text="true: only those the provider added directly.",
    )
    service = RecordFilter(
        model=Service,
        to_field_name="code",
        method="filter_service",
        help_text="Only those with this service enabled (code).",
    )

    class Meta:
        model = Organization
        fields = ["q", "reseller", "below", "direct", "service", "is_suspended"]

    def filter_below(self, queryset: QuerySet, name: str, value: Reseller) -> QuerySet:
        return queryset.filter(reseller_id__in=_subtree(value))

    def filter_service(self, queryset: QuerySet, name: str, value: Service) -> QuerySet:
        enabled = Organization.services.through.objects.filter(
            organization_id=OuterRef("pk"), service_id=value.pk
        )
        return queryset.filter(Exists(enabled))


class LimitFilterSet(RecordsFilterSet):
    kind = choice_filter(
        [(kind, kind) for kind in LIMIT_KINDS],
        method="filter_kind",
        help_text="provider, reseller or organization.",
    )
    reseller = RecordFilter(model=Reseller, help_text="One reseller's limits (domain).")
    organization = RecordFilter(model=Organization, help_text="One organization's limits (domain).")
    resource = RecordFilter(
        model=Resource, to_field_name="code", help_text="One resource's limits (code)."
    )

    class Meta:
        model = ResourceLimit
        fields = ["kind", "reseller", "organization", "resource"]

    def filter_kind(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "provider":
            return queryset.filter(reseller__isnull=True, organization__isnull=True)
        return queryset.filter(**{f"{value}__isnull": False})


class ResellerLoginFilterSet(RecordsFilterSet):
    reseller = RecordFilter(model=Reseller, help_text="One reseller's logins (domain).")

    class Meta:
        model = ResellerLogin
        fields = ["reseller"]
