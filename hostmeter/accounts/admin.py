"""Staff logins in the admin: Systems manages them."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .levels import Action, user_can
from .models import User


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "login_level", "is_active"]
    list_filter = ["login_level", "is_active"]
    fieldsets = (
        (None, {"fields": ("username", "password", "login_level")}),
        ("Person", {"fields": ("first_name", "last_name", "email")}),
        ("Status", {"fields": ("is_active", "is_superuser", "last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"fields": ("username", "login_level", "password1", "password2")}),)
    readonly_fields = ["last_login", "date_joined"]

    def _may_manage(self, request) -> bool:
        return user_can(request.user, Action.MANAGE_STAFF)

    def has_add_permission(self, request):
        return self._may_manage(request)

    def has_change_permission(self, request, obj=None):
        return self._may_manage(request)

    def has_delete_permission(self, request, obj=None):
        return self._may_manage(request)

    def has_view_permission(self, request, obj=None):
        return self._may_manage(request)

    def has_module_permission(self, request):
        return self._may_manage(request)
