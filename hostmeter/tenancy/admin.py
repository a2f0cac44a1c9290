"""The customer base in the admin; Systems and Operations edit it, through the services."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from hostmeter.accounts.access import LevelAdminMixin
from hostmeter.accounts.levels import Action

from .models import (
    Organization,
    Provider,
    Reseller,
    ResellerLogin,
    Resource,
    ResourceLimit,
    Service,
)
from .names import name_key
from .services import reseller_links_rebuild, reseller_login_save, reseller_login_validate


class TenancyEditMixin(LevelAdminMixin):
    """Editing is for the levels that manage tenancy; the others let in only look."""

    add_action = change_action = delete_action = Action.MANAGE_TENANCY


class LimitInline(admin.TabularInline):
    model = ResourceLimit
    extra = 0
    fields = ["resource", "limit"]
    autocomplete_fields = ["resource"]


class ResellerLimitInline(TenancyEditMixin, LimitInline):
    fk_name = "reseller"
    exclude = ["organization"]


class OrganizationLimitInline(TenancyEditMixin, LimitInline):
    fk_name = "organization"
    exclude = ["reseller"]


class FoldedNameSearchMixin:
    """Searches (the list's and autocomplete's) match the name's folded key, as the
    Usage pages do: "cafe" finds "Café". Domains are plain lower-case ASCII, which the
    folding leaves as they are."""

    search_fields = ["name_key", "domain"]

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, name_key(search_term))


@admin.register(Reseller)
class ResellerAdmin(FoldedNameSearchMixin, TenancyEditMixin, admin.ModelAdmin):
    list_display = ["name", "domain", "parent", "is_suspended", "created_at"]
    list_filter = ["is_suspended", "services"]
    autocomplete_fields = ["parent"]
    filter_horizontal = ["services"]
    inlines = [ResellerLimitInline]
    list_select_related = ["parent"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "parent" in form.changed_data or not change:
            reseller_links_rebuild()  # Reseller.clean() already refused cycles

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        reseller_links_rebuild()


@admin.register(Organization)
class OrganizationAdmin(FoldedNameSearchMixin, TenancyEditMixin, admin.ModelAdmin):
    list_display = ["name", "domain", "reseller", "is_suspended", "created_at"]
    list_filter = ["is_suspended", "services"]
    autocomplete_fields = ["reseller"]
    filter_horizontal = ["services"]
    inlines = [OrganizationLimitInline]
    list_select_related = ["reseller"]


@admin.register(ResourceLimit)
class ResourceLimitAdmin(TenancyEditMixin, admin.ModelAdmin):
    list_display = ["resource", "reseller", "organization", "limit"]
    list_filter = ["resource"]
    search_fields = ["reseller__domain", "organization__domain", "resource__code"]
    autocomplete_fields = ["resource", "reseller", "organization"]
    list_select_related = ["resource", "reseller", "organization"]


class SystemsOnlyMixin(LevelAdminMixin):
    """The provider's own settings and catalog: Systems changes them (nobody adds or
    deletes here); the others let in only look."""

    change_action = Action.MANAGE_SCHEDULE


@admin.register(Provider)
class ProviderAdmin(SystemsOnlyMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "time_zone",
        "usage_schedule",
        "billing_anchor_day",
        "csv_delimiter",
        "csv_bom",
    ]


@admin.register(Service)
class ServiceAdmin(SystemsOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "code", "position"]
    search_fields = ["name", "code"]
    readonly_fields = ["code"]


@admin.register(Resource)
class ResourceAdmin(SystemsOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "code", "service", "unit", "kind", "threshold_percent"]
    list_filter = ["service", "kind"]
    search_fields = ["name", "code"]
    add_action = Action.MANAGE_SCHEDULE  # the provider can add resources later


class ResellerLoginForm(forms.ModelForm):
    """A reseller's login: its username and password are set here, through the service
    (login level Reseller, password validators), not on the staff logins page."""

    username = forms.CharField(max_length=150)
    password = forms.CharField(
        widget=forms.PasswordInput,
        required=False,
        strip=False,
        help_text="Needed for a new login; leave empty to keep the current password.",
    )
    email = forms.EmailField(required=False)

    class Meta:
        model = ResellerLogin
        fields = ["reseller"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["username"].initial = self.instance.user.username
            self.fields["username"].disabled = True
            self.fields["email"].initial = self.instance.user.email

    def clean(self):
        data = super().clean()
        if "username" in data:
            try:
                reseller_login_validate(username=data["username"], password=data.get("password"))
            except ValidationError as exc:
                self.add_error(None, exc)
        return data


@admin.register(ResellerLogin)
class ResellerLoginAdmin(TenancyEditMixin, admin.ModelAdmin):
    form = ResellerLoginForm
    list_display = ["user", "reseller", "is_active", "last_login"]
    search_fields = ["user__username", "reseller__domain"]
    autocomplete_fields = ["reseller"]
    list_select_related = ["user", "reseller"]
    fields = ["username", "password", "email", "reseller"]

    @admin.display(boolean=True, description="active")
    def is_active(self, obj):
        return obj.user.is_active

    @admin.display(description="last sign-in")
    def last_login(self, obj):
        return obj.user.last_login

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = reseller_login_save(
            username=data["username"],
            reseller=data["reseller"],
            password=data.get("password") or None,
            email=data.get("email") or "",
        )
        obj.pk, obj.user = saved.pk, saved.user
