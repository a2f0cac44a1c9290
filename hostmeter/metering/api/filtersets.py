"""The query parameters of the usage lists: an update's status, and the organizations of
an update below a reseller."""

import django_filters as filters
from django.db.models import Exists, OuterRef, QuerySet

from hostmeter.api.filtersets import RecordFilter, choice_filter
from hostmeter.metering.models import UsageRow, UsageUpdate
from hostmeter.tenancy.models import Organization, Reseller, ResellerLink


class UsageUpdateFilterSet(filters.FilterSet):
    status = choice_filter(UsageUpdate.Status.choices, help_text="Only updates in this status.")

    class Meta:
        model = UsageUpdate
        fields = ["status"]


class UpdateOrganizationFilterSet(filters.FilterSet):
    """Filters selectors.update_organizations_query(update=…)."""

    below = RecordFilter(
        model=Reseller,
        method="filter_below",
        help_text="Only organizations of this reseller and its sub-resellers.",
    )

    class Meta:
        model = Organization
        fields = ["below"]

    def filter_below(self, queryset: QuerySet, name: str, value: Reseller) -> QuerySet:
        """By their reseller at the time of the update, as the reseller report counts them."""
        subtree = ResellerLink.objects.filter(ancestor=value).values("descendant_id")
        rows = UsageRow.objects.filter(
            update_id=OuterRef("usage_update"),
            organization_id=OuterRef("pk"),
            reseller_id__in=subtree,
        )
        return queryset.filter(Exists(rows))
