"""Reseller logins: made by Systems and Operations (service, admin), never out of a staff
login; a reseller login signs in through the form and lands on its own summary; one of
no reseller is refused."""

from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hostmeter.accounts.levels import Action, LoginLevel, user_can
from hostmeter.accounts.models import User
from hostmeter.accounts.services import user_save
from hostmeter.tenancy.models import ResellerLogin
from hostmeter.tenancy.scope import WHOLE, Scope, login_scope
from hostmeter.tenancy.services import reseller_login_save
from hostmeter.tests.factories import ResellerFactory
from hostmeter.tests.fixtures import PASSWORD, run_command, write_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    return ResellerFactory(name="Acme Hosting", domain="acme.example")


def test_a_reseller_login_is_made_with_its_reseller(acme):
    login = reseller_login_save(username="acme-admin", reseller=acme, password=PASSWORD)
    assert login.user.login_level == LoginLevel.RESELLER
    assert login.user.check_password(PASSWORD)
    assert login_scope(login.user) == Scope(acme.pk)
    # given to another reseller: the same login, its password kept
    other = ResellerFactory(domain="other.example")
    again = reseller_login_save(username="acme-admin", reseller=other)
    assert again.pk == login.pk and again.reseller == other
    assert User.objects.get(username="acme-admin").check_password(PASSWORD)


def test_a_staff_login_is_never_made_a_resellers(acme):
    staff = user_save(username="ops", password=PASSWORD, login_level=LoginLevel.OPERATIONS)
    with pytest.raises(ValidationError) as refused:
        reseller_login_save(username="ops", reseller=acme, password="another-long-password")
    assert "staff login" in str(refused.value)
    staff.refresh_from_db()
    assert staff.login_level == LoginLevel.OPERATIONS and not ResellerLogin.objects.exists()


@pytest.mark.parametrize(
    ("password", "message"),
    [(None, "needs a password"), ("12345678901", "entirely numeric"), ("acme-admin1", "similar")],
)
def test_a_new_login_needs_a_password_the_validators_accept(acme, password, message):
    with pytest.raises(ValidationError) as refused:
        reseller_login_save(username="acme-admin", reseller=acme, password=password)
    assert message in str(refused.value)
    assert not User.objects.filter(username="acme-admin").exists()


def test_levels_a_reseller_login_has_only_where_scoped(acme):
    user = reseller_login_save(username="acme-admin", reseller=acme, password=PASSWORD).user
    for action in (Action.VIEW_USAGE, Action.GENERATE_REPORTS):
        assert user_can(user, action, scoped=True)
        assert not user_can(user, action)
    for action in (Action.MANAGE_SCHEDULE, Action.MANAGE_TENANCY, Action.USE_ADMIN):
        assert not user_can(user, action, scoped=True)
    staff = user_save(username="mk", password=PASSWORD, login_level=LoginLevel.MARKETING)
    assert login_scope(staff) is WHOLE


def test_a_reseller_login_signs_in_and_sees_its_summary(acme):
    reseller_login_save(username="acme-admin", reseller=acme, password=PASSWORD)
    client = Client()
    response = client.post("/login/", {"username": "acme-admin", "password": PASSWORD})
    assert response.status_code == 302
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == "/reports/usage/"
    page = response.content.decode()
    assert "Acme Hosting: your sub-resellers and your organizations" in page
    for refused in ("/reports/usage/schedule/", "/reports/usage/audit/"):
        assert client.get(refused).status_code == 403, refused
    ingest = client.post("/api/v1/usage-samples/", [], content_type="application/json")
    assert ingest.status_code == 403
    assert client.get("/admin/").status_code == 302  # the admin's own sign-in


def test_a_reseller_login_of_no_reseller_is_refused(acme):
    user = user_save(username="lost", password=PASSWORD, login_level=LoginLevel.RESELLER)
    client = Client()
    client.force_login(user)
    response = client.get("/reports/usage/organizations/")
    assert response.status_code == 403
    assert "belongs to no reseller" in response.content.decode()
    # a page closed to every reseller login says so, without looking up the reseller
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/reports/usage/schedule/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "this page is not one of those" in page and "belongs to no reseller" not in page
    assert not [q for q in queries if "tenancy_resellerlogin" in q["sql"]]


