"""Functions that read usage: which update is shown (updates), when the next is due
(schedule), and the figures of the summary, the overviews and the API (figures)."""

from .figures import (
    HISTORY,
    ResourceFigures,
    ServiceFigures,
    UsageStatus,
    organization_figures,
    provider_summary,
    reseller_organizations_usage,
    reseller_overview,
    reseller_summary,
    rollup_figures,
    top_resellers,
    usage_history,
    usage_history_by_period,
    usage_status,
)
from .schedule import usage_schedule_due, usage_schedule_next
from .updates import (
    UnknownPeriod,
    UsagePeriod,
    usage_period_named,
    usage_period_of,
    usage_periods,
    usage_update_latest,
)

__all__ = [
    "HISTORY",
    "ResourceFigures",
    "ServiceFigures",
    "UnknownPeriod",
    "UsagePeriod",
    "UsageStatus",
    "organization_figures",
    "provider_summary",
    "reseller_organizations_usage",
    "reseller_overview",
    "reseller_summary",
    "rollup_figures",
    "top_resellers",
    "usage_history",
    "usage_history_by_period",
    "usage_period_named",
    "usage_period_of",
    "usage_periods",
    "usage_schedule_due",
    "usage_schedule_next",
    "usage_status",
    "usage_update_latest",
]
