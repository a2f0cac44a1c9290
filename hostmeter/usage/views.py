"""The Reports → Usage pages: summary, reseller usage, organization site usage, the
overviews and the action bar; thin views over selectors and services."""

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views import View
from django.views.generic import TemplateView

from hostmeter.accounts.access import LevelRequiredMixin
from hostmeter.accounts.levels import Action, user_can
from hostmeter.metering import selectors as figures
from hostmeter.metering.selectors.updates import usage_update_latest
from hostmeter.metering.views import UsagePageMixin
from hostmeter.reports import selectors as report_selectors
from hostmeter.reports.models import Report
from hostmeter.reports.services import report_request_many
from hostmeter.reports.views import download_or_gone
from hostmeter.tenancy.models import Organization, Reseller, Resource

from . import selectors
from .charts import usage_chart


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
    template_name = "usage/summary.html"
    tab = "summary"

    def get_context_data(self, **kwargs):
        context = self.usage_context()
        summary = figures.provider_summary(update=self.latest)
        history = figures.usage_history(reseller=None)
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
    "usage:reseller-usage",
    "usage:reseller-overview",
    "usage:reseller-actions",
    "usage:reseller-action-bar",
    "usage:reseller-report-status",
)
ORGANIZATIONS = Subject(
    Report.Kind.ORGANIZATION,
    Organization,
    "organizations",
    "organization",
    "usage:organization-usage",
    "usage:organization-overview",
    "usage:organization-actions",
    "usage:organization-action-bar",
    "usage:organization-report-status",
)


MAX_ID = 2**63 - 1


def _ids(data, name: str) -> list[int]:
    """The row ids in a query parameter; anything that cannot be a row's id (not a
    number, past the database's 64 bits) is ignored."""
    return [
        int(raw)
        for raw in data.getlist(name)
        if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID
    ]


def _selected_ids(data) -> list[int]:
    """The ids of the selected rows."""
    return _ids(data, "selected")[:500]


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
            "polling_ids": report_selectors.in_progress_ids(page.object_list),
        }
        return context

    def extra_filters(self, list_args: dict) -> dict:
        return {}


class ResellerUsageView(UsageListView):
    template_name = "usage/reseller_usage.html"
    tab = "resellers"
    subject = RESELLERS
    list_rows = staticmethod(selectors.reseller_usage_list)


class OrganizationUsageView(UsageListView):
    template_name = "usage/organization_usage.html"
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
        latest = usage_update_latest()
        selected = _selected_ids(request.GET)
        bar = selectors.action_bar(kind=self.subject.kind, ids=selected, update=latest)
        return render(request, "usage/_action_bar.html", {"bar": bar, "subject": self.subject})


class ReportStatusView(LevelRequiredMixin, View):
    """htmx: fresh report status cells for rows still queued or generating."""

    subject: Subject

    def get(self, request):
        ids = _ids(request.GET, "ids")[:200]
        latest = usage_update_latest()
        rows = report_selectors.report_cells(kind=self.subject.kind, ids=ids, update=latest)
        # the action bar comes along: a report that became Ready may enable export
        bar = selectors.action_bar(
            kind=self.subject.kind, ids=_selected_ids(request.GET), update=latest
        )
        return render(
            request,
            "usage/_report_status_poll.html",
            {
                "rows": rows,
                "subject": self.subject,
                "polling_ids": report_selectors.in_progress_ids(rows),
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
        latest = usage_update_latest()
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
                **{f"{report_selectors.HOLDER[self.subject.kind]}__in": selected},
            ).select_related("reseller", "organization", "update")
        )
        return download_or_gone(request, reports=reports)


def _with_selection(url: str, ids: list[int]) -> str:
    return f"{url}?{urlencode([('selected', i) for i in ids])}" if ids else url


class ResellerActionsView(ActionsView):
    subject = RESELLERS


class OrganizationActionsView(ActionsView):
    subject = ORGANIZATIONS


# ---------------------------------------------------------------- overviews


class ResellerOverviewView(UsagePageMixin, TemplateView):
    template_name = "usage/reseller_overview.html"
    tab = "resellers"

    def get_context_data(self, pk, **kwargs):
        context = self.usage_context()
        reseller = get_object_or_404(Reseller.objects.select_related("parent"), pk=pk)
        overview = figures.reseller_overview(reseller=reseller, update=self.latest)
        orgs, org_resources = figures.reseller_organizations_usage(
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
    template_name = "usage/organization_overview.html"
    tab = "organizations"

    def get_context_data(self, pk, **kwargs):
        context = self.usage_context()
        org = get_object_or_404(Organization.objects.select_related("reseller"), pk=pk)
        context |= {
            "organization": org,
            "services": list(org.services.order_by("position")),
            "figures": figures.organization_figures(update=self.latest, organization=org),
            "charts": _charts(figures.usage_history(organization=org), _all_resources()),
        }
        return context
