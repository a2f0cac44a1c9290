from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "hostmeter.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self):
        from hostmeter.housekeeping import housekeeping_register

        from .services import report_scratch_sweep, reports_fail_stale

        housekeeping_register("reports_failed", reports_fail_stale)
        housekeeping_register("report_scratch_removed", report_scratch_sweep)