@pytest.mark.parametrize("level", ["systems", "operations"])
def test_systems_and_operations_make_reseller_logins_in_the_admin(acme, level):
    staff = user_save(username=f"{level}-user", password=PASSWORD, login_level=level)
    client = Client()
    client.force_login(staff)
    url = "/admin/tenancy/resellerlogin/add/"
    data = {"username": "acme-admin", "password": PASSWORD, "reseller": acme.pk}
    assert client.post(url, data).status_code == 302
    login = ResellerLogin.objects.get(user__username="acme-admin")
    assert login.reseller == acme and login.user.login_level == LoginLevel.RESELLER
    # a staff login's username is refused with the reason, and the staff login stays
    response = client.post(url, data | {"username": staff.username})
    assert response.status_code == 200 and "staff login" in response.content.decode()
    staff.refresh_from_db()
    assert staff.login_level == level


def test_marketing_may_not_make_reseller_logins(acme):
    staff = user_save(username="mk", password=PASSWORD, login_level=LoginLevel.MARKETING)
    client = Client()
    client.force_login(staff)
    data = {"username": "acme-admin", "password": PASSWORD, "reseller": acme.pk}
    client.post("/admin/tenancy/resellerlogin/add/", data)
    assert not ResellerLogin.objects.exists()


def test_the_staff_logins_page_offers_no_reseller_level():
    systems = user_save(username="sys", password=PASSWORD, login_level=LoginLevel.SYSTEMS)
    client = Client()
    client.force_login(systems)
    page = client.get("/admin/accounts/user/add/").content.decode()
    assert 'value="systems"' in page and 'value="reseller"' not in page


# ---------------------------------------------------------------- import_tenancy


def test_import_tenancy_makes_and_moves_reseller_logins(acme, tmp_path):
    run = partial(run_command, "import_tenancy")
    beta = ResellerFactory(name="Beta Web", domain="beta.example")
    user_save(username="ops", password=PASSWORD, login_level=LoginLevel.OPERATIONS)
    path = write_file(
        tmp_path,
        "logins.csv",
        "username,reseller_domain,password,email\n"
        f"acme-admin,ACME.example,{PASSWORD},admin@acme.example\n"
        f"beta-admin,beta.example,{PASSWORD},\n"
        "ops,beta.example,another-long-password,\n"  # a staff login: refused
        "nobody,beta.example,,\n"  # new without a password
        f"lost,nowhere.example,{PASSWORD},\n"
        "12345678,beta.example,12345678901,\n",  # numeric password
    )
    done = run("reseller-logins", path)
    assert done.code == 1
    assert "2 created" in done.out and "4 bad rows" in done.out
    reasons = "\n".join(done.err)
    assert ":4: username: “ops” is a staff login" in reasons
    assert ":5: password: A new login needs a password." in reasons
    assert ":6: reseller_domain: no reseller with the domain “nowhere.example”" in reasons
    assert ":7: password:" in reasons and "entirely numeric" in reasons
    logins = {lg.user.username: lg.reseller for lg in ResellerLogin.objects.select_related("user")}
    assert logins == {"acme-admin": acme, "beta-admin": beta}
    assert User.objects.get(username="ops").login_level == LoginLevel.OPERATIONS

    # again: unchanged; then acme-admin moves to Beta, keeping its password
    again = run(
        "reseller-logins",
        write_file(
            tmp_path,
            "same.csv",
            "username,reseller_domain,password,email\nacme-admin,acme.example,,admin@acme.example\n",
        ),
    )
    assert again.code == 0 and "1 unchanged" in again.out
    moved = run(
        "reseller-logins",
        write_file(
            tmp_path,
            "move.csv",
            "username,reseller_domain,password,email\nacme-admin,beta.example,,admin@acme.example\n",
        ),
    )
    assert moved.code == 0 and "1 updated" in moved.out
    login = ResellerLogin.objects.get(user__username="acme-admin")
    assert login.reseller == beta and login.user.check_password(PASSWORD)
