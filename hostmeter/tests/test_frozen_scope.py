"""A reseller login sees its subtree as each usage update froze it (metering.scope): a
sub-reseller or organization moved to another reseller after an update stays the old
one's for that update's pages, figures, endpoints and reports, and is the new one's from
the next update on; one the update did not freeze is placed where it is now.

The `world` fixture (hostmeter/tests/fixtures.py): Acme Hosting ⊃ Beta Web ⊃ Gamma Net,
Omega Cloud apart; Zeta Shop and Theta Mail (Acme's), Eta Blog (Beta's), Omega Site
(Omega's), Direct Site (the provider's); one update as of t0."""

from datetime import timedelta

import pytest
from django.test import Client

from hostmeter.metering.scope import FrozenScope, scope_at
from hostmeter.metering.selectors import usage_history
from hostmeter.reports.models import Report
from hostmeter.reports.selectors import reports_seen
from hostmeter.reports.services import report_request
from hostmeter.tenancy.models import Organization, Reseller
from hostmeter.tenancy.scope import Scope
from hostmeter.tenancy.services import organization_save, reseller_login_save, reseller_save
from hostmeter.tests.factories import OrganizationFactory
from hostmeter.tests.fixtures import PASSWORD, run_update

pytestmark = pytest.mark.django_db


def signed_in(reseller) -> Client:
    login = reseller_login_save(
        username=f"{reseller.domain.split('.')[0]}-login", reseller=reseller, password=PASSWORD
    )
    client = Client()
    client.force_login(login.user)
    return client


def status(client: Client, url: str) -> int:
    return client.get(url).status_code


def move_beta_to_omega(world):
    reseller_save(reseller=world.beta, name="Beta Web", domain="beta.example", parent=world.omega)


def seen_ids(scope: Scope, model) -> set[int]:
    return set(scope.holders(model).values_list("pk", flat=True))


def test_a_moved_sub_reseller_stays_its_old_resellers_until_the_next_update(world, t0):
    acme, omega = signed_in(world.acme), signed_in(world.omega)
    move_beta_to_omega(world)
    beta_page = f"/reports/usage/resellers/{world.beta.pk}/"
    gamma_page = f"/reports/usage/resellers/{world.gamma.pk}/"
    eta_page = f"/reports/usage/organizations/{world.eta.pk}/"
    api = "/api/v1/usage-updates/latest/resellers/beta.example/"
    # the latest update froze Beta (with Gamma and Eta Blog) below Acme
    for url in (beta_page, gamma_page, eta_page, api):
        assert status(acme, url) == 200, url
        assert status(omega, url) == 404, url
    listed = acme.get("/reports/usage/resellers/").content.decode()
    assert "Beta Web" in listed and "Gamma Net" in listed
    assert "Beta Web" not in omega.get("/reports/usage/resellers/").content.decode()
    assert "Eta Blog" in acme.get("/reports/usage/organizations/").content.decode()

    run_update(t0 + timedelta(days=1))
    for url in (beta_page, gamma_page, eta_page, api):
        assert status(acme, url) == 404, url
        assert status(omega, url) == 200, url
    assert "Beta Web" not in acme.get("/reports/usage/resellers/").content.decode()
    assert "Eta Blog" in omega.get("/reports/usage/organizations/").content.decode()


def test_a_moved_organization_stays_its_old_resellers_until_the_next_update(world, t0):
    organization_save(
        organization=world.eta, name="Eta Blog", domain="eta.example", reseller=world.omega
    )
    acme, omega = signed_in(world.acme), signed_in(world.omega)
    eta_page = f"/reports/usage/organizations/{world.eta.pk}/"
    api = "/api/v1/usage-updates/latest/organizations/eta.example/"
    for url in (eta_page, api):
        assert status(acme, url) == 200, url
        assert status(omega, url) == 404, url
    billing = acme.get("/api/v1/usage-updates/latest/organizations/").json()
    assert "eta.example" in [row["organization"] for row in billing["results"]]

    run_update(t0 + timedelta(days=1))
    for url in (eta_page, api):
        assert status(acme, url) == 404, url
        assert status(omega, url) == 200, url


def test_the_scope_at_an_update_against_the_tree_now(world, t0):
    """The rule itself, set against what each update froze (and what it did not)."""
    move_beta_to_omega(world)
    organization_save(
        organization=world.zeta, name="Zeta Shop", domain="zeta.example", reseller=world.omega
    )
    later = OrganizationFactory(name="Later Site", domain="later.example", reseller=world.beta)
    newcomer = reseller_save(name="New Sub", domain="new-sub.example", parent=world.omega)
    first = world.update
    acme_then, omega_then = (
        scope_at(Scope(world.acme.pk), first),
        scope_at(Scope(world.omega.pk), first),
    )
    assert isinstance(acme_then, FrozenScope)
    g = world
    assert seen_ids(acme_then, Reseller) == {g.acme.pk, g.beta.pk, g.gamma.pk}
    # Later Site was not frozen: it is where it is now, below Beta, which the update froze
    # below Acme; the new sub-reseller was not frozen either: Omega's, as now
    assert seen_ids(acme_then, Organization) == {g.zeta.pk, g.theta.pk, g.eta.pk, later.pk}
    assert seen_ids(omega_then, Reseller) == {g.omega.pk, newcomer.pk}
    assert seen_ids(omega_then, Organization) == {g.omega_site.pk}
    # as the tree stands now
    assert seen_ids(Scope(g.acme.pk), Reseller) == {g.acme.pk}
    assert seen_ids(Scope(g.acme.pk), Organization) == {g.theta.pk}

    second = run_update(t0 + timedelta(days=1))
    acme_now, omega_now = scope_at(Scope(g.acme.pk), second), scope_at(Scope(g.omega.pk), second)
    assert seen_ids(acme_now, Reseller) == {g.acme.pk}
    assert seen_ids(acme_now, Organization) == {g.theta.pk}
    assert seen_ids(omega_now, Reseller) == {g.omega.pk, g.beta.pk, g.gamma.pk, newcomer.pk}
    everyone_below_omega = {g.omega_site.pk, g.zeta.pk, g.eta.pk, later.pk}
    assert seen_ids(omega_now, Organization) == everyone_below_omega
    # and the first update still froze what it froze
    assert seen_ids(scope_at(Scope(g.acme.pk), first), Reseller) == {
        g.acme.pk,
        g.beta.pk,
        g.gamma.pk,
    }


