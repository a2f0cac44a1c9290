"""The query parameters of the usage lists: an update's status and billing period, and
the organizations of an update below a reseller; the period filter the report list uses."""

import django_filters as filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet

from hostmeter.api.filtersets import RecordFilter, RecordsFilterSet, choice_filter
from hostmeter.metering.models import UsageRow, UsageUpdate
from hostmeter.metering.selectors.updates import UnknownPeriod, UsagePeriod, usage_period_for_key
from hostmeter.tenancy.models import Organization, Reseller, ResellerLink


class PeriodFormField(forms.CharField):
    """A billing period with figures, YYYY-MM; empty: not filtered."""

    def to_python(self, value) -> UsagePeriod | None:  # type: ignore[override]
        key = super().to_python(value)
        if not key:
            return None
        try:
            return usage_period_for_key(key)
        except UnknownPeriod as exc:
            raise ValidationError(str(exc), code="invalid") from exc


class PeriodFilter(filters.CharFilter):
    """Records of one billing period: field_name is the period start of their update."""

    field_class = PeriodFormField

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(**{self.field_name: value.period.start})


class UsageUpdateFilterSet(RecordsFilterSet):
    status = choice_filter(UsageUpdate.Status.choices, help_text="Only updates in this status.")
    period = PeriodFilter(
        field_name="period_start",
        help_text="Only updates of this billing period, YYYY-MM (the current one or a closed "
        "one; its update as of the period's end has closes_period true).",
    )

    class Meta:
        model = UsageUpdate
        fields = ["status", "period"]


class UpdateOrganizationFilterSet(RecordsFilterSet):
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
