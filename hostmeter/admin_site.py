"""The Django admin, open to the login levels that may manage data."""

from django.contrib import admin
from django.contrib.auth.forms import AuthenticationForm
from django.core import checks
from django.core.exceptions import ValidationError

from hostmeter.accounts.access import LevelAdminMixin
from hostmeter.accounts.levels import Action, user_can


def _may_use_admin(user) -> bool:
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

    def check(self, app_configs):
        """Django's checks, and every admin (inlines too) deciding through the levels:
        one that asked Django's model permissions would answer from a second table."""
        errors = super().check(app_configs)
        for model, model_admin in self._registry.items():
            if app_configs is not None and model._meta.app_config not in app_configs:
                continue
            for admin_class in [type(model_admin), *model_admin.inlines]:
                if not issubclass(admin_class, LevelAdminMixin):
                    errors.append(
                        checks.Error(
                            f"{admin_class.__qualname__} ({model._meta.label}) does not take "
                            "its permissions from the login levels.",
                            hint="Derive it from hostmeter.accounts.access.LevelAdminMixin "
                            "and name the actions it needs.",
                            obj=admin_class,
                            id="hostmeter.E001",
                        )
                    )
        return errors
