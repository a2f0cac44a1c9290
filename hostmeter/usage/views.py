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

from hostmeter.accounts.levels import Action, user_can
from hostmeter.ids import row_id
from hostmeter.metering import selectors as figures
from hostmeter.metering.selectors.updates import UsagePeriod
from hostmeter.metering.views import PeriodPageMixin
from hostmeter.reports import selectors as report_selectors
from hostmeter.reports.models import Report
from hostmeter.reports.services import report_request_many
from hostmeter.reports.views import download_or_gone
from hostmeter.tenancy.models import Organization, Reseller, Resource

from . import selectors
from .charts import usage_chart


def _charts(history: dict, resources: dict[int, Resource], labels: dict | None = None) -> list:
    """A chart per resource that has been used at all in the kept updates (labels: the
    points are billing periods, named so)."""
    return [
        usage_chart(
            title=resources[rid].name, unit=resources[rid].unit, points=points, labels=labels
        )
        for rid, points in sorted(history.items(), key=lambda kv: _position(resources[kv[0]]))
        if rid in resources and any(p[1] for p in points)
    ]


class TrendMixin(PeriodPageMixin):
    """The trend charts of a page, by update (the kept updates up to the one shown) or,
    with ?trend=period, by billing period (each closed period's closing figure and the
    current period to date, up to the one shown)."""

    def trend_context(
        self, context: dict, *, reseller: Reseller | None = None, organization=None
    ) -> dict:
        by_period = self.request.GET.get("trend") == "period"
        if by_period:
            periods = _periods_until(context["period_choices"], self.update)
            history = figures.usage_history_by_period(
                periods=periods, reseller=reseller, organization=organization, scope=self.scope
            )
            labels = {p.period.start: f"{p.period.first_day:%b %Y}" for p in periods}
            charts = _charts(history, _all_resources(), labels)
        else:
            history = figures.usage_history(
                reseller=reseller, organization=organization, until=self.update, scope=self.scope
            )
            charts = _charts(history, _all_resources())
        return {"charts": charts, "trend": "period" if by_period else "update"}


def _periods_until(periods: list[UsagePeriod], update) -> list[UsagePeriod]:
    """The periods shown up to the update's (a closed period's page ends with it)."""
    if update is None:
        return []
    return [p for p in periods if p.update.cutoff <= update.cutoff]


def _position(resource: Resource) -> tuple:
    return (resource.service.position, resource.position)


def _all_resources() -> dict[int, Resource]:
    return {r.pk: r for r in Resource.objects.select_related("service")}


class SummaryView(TrendMixin, TemplateView):
    """The provider's summary; a reseller login's is its own reseller's (its limits, what
    it allocated, its sub-resellers)."""

    template_name = "usage/summary.html"
    tab = "summary"
    reseller_scoped = True

    def get_context_data(self, **kwargs):
        context = self.usage_context()
        zone = context["provider"].zone
        if self.scope.whole:
            context |= figures.provider_summary(update=self.update, compare=zone)
            context |= self.trend_context(context)
        else:
            reseller = self.scope.reseller()
            context |= figures.reseller_summary(reseller=reseller, update=self.update, compare=zone)
            context |= self.trend_context(context, reseller=reseller)
            context["own_reseller"] = reseller
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


def _ids(data, name: str) -> list[int]:
    """The row ids in a query parameter; anything that cannot be a row's id (not a
    number, past the database's 64 bits) is ignored."""
    return [pk for pk in map(row_id, data.getlist(name)) if pk is not None]


def _selected_ids(data) -> list[int]:
    """The ids of the selected rows."""
    return _ids(data, "selected")[:500]


def _text_param(data, name: str) -> str:
    """A free-text query parameter: NUL characters (refused by PostgreSQL) removed."""
    return data.get(name, "").replace("\x00", "").strip()[:200]


