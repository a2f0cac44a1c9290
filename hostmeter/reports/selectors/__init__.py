"""Functions that read what the Usage pages show: the lists (lists), the figures of the
summary and the overviews (figures), and the action bar and report lists (actions)."""

from hostmeter.metering.services import usage_update_latest

from .actions import (
    HOLDER,
    IN_PROGRESS,
    ActionBar,
    action_bar,
    earlier_reports,
    in_progress_ids,
    report_cells,
    report_events,
    whole_reports,
)
from .figures import (
    HISTORY,
    ResourceFigures,
    ServiceFigures,
    UsageStatus,
    organization_figures,
    provider_summary,
    reseller_organizations_usage,
    reseller_overview,
    rollup_figures,
    top_resellers,
    usage_history,
    usage_status,
)
from .lists import PER_PAGE, STATUS_RANK, organization_usage_list, reseller_usage_list

__all__ = [
    "HISTORY",
    "HOLDER",
    "IN_PROGRESS",
    "PER_PAGE",
    "STATUS_RANK",
    "ActionBar",
    "ResourceFigures",
    "ServiceFigures",
    "UsageStatus",
    "action_bar",
    "earlier_reports",
    "in_progress_ids",
    "organization_figures",
    "organization_usage_list",
    "provider_summary",
    "report_cells",
    "report_events",
    "reseller_organizations_usage",
    "reseller_overview",
    "reseller_usage_list",
    "rollup_figures",
    "top_resellers",
    "usage_history",
    "usage_status",
    "usage_update_latest",
    "whole_reports",
]
