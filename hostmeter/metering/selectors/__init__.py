"""Functions that read usage: which update is shown (updates), when the next is due
(schedule), the figures of a roll-up or an organization and their history (figures),
the summary tab (summary) and the overviews (overviews)."""

from .figures import (
    HISTORY,
    ResourceFigures,
    ServiceFigures,
    UsageStatus,
    organization_figures,
    rollup_figures,
    usage_history,
    usage_history_by_period,
    usage_status,
)
from .overviews import reseller_organizations_usage, reseller_overview
from .schedule import usage_schedule_due, usage_schedule_next
from .summary import provider_summary, reseller_summary, top_resellers
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
