"""The export reports tab, report downloads and the audit log."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views import View
from django.views.generic import RedirectView, TemplateView

from hostmeter.accounts.access import LevelRequiredMixin
from hostmeter.accounts.levels import Action, user_can
from hostmeter.metering.selectors.updates import usage_periods, usage_update_latest
from hostmeter.metering.views import UsagePageMixin
from hostmeter.tenancy.access import ScopeMixin

from . import selectors
from .forms import PeriodFilterForm
from .models import IN_PROGRESS, Report
from .services import ReportError, ReportFileMissing, report_download_response, report_request


class ReportsIndexView(LevelRequiredMixin, RedirectView):
    pattern_name = "usage:summary"
    reseller_scoped = True  # to the summary, which is


class ExportReportsView(UsagePageMixin, TemplateView):
    """The summary, reseller usage and organization site usage files (a reseller login's:
    of its subtree) and every file generated that the login sees."""

    template_name = "reports/export_reports.html"
    tab = "export"
    reseller_scoped = True

    def get_template_names(self):
        if self.polled():
            return ["reports/_whole_reports.html"]
        return super().get_template_names()

    def polled(self) -> bool:
        """htmx's poll of the latest update's reports, which takes that part alone."""
        return bool(self.request.htmx) and self.request.htmx.target == "whole-reports"

    def get_context_data(self, **kwargs):
        context = self.usage_context()
        whole = selectors.whole_reports(update=self.latest, scope=self.scope)
        context |= {
            "whole_reports": whole,
            "whole_in_progress": any(
                r and r.status in IN_PROGRESS for item in whole for _, r in item["formats"]
            ),
        }
        if self.polled():  # the generated files stay as they are: not read
            return context
        zone = context["provider"].zone
        periods = usage_periods(zone=zone, latest=self.latest)
        period_form = PeriodFilterForm(self.request.GET, periods=periods)
        page_obj = selectors.earlier_reports(
            page=self.request.GET.get("page", 1), period=period_form.chosen(), scope=self.scope
        )
        context |= {
            "period_form": period_form,
            "page_obj": page_obj,
            "files": selectors.report_files(reports=page_obj.object_list, zone=zone),
            "may_audit": user_can(self.request.user, Action.MANAGE_STAFF),
            # who asked for a file: the provider's staff names are not a reseller's business
            "show_requester": self.scope.whole,
        }
        return context


class ExportGenerateView(ScopeMixin, View):
    """Generate the summary, reseller usage or organization site usage report (a reseller
    login's: of its subtree)."""

    required_action = Action.GENERATE_REPORTS
    reseller_scoped = True
    KINDS = (Report.Kind.SUMMARY, Report.Kind.RESELLERS, Report.Kind.ORGANIZATIONS)

    def post(self, request):
        kind, fmt = request.POST.get("kind", ""), request.POST.get("format", "csv")
        if kind not in self.KINDS or fmt not in Report.Format.values:
            messages.error(request, "Choose one of the reports and formats listed.")
            return HttpResponseRedirect(reverse("reports:export-reports"), status=303)
        try:
            report, queued = report_request(
                kind=kind,
                update=usage_update_latest(),
                user=request.user,
                format=fmt,
                regenerate=request.POST.get("regenerate") == "1",
                subtree=None if self.scope.whole else self.scope.reseller(),
            )
        except ReportError as exc:
            messages.error(request, str(exc))
        else:
            label = f"{Report.Kind(kind).label} report ({fmt.upper()})"
            if queued:
                messages.success(request, f"{label} queued.")
            elif report.status == Report.Status.READY:
                messages.info(request, f"{label} is already Ready for this usage update.")
            else:
                messages.info(request, f"{label} is already being generated.")
        return HttpResponseRedirect(reverse("reports:export-reports"), status=303)


class ReportDownloadView(ScopeMixin, View):
    """One report's file, checked for the login level on every request (a reseller login:
    only its subtree's; another is not found)."""

    required_action = Action.GENERATE_REPORTS
    reseller_scoped = True

    def get(self, request, pk):
        reports = Report.objects.select_related("update", "reseller", "organization")
        report = get_object_or_404(selectors.reports_seen(self.scope, reports), pk=pk)
        if report.status != Report.Status.READY:
            return render(
                request,
                "reports/not_ready.html",
                {"report": report, "tab": "export"},
                status=409,
            )
        return download_or_gone(request, reports=[report])


class AuditLogView(UsagePageMixin, TemplateView):
    """Systems: who generated and who downloaded which report, and when."""

    required_action = Action.MANAGE_STAFF
    template_name = "reports/audit_log.html"
    tab = "export"

    def get_context_data(self, **kwargs):
        context = self.usage_context()
        context["page_obj"] = selectors.report_events(page=self.request.GET.get("page", 1))
        return context


def download_or_gone(request, *, reports: list[Report]):
    """The reports' file (or ZIP); 410 Gone with the reason when a file left storage."""
    try:
        return report_download_response(reports=reports, user=request.user)
    except ReportFileMissing as exc:
        return render(
            request, "reports/file_missing.html", {"message": str(exc), "tab": "export"}, status=410
        )
