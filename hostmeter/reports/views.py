"""The Reports → Usage pages: thin views over reports.selectors and services."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import RedirectView, TemplateView

from hostmeter.accounts.access import LevelRequiredMixin
from hostmeter.accounts.levels import Action, user_can
from hostmeter.metering.services import UsageUpdateError, usage_update_start
from hostmeter.tenancy.models import Organization, Provider, Reseller, Resource

from . import selectors
from .charts import usage_chart
from .forms import UsageScheduleForm
from .models import Report
from .services import (
    ReportError,
    report_download_response,
    report_request,
    report_request_many,
)


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "home.html"

    def get(self, request, *args, **kwargs):
        if user_can(request.user, Action.VIEW_USAGE):
            return redirect("reports:summary")
        return super().get(request, *args, **kwargs)


class ReportsIndexView(LevelRequiredMixin, RedirectView):
    pattern_name = "reports:summary"


class UsagePageMixin(LevelRequiredMixin):
    """Every usage tab: the provider, the status line and which tab is current."""

    tab = ""

    def usage_context(self) -> dict:
        provider = getattr(self.request, "_hostmeter_provider", None) or Provider.get()
        self.request._hostmeter_provider = provider
        status = selectors.usage_status(provider=provider)
        self.latest = status.latest
        return {"tab": self.tab, "status": status, "provider": provider}


def _charts(history: dict, resources: dict[int, Resource]) -> list:
    """A chart per resource that has been used at all in the kept updates."""
    return [
        usage_chart(title=resources[rid].name, unit=resources[rid].unit, points=points)
        for rid, points in sorted(history.items(), key=lambda kv: _position(resources[kv[0]]))
        if rid in resources and any(p[1] for p in points)
    ]


def _position(resource: Resource) -> tuple:
    return (resource.service.position, resource.position)


def _all_resources() -> dict[int, Resource]:
    return {r.pk: r for r in Resource.objects.select_related("service")}


class SummaryView(UsagePageMixin, TemplateView):
    template_name = "reports/summary.html"
    tab = "summary"

    def get_context_data(self, **kwargs):
        context = self.usage_context()
        summary = selectors.provider_summary(update=self.latest)
        history = selectors.usage_history(reseller=None)
        context |= summary
        context["charts"] = _charts(history, _all_resources())
        context["may_schedule"] = user_can(self.request.user, Action.MANAGE_SCHEDULE)
        return context


# ---------------------------------------------------------------- lists and action bar


@dataclass(frozen=True)
class Subject:
    """What differs between the reseller usage and organization site usage tabs."""

    kind: str  # Report.Kind
    model: type
    tab: str
    noun: str
    list_url: str
    overview_url: str
    actions_url: str
    bar_url: str
    status_url: str


RESELLERS = Subject(
    Report.Kind.RESELLER,
    Reseller,
    "resellers",
    "reseller",
    "reports:reseller-usage",
    "reports:reseller-overview",
    "reports:reseller-actions",
    "reports:reseller-action-bar",
    "reports:reseller-report-status",
)
ORGANIZATIONS = Subject(
    Report.Kind.ORGANIZATION,
    Organization,
    "organizations",
    "organization",
    "reports:organization-usage",
    "reports:organization-overview",
    "reports:organization-actions",
    "reports:organization-action-bar",
    "reports:organization-report-status",
)


MAX_ID = 2**63 - 1


def _selected_ids(data) -> list[int]:
    """The ids of the selected rows; anything that cannot be a row's id is ignored."""
    ids = []
    for raw in data.getlist("selected"):
        if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID:
            ids.append(int(raw))
    return ids[:500]


def _text_param(data, name: str) -> str:
    """A free-text query parameter: NUL characters (refused by PostgreSQL) removed."""
    return data.get(name, "").replace("\x00", "").strip()[:200]


