"""The usage status line every Usage tab shows, the billing period a page shows, the usage
schedule page and update now."""

from dataclasses import replace
from urllib.parse import urlsplit

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import View

from hostmeter.accounts.access import LevelRequiredMixin
from hostmeter.accounts.levels import Action
from hostmeter.tenancy.access import ScopeMixin
from hostmeter.tenancy.models import Provider

from .forms import UsageScheduleForm
from .models import UsageUpdate
from .scope import scope_at
from .selectors.figures import usage_status
from .selectors.updates import (
    UnknownPeriod,
    UsagePeriod,
    usage_period_named,
    usage_periods,
    usage_update_of_period,
)
from .services.updates import UsageUpdateError, usage_update_start


class UsagePageMixin(ScopeMixin):
    """Every usage tab: the provider, the status line and which tab is current; what the
    login sees of the customer base is self.scope."""

    tab = ""

    def usage_provider(self) -> Provider:
        provider = getattr(self.request, "_hostmeter_provider", None) or Provider.get()
        self.request._hostmeter_provider = provider
        return provider

    def usage_context(self) -> dict:
        provider = self.usage_provider()
        status = usage_status(provider=provider)
        self.latest = status.latest
        return {"tab": self.tab, "status": status, "provider": provider}


class PeriodPageMixin(UsagePageMixin):
    """A usage page (or one of its htmx parts and forms) that shows one billing period's
    figures: ?period=YYYY-MM (a closed period, or the current one to date), or without
    it the latest update. A period that is not one answers 404 with the reason. Once
    the update is known, self.scope is the login's as that update froze the tree.

    self.update is the update shown; usage_context adds the periods to choose from
    (period_choices), the key the page was asked for (period_key: "" for none, so that
    links add nothing) and the shown period to the status line."""

    update: UsageUpdate | None = None

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except UnknownPeriod as exc:
            context = UsagePageMixin.usage_context(self) | {
                "message": str(exc),
                "latest_url": self.latest_url(),
            }
            return render(request, "metering/unknown_period.html", context, status=404)

    def latest_url(self) -> str:
        """The page without a period: the latest figures (an htmx part: its page's)."""
        if self.request.htmx and self.request.htmx.current_url_abs_path:
            return urlsplit(self.request.htmx.current_url_abs_path).path
        return self.request.path

    def period_key(self) -> str:
        data = self.request.POST if self.request.method == "POST" else self.request.GET
        return data.get("period", "").replace("\x00", "").strip()[:40]

    def period_shown(self, periods: list[UsagePeriod] | None = None) -> UsagePeriod | None:
        """The period asked for (UnknownPeriod if none such); None before any update."""
        zone = self.usage_provider().zone
        return usage_period_named(key=self.period_key(), zone=zone, periods=periods)

    def period_update(self) -> UsageUpdate | None:
        """The update shown, for the parts of a page that need nothing else; self.scope
        becomes the login's as that update froze the tree (metering.scope)."""
        update = usage_update_of_period(key=self.period_key(), zone=self.usage_provider().zone)
        self.scope = scope_at(self.scope, update)
        return update

    def usage_context(self) -> dict:
        context = super().usage_context()
        periods = usage_periods(zone=context["provider"].zone, latest=self.latest)
        shown = self.period_shown(periods)
        self.update = shown.update if shown else self.latest
        self.scope = scope_at(self.scope, self.update)
        context["status"] = replace(context["status"], shown=shown)
        return context | {
            "update": self.update,
            "period_choices": periods,
            "period_key": shown.key if shown and self.period_key() else "",
            "latest_url": self.latest_url(),
        }


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
            return redirect("metering:usage-schedule")
        return self._render(form, provider, status=400)

    def _render(self, form, provider, status=200):
        context = self.usage_context() | {"form": form, "next_runs": form.next_runs()}
        return render(self.request, "metering/usage_schedule.html", context, status=status)


class UpdateRunView(LevelRequiredMixin, View):
    """Systems: queue a usage update now (refused while one is queued or running)."""

    required_action = Action.MANAGE_SCHEDULE

    def post(self, request):
        try:
            update = usage_update_start(user=request.user)
        except UsageUpdateError as exc:  # already queued or running, or a clock problem
            messages.error(request, str(exc))
            return redirect("usage:summary")
        messages.success(
            request,
            f"Usage update as of {timezone.localtime(update.cutoff):%d %b %Y %H:%M} queued. "
            "It runs in the background; this page shows its progress.",
        )
        return redirect("usage:summary")


class UpdateStatusView(PeriodPageMixin, View):
    """htmx: the status line, polled while an update is queued or running."""

    reseller_scoped = True  # the update's status and cut-off: nobody's usage

    def get(self, request):
        context = self.usage_context()
        response = render(request, "metering/_status_line.html", context)
        if request.GET.get("was") == "pending" and context["status"].pending is None:
            response["HX-Refresh"] = "true"  # the update finished: show its figures
        return response
