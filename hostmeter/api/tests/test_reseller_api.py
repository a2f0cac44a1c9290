"""A reseller login's API token reads its subtree only: the same endpoints, their lists,
details, filters, figures and reports narrowed to it, one outside not found (as one that
does not exist); it cannot ingest, change tenancy or run updates.

The `world` fixture (hostmeter/tests/fixtures.py): Acme Hosting ⊃ Beta Web ⊃ Gamma Net,
Omega Cloud apart; Zeta Shop and Theta Mail (Acme's), Eta Blog (Beta's), Omega Site
(Omega's), Direct Site (the provider's)."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from hostmeter.reports.models import Report
from hostmeter.reports.services import report_generate, report_request
from hostmeter.tenancy.services import reseller_login_save
from hostmeter.tests.fixtures import PASSWORD

pytestmark = pytest.mark.django_db

ACME_RESELLERS = ["acme.example", "beta.example", "gamma.example"]
ACME_ORGS = ["eta.example", "theta.example", "zeta.example"]


@pytest.fixture
def acme_api(world, settings, tmp_path):
    """An API client with a token the Acme login made for itself through the API."""
    settings.MEDIA_ROOT = tmp_path / "files"
    user = reseller_login_save(username="acme-admin", reseller=world.acme, password=PASSWORD).user
    session = APIClient()
    session.force_authenticate(user)
    made = session.post("/api/v1/tokens/", {"name": "billing sync"}, format="json")
    assert made.status_code == 201, made.data
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {made.data['token']}")
    return client


def domains(response, key="domain") -> list[str]:
    assert response.status_code == 200, response.data
    return sorted(row[key] for row in response.data["results"])


def test_lists_and_details_are_its_subtree(acme_api, world):
    assert domains(acme_api.get("/api/v1/resellers/")) == ACME_RESELLERS
    assert domains(acme_api.get("/api/v1/organizations/")) == ACME_ORGS
    own = acme_api.get("/api/v1/resellers/acme.example/")
    assert own.status_code == 200 and own.data["parent"] is None
    assert own.data["sub_resellers"] == ["beta.example"]
    beta = acme_api.get("/api/v1/resellers/beta.example/")
    assert beta.data["parent"] == "acme.example"
    for outside in ("/api/v1/resellers/omega.example/", "/api/v1/organizations/direct.example/"):
        assert acme_api.get(outside).status_code == 404, outside


def test_a_filter_naming_another_subtree_is_refused_as_unknown(acme_api):
    foreign = acme_api.get("/api/v1/organizations/", {"reseller": "omega.example"})
    unknown = acme_api.get("/api/v1/organizations/", {"reseller": "nowhere.example"})
    assert foreign.status_code == unknown.status_code == 400
    assert "No reseller with the domain omega.example" in str(foreign.data)
    mine = acme_api.get("/api/v1/organizations/", {"below": "beta.example"})
    assert domains(mine) == ["eta.example"]


def test_limits_are_its_subtrees_not_the_providers_capacity(acme_api):
    response = acme_api.get("/api/v1/limits/")
    assert response.status_code == 200
    kinds = {(row["kind"], row["domain"], row["resource"]) for row in response.data["results"]}
    assert kinds == {
        ("reseller", "acme.example", "disk_space"),
        ("reseller", "acme.example", "bandwidth"),
        ("reseller", "beta.example", "disk_space"),
        ("organization", "zeta.example", "disk_space"),
        ("organization", "eta.example", "disk_space"),
    }


def test_usage_figures_are_its_own(acme_api, world):
    summary = acme_api.get("/api/v1/usage-updates/latest/summary/")
    assert summary.status_code == 200, summary.data
    disk = next(
        r
        for service in summary.data["services"]
        for r in service["resources"]
        if r["resource"] == "disk_space"
    )
    # Acme's limit and what it allocated (Beta 400, Zeta 100), Zeta's 90 and Eta's 150 MB
    assert Decimal(disk["limit"]) == 1000 and Decimal(disk["allocated"]) == 500
    assert Decimal(disk["used"]) == 240
    assert summary.data["counts"]["organizations"] == 3
    pull = acme_api.get(f"/api/v1/usage-updates/{world.update.pk}/organizations/")
    assert domains(pull, key="organization") == ACME_ORGS
    assert acme_api.get("/api/v1/usage-updates/latest/resellers/beta.example/").status_code == 200
    for outside in ("resellers/omega.example/", "organizations/omega-site.example/"):
        assert acme_api.get(f"/api/v1/usage-updates/latest/{outside}").status_code == 404
    update = acme_api.get("/api/v1/usage-updates/latest/").data
    assert update["organizations_count"] is None and update["requested_by"] is None


def test_reports_are_its_subtrees(acme_api, world):
    theirs, _ = report_request(kind="reseller", subject=world.omega, update=world.update)
    whole, _ = report_request(kind="organizations", update=world.update)
    report_generate(report_id=theirs.pk)
    report_generate(report_id=whole.pk)
    asked = acme_api.post("/api/v1/reports/", {"kind": "organizations"}, format="json")
    assert asked.status_code == 202, asked.data
    assert asked.data["subtree"] == "acme.example"
    mine = Report.objects.get(pk=asked.data["id"])
    assert mine.subtree == world.acme and mine.requested_by.username == "acme-admin"
    report_generate(report_id=mine.pk)
    listed = acme_api.get("/api/v1/reports/").data["results"]
    assert [r["id"] for r in listed] == [mine.pk]
    for other in (theirs, whole):
        assert acme_api.get(f"/api/v1/reports/{other.pk}/").status_code == 404
        assert acme_api.get(f"/api/v1/reports/{other.pk}/file/").status_code == 404
    file = acme_api.get(f"/api/v1/reports/{mine.pk}/file/")
    assert file.status_code == 200
    text = b"".join(file.streaming_content).decode("utf-8-sig")
    assert "Zeta Shop" in text and "Omega" not in text and "Direct Site" not in text
    refused = acme_api.post(
        "/api/v1/reports/", {"kind": "reseller", "domain": "omega.example"}, format="json"
    )
    assert refused.status_code == 400
    assert "No reseller with the domain omega.example" in str(refused.data)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/usage-samples/", []),
        ("post", "/api/v1/resellers/", {"name": "X", "domain": "x.example"}),
        ("patch", "/api/v1/organizations/zeta.example/", {"name": "Renamed"}),
        ("post", "/api/v1/limits/", {"kind": "provider", "resource": "disk_space", "limit": 1}),
        ("post", "/api/v1/usage-updates/", {}),
    ],
)
def test_it_cannot_ingest_change_tenancy_or_run_updates(acme_api, world, method, path, body):
    response = getattr(acme_api, method)(path, body, format="json")
    assert response.status_code == 403, response.data
    world.zeta.refresh_from_db()
    assert world.zeta.name == "Zeta Shop"


def test_operations_makes_and_lists_reseller_logins_through_the_api(world, operations):
    made = operations.post(
        "/api/v1/reseller-logins/",
        {"username": "omega-admin", "reseller": "omega.example", "password": PASSWORD},
        format="json",
    )
    assert made.status_code == 201, made.data
    assert made.data == {
        "username": "omega-admin",
        "reseller": "omega.example",
        "email": "",
        "is_active": True,
        "last_login": None,
    }
    moved = operations.post(
        "/api/v1/reseller-logins/",
        {"username": "omega-admin", "reseller": "acme.example"},
        format="json",
    )
    assert moved.status_code == 200 and moved.data["reseller"] == "acme.example"
    listed = operations.get("/api/v1/reseller-logins/", {"reseller": "acme.example"})
    assert [r["username"] for r in listed.data["results"]] == ["omega-admin"]
    staff = operations.post(
        "/api/v1/reseller-logins/",
        {"username": operations.user.username, "reseller": "acme.example", "password": PASSWORD},
        format="json",
    )
    assert staff.status_code == 400 and "staff login" in str(staff.data["username"])
    weak = operations.post(
        "/api/v1/reseller-logins/",
        {"username": "new-one", "reseller": "acme.example", "password": "123"},
        format="json",
    )
    assert weak.status_code == 400 and "password" in weak.data