class UsageListView(UsagePageMixin, TemplateView):
    subject: Subject

    def get_context_data(self, **kwargs):
        context = self.usage_context()
        params = self.request.GET
        selected = _selected_ids(params)
        list_args = {
            "search": _text_param(params, "q"),
            "sort": _text_param(params, "sort") or "name",
            "page": params.get("page", 1),
            "update": self.latest,
        }
        context |= self.extra_filters(list_args)
        page, sort = self.list_rows(**list_args)
        context |= {
            "subject": self.subject,
            "page_obj": page,
            "sort": sort,
            "q": list_args["search"],
            "selected": selected,
            "bar": selectors.action_bar(kind=self.subject.kind, ids=selected, update=self.latest),
            "polling_ids": selectors.in_progress_ids(page.object_list),
        }
        return context

    def extra_filters(self, list_args: dict) -> dict:
        return {}


class ResellerUsageView(UsageListView):
    template_name = "reports/reseller_usage.html"
    tab = "resellers"
    subject = RESELLERS
    list_rows = staticmethod(selectors.reseller_usage_list)


class OrganizationUsageView(UsageListView):
    template_name = "reports/organization_usage.html"
    tab = "organizations"
    subject = ORGANIZATIONS
    list_rows = staticmethod(selectors.organization_usage_list)

    def extra_filters(self, list_args: dict) -> dict:
        raw = _text_param(self.request.GET, "reseller")
        reseller = None
        if raw:
            reseller = (
                Reseller.objects.filter(pk=int(raw)).first()
                if raw.isascii() and raw.isdigit() and int(raw) <= MAX_ID
                else Reseller.objects.filter(domain=raw.lower()).first()
            )
            if reseller is None:
                messages.warning(self.request, f"No reseller “{raw}”: showing every organization.")
        list_args["reseller"] = reseller
        return {"reseller_filter": reseller, "reseller_param": raw}


class ActionBarView(LevelRequiredMixin, View):
    """htmx: the action bar for the current selection (the server decides what is enabled)."""

    subject: Subject

    def get(self, request):
        latest = selectors.usage_update_latest()
        selected = _selected_ids(request.GET)
        bar = selectors.action_bar(kind=self.subject.kind, ids=selected, update=latest)
        return render(request, "reports/_action_bar.html", {"bar": bar, "subject": self.subject})


class ReportStatusView(LevelRequiredMixin, View):
    """htmx: fresh report status cells for rows still queued or generating."""

    subject: Subject

    def get(self, request):
        ids = [int(i) for i in request.GET.getlist("ids") if i.isascii() and i.isdigit()][:200]
        latest = selectors.usage_update_latest()
        rows = selectors.report_cells(kind=self.subject.kind, ids=ids, update=latest)
        # the action bar comes along: a report that became Ready may enable export
        bar = selectors.action_bar(
            kind=self.subject.kind, ids=_selected_ids(request.GET), update=latest
        )
        return render(
            request,
            "reports/_report_status_poll.html",
            {
                "rows": rows,
                "subject": self.subject,
                "polling_ids": selectors.in_progress_ids(rows),
                "bar": bar,
            },
        )


class ResellerReportStatusView(ReportStatusView):
    subject = RESELLERS


class OrganizationReportStatusView(ReportStatusView):
    subject = ORGANIZATIONS


class ResellerActionBarView(ActionBarView):
    subject = RESELLERS


class OrganizationActionBarView(ActionBarView):
    subject = ORGANIZATIONS


