"""The view side of login levels: every page and action checks one Action here."""

from django.contrib.auth.mixins import AccessMixin
from django.shortcuts import render

from hostmeter.admin_input import AdminInputMixin

from .levels import ALLOWED, Action, LoginLevel, user_can, user_login_level


def render_not_allowed(request, action: str):
    """The clear "not allowed" page, with HTTP 403 and no data."""
    level = user_login_level(request.user)
    reseller = level == LoginLevel.RESELLER
    return render(
        request,
        "403.html",
        {
            "level_label": LoginLevel(level).label if level else "no login level",
            "action_label": Action(action).label.lower(),
            # a reseller login is refused a page that is not scoped to its customers
            "reseller": reseller,
            "allowed_levels": [
                lvl.label
                for lvl in LoginLevel
                if lvl in ALLOWED[action] and not (reseller and lvl == LoginLevel.RESELLER)
            ],
        },
        status=403,
    )


class LevelRequiredMixin(AccessMixin):
    """Anonymous users are sent to sign in (and come back); others need the action.

    reseller_scoped: the view shows a reseller login only its own subtree
    (tenancy.scope.ScopeMixin), so such a login may open it; any other view is closed
    to reseller logins."""

    required_action: str = Action.VIEW_USAGE
    reseller_scoped: bool = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not user_can(request.user, self.required_action, scoped=self.reseller_scoped):
            return render_not_allowed(request, self.required_action)
        refused = self.admit(request)
        if refused is not None:
            return refused
        return super().dispatch(request, *args, **kwargs)

    def admit(self, request):
        """After the level check: a response that refuses the request, or None. A mixin
        that needs the login's level to be known first (ScopeMixin) hooks in here."""
        return None


class LevelAdminMixin(AdminInputMixin):
    """The admin side, for ModelAdmins and inlines: each names the Action that lets a login
    look at its rows and the ones that let it add, change and delete them (None: nobody);
    levels.ALLOWED decides, as for the pages and the API. Django's model permissions
    (groups, per-login grants) play no part (backends.LoginLevelBackend grants none).

    Not a matter of levels, but every admin has this mixin (the site's check sees to
    that), so every admin gets AdminInputMixin's checks of the address through it."""

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
