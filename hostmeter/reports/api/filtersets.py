"""The query parameters of the report list: kind, status, file format, subject, update,
billing period."""

from hostmeter.api.filtersets import RecordFilter, RecordIdFilter, RecordsFilterSet, choice_filter
from hostmeter.metering.api.filtersets import PeriodFilter
from hostmeter.metering.models import UsageUpdate
from hostmeter.reports.models import Report
from hostmeter.tenancy.models import Organization, Reseller


class ReportFilterSet(RecordsFilterSet):
    kind = choice_filter(Report.Kind.choices, help_text="Report kind.")
    status = choice_filter(Report.Status.choices, help_text="Report status.")
    # not `format`: DRF takes ?format= for the renderer
    file_format = choice_filter(
        Report.Format.choices, field_name="format", help_text="File format (csv or xlsx)."
    )
    reseller = RecordFilter(model=Reseller, help_text="A reseller's reports (domain).")
    organization = RecordFilter(model=Organization, help_text="An organization's reports (domain).")
    update = RecordIdFilter(model=UsageUpdate, help_text="Reports of one usage update (id).")
    period = PeriodFilter(
        field_name="update__period_start",
        help_text="Reports of one billing period, YYYY-MM: a closed one's (of its closing "
        "update, and any made while it ran) or the current one's.",
    )

    class Meta:
        model = Report
        fields = ["kind", "status", "file_format", "reseller", "organization", "update", "period"]
