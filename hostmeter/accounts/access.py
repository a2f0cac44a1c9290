"""The view side of login levels: every page and action checks one Action here."""

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import ValidationError
from django.shortcuts import render

from hostmeter.admin_lists import CheckedChangeList

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


class LevelAdminMixin:
    """The admin side, for ModelAdmins and inlines: each names the Action that lets a login
    look at its rows and the ones that let it add, change and delete them (None: nobody);
    levels.ALLOWED decides, as for the pages and the API. Django's model permissions
    (groups, per-login grants) play no part (backends.LoginLevelBackend grants none)."""

    view_action: str = Action.USE_ADMIN
    add_action: str | None = None
    change_action: str | None = None
    delete_action: str | None = None

    @staticmethod
    def _may(request, action: str | None) -> bool:
        return action is not None and user_can(request.user, action)

    def has_module_permission(self, request):
        return self._may(request, self.view_action)

    def has_view_permission(self, request, obj=None):
        return self._may(request, self.view_action) or self.has_change_permission(request, obj)

    def has_add_permission(self, request, *args):  # ModelAdmin (request), inline (request, obj)
        return self._may(request, self.add_action)

    def has_change_permission(self, request, obj=None):
        return self._may(request, self.change_action)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, self.delete_action)

    # Not a matter of levels, but every admin has this mixin (the site's check sees to
    # that), so every change list gets the checked one here.
    def get_changelist(self, request, **kwargs):
        return CheckedChangeList

    def get_changelist_instance(self, request):
        """Django sends a list whose filters cannot be used back to itself without them
        (``?e=1``) and says nothing; this says why."""
        try:
            return super().get_changelist_instance(request)
        except IncorrectLookupParameters as exc:
            cause = exc.args[0] if exc.args else exc
            reason = "; ".join(cause.messages) if isinstance(cause, ValidationError) else cause
            messages.error(
                request, f"The filter in the address cannot be used ({reason}): the whole list."
            )
            raise
