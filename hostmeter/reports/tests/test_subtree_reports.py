"""A reseller login's summary, reseller usage and organization site usage files hold its
subtree, as the usage update froze it, and nothing else; the provider's stay as they are.

The `world` fixture (hostmeter/tests/fixtures.py): Acme Hosting added Beta Web, which
added Gamma Net; Omega Cloud apart; Zeta Shop and Theta Mail are Acme's, Eta Blog Beta's,
Omega Site Omega's, Direct Site the provider's. Zeta used 90 MB disk and 50 + 45 MB
bandwidth, Eta 150 MB disk, Direct Site 10 MB disk; Acme's disk limit is 1,000 MB and it
gave Beta 400 MB and Zeta 100 MB."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import Client

from hostmeter.reports.models import Report
from hostmeter.reports.services import ReportError, report_generate, report_request
from hostmeter.reports.tests.reportdata import read_csv, stored_bytes
from hostmeter.tenancy.services import organization_save, reseller_login_save
from hostmeter.tests.fixtures import PASSWORD, run_update, store_sample

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"


def generated(kind, update, *, subtree=None):
    report, _ = report_request(kind=kind, update=update, subtree=subtree)
    report = report_generate(report_id=report.pk)
    assert report.status == Report.Status.READY, report.error
    return report, read_csv(stored_bytes(report))


def disk(rows) -> dict[str, Decimal]:
    return {r["Resource"]: r for r in rows}["Disk space"]


def test_organizations_file_of_a_subtree_holds_its_organizations_only(world):
    _, (_, rows) = generated("organizations", world.update, subtree=world.acme)
    assert sorted(r["Organization"] for r in rows) == ["Eta Blog", "Theta Mail", "Zeta Shop"]
    _, (_, rows) = generated("organizations", world.update, subtree=world.beta)
    assert [r["Organization"] for r in rows] == ["Eta Blog"]
    _, (_, rows) = generated("organizations", world.update)  # the provider's: everyone
    assert len(rows) == 5


def test_resellers_file_of_a_subtree_holds_its_sub_resellers(world):
    _, (_, rows) = generated("resellers", world.update, subtree=world.acme)
    assert [r["Reseller"] for r in rows] == ["Beta Web", "Gamma Net"]
    assert [r["Parent reseller"] for r in rows] == ["Acme Hosting", "Beta Web"]
    _, (_, rows) = generated("resellers", world.update, subtree=world.gamma)
    assert rows == []


def test_summary_of_a_subtree_is_its_limit_what_it_allocated_and_its_usage(world):
    report, (header, rows) = generated("summary", world.update, subtree=world.acme)
    assert "Allocated" in header and "Sold" not in header
    row = disk(rows)
    # Acme's own limit, the limits it gave Beta and Zeta, and Zeta's 90 + Eta's 150 MB
    assert Decimal(row["Limit"]) == 1000
    assert Decimal(row["Allocated"]) == 500
    assert Decimal(row["Available"]) == 500
    assert Decimal(row["Used"]) == 240
    bandwidth = {r["Resource"]: r for r in rows}["Bandwidth"]
    assert Decimal(bandwidth["Used"]) == 95
    assert "-hostmeter-acme.example-summary-2026-03-" in report.file.name
    # the provider's summary is the provider's: 10,000 MB capacity, 250 MB used
    _, (header, rows) = generated("summary", world.update)
    assert "Sold" in header
    assert Decimal(disk(rows)["Limit"]) == 10000
    assert Decimal(disk(rows)["Used"]) == 250


def test_a_subtree_file_follows_the_tree_the_update_froze(world, t0):
    # Eta Blog moves to Omega after the update: Acme's file of that update still holds it
    organization_save(
        organization=world.eta, name="Eta Blog", domain="eta.example", reseller=world.omega
    )
    _, (_, rows) = generated("organizations", world.update, subtree=world.acme)
    assert "Eta Blog" in [r["Organization"] for r in rows]


def test_a_subtree_file_is_one_per_subtree_update_and_format(world):
    first, queued = report_request(kind="summary", update=world.update, subtree=world.acme)
    again, queued_again = report_request(kind="summary", update=world.update, subtree=world.acme)
    provider, _ = report_request(kind="summary", update=world.update)
    assert queued and not queued_again and again.pk == first.pk
    assert provider.pk != first.pk and provider.subtree is None
    with pytest.raises(ReportError):
        report_request(kind="reseller", subject=world.beta, update=world.update, subtree=world.acme)


def test_a_reseller_login_generates_and_downloads_its_subtree_files(world):
    login = reseller_login_save(username="acme-login", reseller=world.acme, password=PASSWORD)
    client = Client()
    client.force_login(login.user)
    response = client.post(
        "/reports/usage/export/generate/", {"kind": "organizations", "format": "csv"}
    )
    assert response.status_code == 303
    report = Report.objects.get(kind="organizations", subtree=world.acme)
    assert report.requested_by == login.user
    report_generate(report_id=report.pk)
    page = client.get("/reports/usage/export/").content.decode()
    assert f"/reports/usage/files/{report.pk}/" in page
    data = b"".join(client.get(f"/reports/usage/files/{report.pk}/").streaming_content)
    _, rows = read_csv(data)
    assert sorted(r["Organization"] for r in rows) == ["Eta Blog", "Theta Mail", "Zeta Shop"]
    # the provider's organization site usage file is not the reseller's to see
    provider, _ = generated("organizations", world.update)
    assert client.get(f"/reports/usage/files/{provider.pk}/").status_code == 404
    assert (
        f"/reports/usage/files/{provider.pk}/"
        not in client.get("/reports/usage/export/").content.decode()
    )


def test_a_closed_months_subtree_files_hold_the_subtrees_late_usage_only(period_world, resources):
    """Late November bandwidth of Bravo Blog (Sub's) and Charlie Direct (the provider's):
    Sub Hosting's closed-month summary counts Bravo's 0.5 MB only; its resellers file
    has no row (Sub has no sub-reseller), Top's has Sub's row with Bravo's."""
    bandwidth = resources["bandwidth"]
    store_sample(period_world.bravo, bandwidth, datetime(2026, 11, 25, tzinfo=UTC), "0.5")
    store_sample(period_world.charlie, bandwidth, datetime(2026, 11, 26, tzinfo=UTC), "4")
    later = run_update(datetime(2026, 12, 4, 9, tzinfo=UTC))
    assert later.status == "succeeded", later.error
    november = period_world.november

    _, (_, rows) = generated("summary", november, subtree=period_world.sub)
    bw = {r["Resource"]: r for r in rows}["Bandwidth"]
    assert Decimal(bw["Late usage after close"]) == Decimal("0.5")
    _, (_, rows) = generated("summary", november)  # the provider's: both
    bw = {r["Resource"]: r for r in rows}["Bandwidth"]
    assert Decimal(bw["Late usage after close"]) == Decimal("4.5")

    _, (_, rows) = generated("resellers", november, subtree=period_world.top)
    assert [r["Domain"] for r in rows] == ["sub.example"]
    assert Decimal(rows[0]["Bandwidth late usage after close (MB)"]) == Decimal("0.5")
    _, (_, rows) = generated("organizations", november, subtree=period_world.sub)
    assert [r["Domain"] for r in rows] == ["bravo.example"]
    assert Decimal(rows[0]["Bandwidth late usage after close (MB)"]) == Decimal("0.5")


def test_a_subtrees_organizations_file_runs_the_reseller_files_query(world):
    """So the report benchmark's reseller file (bench.reports) measures a reseller login's
    organization site usage file too: the same statement, the same parameters."""
    from hostmeter.reports.columns import report_query

    by_reseller = Report(kind="reseller", reseller=world.acme, update=world.update)
    by_login = Report(kind="organizations", subtree=world.acme, update=world.update)
    one, other = report_query(report=by_reseller), report_query(report=by_login)
    assert (one.sql, one.count_sql, one.params) == (other.sql, other.count_sql, other.params)
