"""Periodic checks that keep records honest when a worker dies; run by the scheduler."""

from hostmeter.metering.services import usage_updates_fail_stale
from hostmeter.reports.services import reports_fail_stale


def housekeeping_run() -> dict[str, int]:
    return {
        "usage_updates_failed": usage_updates_fail_stale(),
        "reports_failed": reports_fail_stale(),
    }