class ActionsView(LevelRequiredMixin, View):
    """The action bar's buttons post here; the rules are checked again whatever the page
    showed (the page may be old, or without JavaScript)."""

    subject: Subject
    required_action = Action.GENERATE_REPORTS

    def post(self, request):
        selected = _selected_ids(request.POST)
        action = request.POST.get("action", "")
        back = reverse(self.subject.list_url)
        latest = selectors.usage_update_latest()
        bar = selectors.action_bar(kind=self.subject.kind, ids=selected, update=latest)
        if action == "overview":
            if not bar.overview:
                messages.error(request, f"Select exactly one {self.subject.noun} for overview.")
                return HttpResponseRedirect(back, status=303)
            return HttpResponseRedirect(
                reverse(self.subject.overview_url, args=[selected[0]]), status=303
            )
        if action == "generate":
            return self.generate(request, selected, latest, bar, back)
        if action == "export":
            return self.export(request, selected, latest, bar, back)
        messages.error(request, "Choose an action from the action bar.")
        return HttpResponseRedirect(back, status=303)

    def generate(self, request, selected, latest, bar, back):
        if not bar.generate:
            messages.error(
                request,
                f"Select one or more {self.subject.noun}s to generate reports for."
                if selected
                else f"Select one or more {self.subject.noun}s first.",
            )
            return HttpResponseRedirect(back, status=303)
        subjects = self.subject.model.objects.filter(pk__in=selected)
        outcome = report_request_many(
            kind=self.subject.kind,
            subjects=list(subjects),
            update=latest,
            user=request.user,
            regenerate=request.POST.get("regenerate") == "1",
        )
        messages.success(request, outcome.message())
        return HttpResponseRedirect(_with_selection(back, selected), status=303)

    def export(self, request, selected, latest, bar, back):
        if not bar.export:
            messages.error(
                request,
                "export csv report: every selected report must be generated first and show "
                f"Ready ({bar.ready} of {len(selected)} are).",
            )
            return HttpResponseRedirect(_with_selection(back, selected), status=303)
        reports = list(
            Report.objects.filter(
                kind=self.subject.kind,
                update=latest,
                format=Report.Format.CSV,
                status=Report.Status.READY,
                **{f"{selectors.HOLDER[self.subject.kind]}__in": selected},
            ).select_related("reseller", "organization", "update")
        )
        return report_download_response(reports=reports, user=request.user)


def _with_selection(url: str, ids: list[int]) -> str:
    from django.utils.http import urlencode

    return f"{url}?{urlencode([('selected', i) for i in ids])}" if ids else url


class ResellerActionsView(ActionsView):
    subject = RESELLERS


class OrganizationActionsView(ActionsView):
    subject = ORGANIZATIONS


# ---------------------------------------------------------------- overviews


class ResellerOverviewView(UsagePageMixin, TemplateView):
    template_name = "reports/reseller_overview.html"
    tab = "resellers"

    def get_context_data(self, pk, **kwargs):
        context = self.usage_context()
        reseller = get_object_or_404(Reseller.objects.select_related("parent"), pk=pk)
        overview = selectors.reseller_overview(reseller=reseller, update=self.latest)
        orgs, org_resources = selectors.reseller_organizations_usage(
            reseller=reseller, update=self.latest, page=self.request.GET.get("page", 1)
        )
        context |= overview | {
            "reseller": reseller,
            "charts": _charts(overview["history"], _all_resources()),
            "page_obj": orgs,
            "org_resources": org_resources,
        }
        return context


class OrganizationOverviewView(UsagePageMixin, TemplateView):
    template_name = "reports/organization_overview.html"
    tab = "organizations"

    def get_context_data(self, pk, **kwargs):
        context = self.usage_context()
        org = get_object_or_404(Organization.objects.select_related("reseller"), pk=pk)
        context |= {
            "organization": org,
            "services": list(org.services.order_by("position")),
            "figures": selectors.organization_figures(update=self.latest, organization=org),
            "charts": _charts(selectors.usage_history(organization=org), _all_resources()),
        }
        return context


# ---------------------------------------------------------------- export reports


