"""Login levels: the groups exist, DESIGN.md's table holds, the admin follows it."""

import pytest
from django.contrib.auth.models import Group

from hostmeter.accounts.levels import ALLOWED, Action, LoginLevel, user_can, user_login_level
from hostmeter.accounts.services import user_save

pytestmark = pytest.mark.django_db

TABLE = {
    # action: (systems, operations, marketing, support, billing)
    Action.VIEW_USAGE: (True, True, True, False, False),
    Action.GENERATE_REPORTS: (True, True, True, False, False),
    Action.MANAGE_SCHEDULE: (True, False, False, False, False),
    Action.MANAGE_STAFF: (True, False, False, False, False),
    Action.MANAGE_TENANCY: (True, True, False, False, False),
    Action.USE_ADMIN: (True, True, False, False, False),
    Action.INGEST_USAGE: (True, True, False, False, False),
}
LEVELS = [
    LoginLevel.SYSTEMS,
    LoginLevel.OPERATIONS,
    LoginLevel.MARKETING,
    LoginLevel.SUPPORT,
    LoginLevel.BILLING,
]


def test_a_group_per_level_is_created_by_migration():
    assert set(Group.objects.values_list("name", flat=True)) >= set(LoginLevel.labels)


@pytest.mark.parametrize("action", list(TABLE))
def test_design_table(action):
    for level, allowed in zip(LEVELS, TABLE[action], strict=True):
        user = user_save(username=f"u-{level}", password="x-long-password", login_level=level)
        assert user_can(user, action) is allowed, (action, level)


def test_every_action_is_decided():
    assert set(ALLOWED) == set(Action)


def test_anonymous_inactive_and_levelless_users_may_do_nothing(django_user_model):
    from django.contrib.auth.models import AnonymousUser

    inactive = user_save(username="gone", password="x-long-password", login_level="systems")
    inactive.is_active = False
    nobody = django_user_model.objects.create_user("nobody", password="x-long-password")
    for user in (AnonymousUser(), inactive, nobody):
        assert user_login_level(user) is None
        assert not any(user_can(user, a) for a in Action)


def test_superuser_without_level_counts_as_systems(django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x-long-password")
    assert user_login_level(root) == LoginLevel.SYSTEMS


def test_unknown_level_is_refused():
    with pytest.raises(ValueError):
        user_save(username="x", password="x-long-password", login_level="admin")


@pytest.mark.parametrize(
    "level, status",
    [("systems", 200), ("operations", 200), ("marketing", 302), ("support", 302), ("billing", 302)],
)
def test_admin_site_is_for_systems_and_operations(client, level, status):
    user = user_save(username=level, password="x-long-password", login_level=level)
    client.force_login(user)
    assert client.get("/admin/").status_code == status


def test_admin_sign_in_refuses_other_levels(client):
    user_save(username="m", password="x-long-password", login_level="marketing")
    response = client.post("/admin/login/", {"username": "m", "password": "x-long-password"})
    assert response.status_code == 200
    assert "may not use the administration site" in response.content.decode()


@pytest.mark.parametrize("level", ["systems", "operations"])
def test_resellers_editable_by_systems_and_operations(client, level):
    client.force_login(user_save(username=level, password="x-long-password", login_level=level))
    assert client.get("/admin/tenancy/reseller/add/").status_code == 200
    assert client.get("/admin/tenancy/organization/add/").status_code == 200


def test_operations_cannot_manage_staff_or_schedule(client):
    client.force_login(
        user_save(username="o", password="x-long-password", login_level="operations")
    )
    assert client.get("/admin/accounts/user/").status_code == 403
    assert client.get("/admin/tenancy/provider/1/change/").status_code == 200  # to look at
    response = client.post("/admin/tenancy/provider/1/change/", {"name": "x"})
    assert response.status_code == 403


def test_systems_manages_staff(client):
    client.force_login(user_save(username="s", password="x-long-password", login_level="systems"))
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get("/admin/tenancy/provider/1/change/").status_code == 200


def _admin_lists(client, level):
    from django.contrib import admin

    client.force_login(user_save(username=level, password="x-long-password", login_level=level))
    return {
        model._meta.label: client.get(f"/admin/{model._meta.app_label}/{model._meta.model_name}/")
        for model in admin.site._registry
    }


def test_every_admin_list_follows_the_levels(client):
    from django.contrib import admin

    labels = {model._meta.label for model in admin.site._registry}
    assert "auth.Group" not in labels, "groups grant nothing: nothing to edit there"
    assert {"accounts.User", "django_tasks_database.DBTaskResult"} <= labels
    systems = {label: r.status_code for label, r in _admin_lists(client, "systems").items()}
    assert systems == dict.fromkeys(labels, 200)
    operations = {label: r.status_code for label, r in _admin_lists(client, "operations").items()}
    # staff and their failed sign-ins are Systems' (MANAGE_STAFF)
    staff_only = {"accounts.User", "axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"}
    assert operations == dict.fromkeys(labels, 200) | dict.fromkeys(staff_only, 403)
    client.logout()
    marketing = {label: r.status_code for label, r in _admin_lists(client, "marketing").items()}
    assert marketing == dict.fromkeys(labels, 302)  # to the admin's sign-in


def test_django_permissions_grant_nothing(client):
    from django.contrib.auth.models import Group, Permission

    everything = Permission.objects.all()
    assert everything.exists()
    for level in ("operations", "support"):
        user = user_save(username=level, password="x-long-password", login_level=level)
        group = Group.objects.create(name=f"all of it ({level})")
        group.permissions.set(everything)
        user.groups.add(group)
        user.user_permissions.set(everything)
        assert not user.has_perm("tenancy.change_provider")
    assert not Group.objects.get(name="Operations").permissions.exists()

    client.force_login(user_save(username="support", password=None, login_level="support"))
    assert client.get("/admin/").status_code == 302
    client.force_login(user_save(username="operations", password=None, login_level="operations"))
    assert client.get("/admin/accounts/user/").status_code == 403
    assert client.post("/admin/tenancy/provider/1/change/", {"name": "x"}).status_code == 403
    assert client.get("/admin/metering/usagesample/add/").status_code == 403


def test_an_admin_that_asks_django_permissions_fails_the_checks():
    from django.contrib import admin
    from django.contrib.auth.models import Group

    from hostmeter.admin_site import HostmeterAdminSite

    assert not [e for e in admin.site.check(None) if e.id == "hostmeter.E001"]
    site = HostmeterAdminSite(name="another")
    site.register(Group, admin.ModelAdmin)
    assert [e.id for e in site.check(None)] == ["hostmeter.E001"]
