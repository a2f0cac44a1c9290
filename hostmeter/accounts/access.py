"""The view side of login levels: every page and action checks one Action here."""

from django.contrib.auth.mixins import AccessMixin
from django.shortcuts import render

from .levels import ALLOWED, Action, LoginLevel, user_can, user_login_level


def render_not_allowed(request, action: str):
    """The clear "not allowed" page, with HTTP 403 and no data."""
    level = user_login_level(request.user)
    return render(
        request,
        "403.html",
        {
            "level_label": LoginLevel(level).label if level else "no login level",
            "action_label": Action(action).label.lower(),
            "allowed_levels": [lvl.label for lvl in LoginLevel if lvl in ALLOWED[action]],
        },
        status=403,
    )


class LevelRequiredMixin(AccessMixin):
    """Anonymous users are sent to sign in (and come back); others need the action."""

    required_action: str = Action.VIEW_USAGE

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not user_can(request.user, self.required_action):
            return render_not_allowed(request, self.required_action)
        return super().dispatch(request, *args, **kwargs)
