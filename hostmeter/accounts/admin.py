"""Staff logins in the admin: Systems manages them."""

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group

from .access import LevelAdminMixin
from .levels import Action, LoginLevel
from .models import User

# What a login may do is its level's (levels.py); groups grant nothing, so there is
# nothing to edit in them (the level groups of migration 0002 stay, unused).
admin.site.unregister(Group)


@admin.register(User)
class StaffUserAdmin(LevelAdminMixin, UserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "login_level", "is_active"]
    list_filter = ["login_level", "is_active"]
    fieldsets = (
        (None, {"fields": ("username", "password", "login_level")}),
        ("Person", {"fields": ("first_name", "last_name", "email")}),
        ("Status", {"fields": ("is_active", "is_superuser", "last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"fields": ("username", "login_level", "password1", "password2")}),)
    readonly_fields = ["last_login", "date_joined"]

    view_action = add_action = change_action = delete_action = Action.MANAGE_STAFF

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        field = super().formfield_for_choice_field(db_field, request, **kwargs)
        if db_field.name == "login_level":
            # a reseller's login belongs to its reseller: Tenancy → Reseller logins
            field.choices = [c for c in field.choices if c[0] != LoginLevel.RESELLER]
        return field


# Failed sign-ins (django-axes): Systems may look, and unlock a login by deleting its
# attempts; the logs are read-only.
@admin.register(AccessAttempt)
class AccessAttemptLevelAdmin(LevelAdminMixin, AccessAttemptAdmin):
    view_action = Action.MANAGE_STAFF
    delete_action = Action.MANAGE_STAFF


@admin.register(AccessLog)
class AccessLogLevelAdmin(LevelAdminMixin, AccessLogAdmin):
    view_action = Action.MANAGE_STAFF


@admin.register(AccessFailureLog)
class AccessFailureLogLevelAdmin(LevelAdminMixin, AccessFailureLogAdmin):
    view_action = Action.MANAGE_STAFF