class ExportReportsView(UsagePageMixin, TemplateView):
    template_name = "reports/export_reports.html"
    tab = "export"

    def get_context_data(self, **kwargs):
        context = self.usage_context()
        whole = selectors.whole_reports(update=self.latest)
        context |= {
            "whole_reports": whole,
            "whole_in_progress": any(
                r and r.status in selectors.IN_PROGRESS
                for item in whole
                for _, r in item["formats"]
            ),
            "page_obj": selectors.earlier_reports(page=self.request.GET.get("page", 1)),
            "may_audit": user_can(self.request.user, Action.MANAGE_STAFF),
        }
        return context


class ExportGenerateView(LevelRequiredMixin, View):
    """Generate the summary, reseller usage or organization site usage report."""

    required_action = Action.GENERATE_REPORTS
    KINDS = (Report.Kind.SUMMARY, Report.Kind.RESELLERS, Report.Kind.ORGANIZATIONS)

    def post(self, request):
        kind, fmt = request.POST.get("kind", ""), request.POST.get("format", "csv")
        if kind not in self.KINDS or fmt not in Report.Format.values:
            messages.error(request, "Choose one of the reports and formats listed.")
            return HttpResponseRedirect(reverse("reports:export-reports"), status=303)
        try:
            report, queued = report_request(
                kind=kind,
                update=selectors.usage_update_latest(),
                user=request.user,
                format=fmt,
                regenerate=request.POST.get("regenerate") == "1",
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


class ReportDownloadView(LevelRequiredMixin, View):
    """One report's file, checked for the login level on every request."""

    required_action = Action.GENERATE_REPORTS

    def get(self, request, pk):
        report = get_object_or_404(
            Report.objects.select_related("update", "reseller", "organization"), pk=pk
        )
        if report.status != Report.Status.READY:
            return render(
                request,
                "reports/not_ready.html",
                {"report": report, "tab": "export"},
                status=409,
            )
        return report_download_response(reports=[report], user=request.user)


class AuditLogView(UsagePageMixin, TemplateView):
    """Systems: who generated and who downloaded which report, and when."""

    required_action = Action.MANAGE_STAFF
    template_name = "reports/audit_log.html"
    tab = "export"

    def get_context_data(self, **kwargs):
        context = self.usage_context()
        context["page_obj"] = selectors.report_events(page=self.request.GET.get("page", 1))
        return context


# ---------------------------------------------------------------- schedule and update now


class UsageScheduleView(UsagePageMixin, View):
    required_action = Action.MANAGE_SCHEDULE
    tab = "summary"

    def get(self, request):
        provider = Provider.get()
        return self._render(UsageScheduleForm(instance=provider), provider)

    def post(self, request):
        provider = Provider.get()
        form = UsageScheduleForm(request.POST, instance=provider)
        if form.is_valid():
            form.save()
            messages.success(request, f"Usage schedule saved: {form.describe()}.")
            return redirect("reports:usage-schedule")
        return self._render(form, provider, status=400)

    def _render(self, form, provider, status=200):
        context = self.usage_context() | {"form": form, "next_runs": form.next_runs()}
        return render(self.request, "reports/usage_schedule.html", context, status=status)


class UpdateRunView(LevelRequiredMixin, View):
    """Systems: queue a usage update now (refused while one is queued or running)."""

    required_action = Action.MANAGE_SCHEDULE

    def post(self, request):
        try:
            update = usage_update_start(user=request.user)
        except UsageUpdateError as exc:  # already queued or running, or a clock problem
            messages.error(request, str(exc))
            return redirect("reports:summary")
        messages.success(
            request,
            f"Usage update as of {timezone.localtime(update.cutoff):%d %b %Y %H:%M} queued. "
            "It runs in the background; this page shows its progress.",
        )
        return redirect("reports:summary")


class UpdateStatusView(UsagePageMixin, View):
    """htmx: the status line, polled while an update is queued or running."""

    def get(self, request):
        context = self.usage_context()
        response = render(request, "reports/_status_line.html", context)
        if request.GET.get("was") == "pending" and context["status"].pending is None:
            response["HX-Refresh"] = "true"  # the update finished: show its figures
        return response
