"""The Django admin, open to the login levels that may manage data."""

from django.contrib import admin
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError


def _may_use_admin(user) -> bool:
    from hostmeter.accounts.levels import Action, user_can

    return user_can(user, Action.USE_ADMIN)


class LevelAdminAuthenticationForm(AuthenticationForm):
    """Admin sign-in decided by login level rather than Django's is_staff flag."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not _may_use_admin(user):
            raise ValidationError(
                "Your login level may not use the administration site.", code="invalid_login"
            )


class HostmeterAdminSite(admin.AdminSite):
    site_header = "hostmeter administration"
    site_title = "hostmeter"
    index_title = "Data and staff"
    login_form = LevelAdminAuthenticationForm

    def has_permission(self, request):
        return request.user.is_active and _may_use_admin(request.user)