class UsageListView(PeriodPageMixin, TemplateView):
    subject: Subject
    reseller_scoped = True

    def get_context_data(self, **kwargs):
        context = self.usage_context()
        params = self.request.GET
        selected = self.scope.visible_ids(self.subject.model, _selected_ids(params))
        list_args = {
            "search": _text_param(params, "q"),
            "sort": _text_param(params, "sort") or "name",
            "page": params.get("page", 1),
            "update": self.update,
            "scope": self.scope,
        }
        context |= self.extra_filters(list_args)
        page, sort = self.list_rows(**list_args)
        context |= {
            "subject": self.subject,
            "page_obj": page,
            "sort": sort,
            "q": list_args["search"],
            "selected": selected,
            "bar": selectors.action_bar(kind=self.subject.kind, ids=selected, update=self.update),
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
            seen = self.scope.resellers()
            pk = row_id(raw)
            reseller = (
                seen.filter(pk=pk).first()
                if pk is not None
                else seen.filter(domain=raw.lower()).first()
            )
            if reseller is None:
                messages.warning(self.request, f"No reseller “{raw}”: showing every organization.")
        list_args["reseller"] = reseller
        return {"reseller_filter": reseller, "reseller_param": raw}


class ActionBarView(PeriodPageMixin, View):
    """htmx: the action bar for the current selection (the server decides what is enabled),
    for the reports of the period shown."""

    subject: Subject
    reseller_scoped = True

    def get(self, request):
        asked = _selected_ids(request.GET)
        # With nothing selected the bar offers nothing, whatever the update: a list asks
        # for it every time it loads, so the update is not read then (a period asked
        # for is still checked).
        update = self.period_update() if asked or self.period_key() else None
        selected = self.scope.visible_ids(self.subject.model, asked)
        bar = selectors.action_bar(kind=self.subject.kind, ids=selected, update=update)
        return render(request, "usage/_action_bar.html", {"bar": bar, "subject": self.subject})


class ReportStatusView(PeriodPageMixin, View):
    """htmx: fresh report status cells for rows still queued or generating (the reports
    of the period shown)."""

    subject: Subject
    reseller_scoped = True

    def get(self, request):
        model = self.subject.model
        update = self.period_update()
        ids = self.scope.visible_ids(model, _ids(request.GET, "ids")[:200])
        rows = report_selectors.report_cells(kind=self.subject.kind, ids=ids, update=update)
        # the action bar comes along: a report that became Ready may enable export
        selected = self.scope.visible_ids(model, _selected_ids(request.GET))
        bar = selectors.action_bar(kind=self.subject.kind, ids=selected, update=update)
        return render(
            request,
            "usage/_report_status_poll.html",
            {
                "rows": rows,
                "subject": self.subject,
                "polling_ids": report_selectors.in_progress_ids(rows),
                "bar": bar,
                "period_key": self.period_key() if update is not None else "",
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


class ActionsView(PeriodPageMixin, View):
    """The action bar's buttons post here; the rules are checked again whatever the page
    showed (the page may be old, or without JavaScript). They act on the reports of the
    period the page showed (its `period` field)."""

    subject: Subject
    required_action = Action.GENERATE_REPORTS
    reseller_scoped = True

    def latest_url(self) -> str:
        return reverse(self.subject.list_url)

    def post(self, request):
        update = self.period_update()
        selected = self.scope.visible_ids(self.subject.model, _selected_ids(request.POST))
        action = request.POST.get("action", "")
        period = [("period", self.period_key())] if update and self.period_key() else []
        back = _with_params(reverse(self.subject.list_url), period)
        bar = selectors.action_bar(kind=self.subject.kind, ids=selected, update=update)
        if action == "overview":
            if not bar.overview:
                messages.error(request, f"Select exactly one {self.subject.noun} for overview.")
                return HttpResponseRedirect(back, status=303)
            return HttpResponseRedirect(
                _with_params(reverse(self.subject.overview_url, args=[selected[0]]), period),
                status=303,
            )
        if action == "generate":
            return self.generate(request, selected, update, bar, back)
        if action == "export":
            return self.export(request, selected, update, bar, back)
        messages.error(request, "Choose an action from the action bar.")
        return HttpResponseRedirect(back, status=303)

    def generate(self, request, selected, update, bar, back):
        if not bar.generate:
            messages.error(
                request,
                f"Select one or more {self.subject.noun}s to generate reports for."
                if selected
                else f"Select one or more {self.subject.noun}s first.",
            )
            return HttpResponseRedirect(back, status=303)
        subjects = self.scope.holders(self.subject.model).filter(pk__in=selected)
        outcome = report_request_many(
            kind=self.subject.kind,
            subjects=list(subjects),
            update=update,
            user=request.user,
            regenerate=request.POST.get("regenerate") == "1",
        )
        messages.success(request, outcome.message())
        return HttpResponseRedirect(_with_selection(back, selected), status=303)

    def export(self, request, selected, update, bar, back):
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
                update=update,
                format=Report.Format.CSV,
                status=Report.Status.READY,
                **{f"{report_selectors.HOLDER[self.subject.kind]}__in": selected},
            ).select_related("reseller", "organization", "update")
        )
        return download_or_gone(request, reports=reports)


def _with_params(url: str, params: list[tuple[str, object]]) -> str:
    """The url with these query parameters added (it may have some already)."""
    if not params:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _with_selection(url: str, ids: list[int]) -> str:
    return _with_params(url, [("selected", i) for i in ids])


class ResellerActionsView(ActionsView):
    subject = RESELLERS


class OrganizationActionsView(ActionsView):
    subject = ORGANIZATIONS


# ---------------------------------------------------------------- overviews


class ResellerOverviewView(TrendMixin, TemplateView):
    template_name = "usage/reseller_overview.html"
    tab = "resellers"
    reseller_scoped = True

    def get_context_data(self, pk, **kwargs):
        context = self.usage_context()  # self.scope: as the update shown froze the tree
        seen = self.scope.resellers(Reseller.objects.select_related("parent"))
        reseller = get_object_or_404(seen, pk=pk)
        zone = context["provider"].zone
        overview = figures.reseller_overview(reseller=reseller, update=self.update, compare=zone)
        orgs, org_resources = figures.reseller_organizations_usage(
            reseller=reseller, update=self.update, page=self.request.GET.get("page", 1)
        )
        context |= overview | {
            "reseller": reseller,
            # a reseller login's own reseller was added by someone it does not see
            "parent_seen": reseller.parent_id is not None
            and (self.scope.whole or reseller.pk != self.scope.reseller_id),
            "page_obj": orgs,
            "org_resources": org_resources,
        }
        context |= self.trend_context(context, reseller=reseller)
        return context


class OrganizationOverviewView(TrendMixin, TemplateView):
    template_name = "usage/organization_overview.html"
    tab = "organizations"
    reseller_scoped = True

    def get_context_data(self, pk, **kwargs):
        context = self.usage_context()  # self.scope: as the update shown froze the tree
        seen = self.scope.organizations(Organization.objects.select_related("reseller"))
        org = get_object_or_404(seen, pk=pk)
        context |= {
            "organization": org,
            "services": list(org.services.order_by("position")),
            "figures": figures.organization_figures(
                update=self.update, organization=org, compare=context["provider"].zone
            ),
        }
        context |= self.trend_context(context, organization=org)
        return context
