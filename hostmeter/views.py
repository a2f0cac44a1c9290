"""Project-level pages: home, which sends a login to what its level may see."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.views.generic import TemplateView

from hostmeter.accounts.levels import Action, user_can


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "home.html"

    def get(self, request, *args, **kwargs):
        if user_can(request.user, Action.VIEW_USAGE, scoped=True):  # the summary is
            return redirect("usage:summary")
        return super().get(request, *args, **kwargs)
