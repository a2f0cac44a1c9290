"""The usage status line every Usage tab shows, the usage schedule page and update now."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import View

from hostmeter.accounts.access import LevelRequiredMixin
from hostmeter.accounts.levels import Action
from hostmeter.tenancy.models import Provider

from .forms import UsageScheduleForm
from .selectors.figures import usage_status
from .services.updates import UsageUpdateError, usage_update_start


class UsagePageMixin(LevelRequiredMixin):
    """Every usage tab: the provider, the status line and which tab is current."""

    tab = ""

    def usage_context(self) -> dict:
        provider = getattr(self.request, "_hostmeter_provider", None) or Provider.get()
        self.request._hostmeter_provider = provider
        status = usage_status(provider=provider)
        self.latest = status.latest
        return {"tab": self.tab, "status": status, "provider": provider}


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


class UpdateStatusView(UsagePageMixin, View):
    """htmx: the status line, polled while an update is queued or running."""

    def get(self, request):
        context = self.usage_context()
        response = render(request, "metering/_status_line.html", context)
        if request.GET.get("was") == "pending" and context["status"].pending is None:
            response["HX-Refresh"] = "true"  # the update finished: show its figures
        return response