def test_reports_follow_the_tree_their_update_froze(world, t0, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    move_beta_to_omega(world)
    organization_save(
        organization=world.zeta, name="Zeta Shop", domain="zeta.example", reseller=world.omega
    )
    second = run_update(t0 + timedelta(days=1))
    reports = {
        (subject.domain, update.pk): report_request(
            kind="reseller" if isinstance(subject, Reseller) else "organization",
            subject=subject,
            update=update,
        )[0]
        for subject in (world.beta, world.gamma, world.zeta, world.theta)
        for update in (world.update, second)
    }
    subtree, _ = report_request(kind="summary", update=world.update, subtree=world.beta)

    def seen(reseller) -> set[tuple[str, int]]:
        found = set(reports_seen(Scope(reseller.pk)).values_list("pk", flat=True))
        return {key for key, report in reports.items() if report.pk in found}

    first, then = world.update.pk, second.pk
    assert seen(world.acme) == {
        ("beta.example", first),
        ("gamma.example", first),
        ("zeta.example", first),
        ("theta.example", first),
        ("theta.example", then),
    }
    assert seen(world.omega) == {
        ("beta.example", then),
        ("gamma.example", then),
        ("zeta.example", then),
    }
    # Beta's own subtree file of the first update: Beta's and, then, Acme's
    assert reports_seen(Scope(world.acme.pk)).filter(pk=subtree.pk).exists()
    assert not reports_seen(Scope(world.omega.pk)).filter(pk=subtree.pk).exists()
    assert reports_seen(Scope(world.beta.pk)).filter(pk=subtree.pk).exists()
    # downloads: the same rule (a report not Ready answers 409, one not seen 404)
    acme = signed_in(world.acme)
    moved_then = reports[("beta.example", first)]
    moved_now = reports[("beta.example", then)]
    assert status(acme, f"/reports/usage/files/{moved_then.pk}/") == 409
    assert status(acme, f"/reports/usage/files/{moved_now.pk}/") == 404
    assert Report.objects.count() == len(reports) + 1


def test_a_move_restarts_reseller_since_and_nothing_else_does(world):
    eta = Organization.objects.get(pk=world.eta.pk)
    since = eta.reseller_since
    organization_save(
        organization=eta, name="Eta Blog 2", domain="eta.example", reseller=world.beta
    )
    eta.refresh_from_db()
    assert eta.reseller_since == since
    organization_save(organization=eta, name="Eta Blog 2", domain="eta.example", reseller=None)
    eta.refresh_from_db()
    assert eta.reseller_since > since


def test_trend_charts_show_only_the_updates_whose_tree_held_the_subject(world, t0, login, client):
    """A sub-reseller or organization moved in shows the new reseller none of the figures
    of the updates it was another's, and the old one none of those after it left."""
    move_beta_to_omega(world)
    organization_save(
        organization=world.zeta, name="Zeta Shop", domain="zeta.example", reseller=world.omega
    )
    second = run_update(t0 + timedelta(days=1))
    first_cutoff, second_cutoff = world.update.cutoff, second.cutoff

    def cutoffs(scope: Scope, **subject) -> set:
        history = usage_history(until=second, scope=scope, **subject)
        assert history, subject  # the subject has figures in at least one update shown
        return {point[0] for points in history.values() for point in points}

    for subject in ({"reseller": world.beta}, {"organization": world.zeta}):
        assert cutoffs(Scope(None), **subject) == {first_cutoff, second_cutoff}
        assert cutoffs(Scope(world.acme.pk), **subject) == {first_cutoff}
        assert cutoffs(Scope(world.omega.pk), **subject) == {second_cutoff}
    # Gamma, below Beta, went along with it; a reseller's own trend is whole
    assert cutoffs(Scope(world.omega.pk), reseller=world.gamma) == {second_cutoff}
    assert cutoffs(Scope(world.omega.pk), reseller=world.omega) == {first_cutoff, second_cutoff}

    # the overview page: Omega's login gets Beta's one point of its own (no chart yet);
    # the provider's staff both updates' (a chart)
    page = signed_in(world.omega).get(f"/reports/usage/resellers/{world.beta.pk}/")
    assert page.status_code == 200
    charts = [str(chart) for chart in page.context["charts"]]
    assert charts and all("Not enough usage updates yet" in chart for chart in charts)
    login("marketing")
    staff_page = client.get(f"/reports/usage/resellers/{world.beta.pk}/")
    charts = [str(chart) for chart in staff_page.context["charts"]]
    assert charts and not any("Not enough usage updates yet" in chart for chart in charts)
