"""Reading: the catalog, resellers with sub-resellers, organizations, limits, usage
updates and the usage of an update, with filters, orderings and keyset pages."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hostmeter.tests.factories import OrganizationFactory


@pytest.fixture
def client(marketing):
    return marketing


def domains(response) -> list[str]:
    return [row["domain"] for row in response.data["results"]]


def test_catalog(client, db):
    services = client.get("/api/v1/services/").data
    web = next(s for s in services if s["code"] == "web")
    assert [r["code"] for r in web["resources"]] == ["disk_space", "bandwidth"]
    resources = client.get("/api/v1/resources/").data
    assert {"code": "bandwidth", "kind": "counter", "service": "web"}.items() <= next(
        r for r in resources if r["code"] == "bandwidth"
    ).items()


def test_resellers_with_sub_resellers_and_filters(client, api_world):
    acme = client.get("/api/v1/resellers/acme.example/").data
    assert acme["sub_resellers"] == ["sub.acme.example"]
    assert acme["services"] == ["web", "mail"]
    assert acme["parent"] is None
    assert client.get("/api/v1/resellers/sub.acme.example/").data["parent"] == "acme.example"
    assert domains(client.get("/api/v1/resellers/?parent=acme.example")) == ["sub.acme.example"]
    assert domains(client.get("/api/v1/resellers/?below=acme.example")) == ["sub.acme.example"]
    assert domains(client.get("/api/v1/resellers/?top_level=true")) == ["acme.example"]
    assert domains(client.get("/api/v1/resellers/?q=sub")) == ["sub.acme.example"]
    refused = client.get("/api/v1/resellers/?parent=nobody.example")
    assert refused.status_code == 400
    assert "parent" in refused.data
    assert client.get("/api/v1/resellers/nobody.example/").status_code == 404


def test_search_ignores_accents_and_case(client, db):
    OrganizationFactory(name="Café Lumière", domain="lumiere.example")
    OrganizationFactory(name="Straße Shop", domain="strasse.example")
    OrganizationFactory(name="Plain Web", domain="plain.example")
    assert domains(client.get("/api/v1/organizations/?q=CAFE")) == ["lumiere.example"]
    assert domains(client.get("/api/v1/organizations/?q=straße")) == ["strasse.example"]
    assert domains(client.get("/api/v1/organizations/?q=PLAIN.example")) == ["plain.example"]


def test_organizations_filters(client, api_world):
    assert domains(client.get("/api/v1/organizations/?reseller=acme.example")) == ["shop.example"]
    assert domains(client.get("/api/v1/organizations/?below=acme.example")) == [
        "blog.example",
        "shop.example",
    ]
    assert domains(client.get("/api/v1/organizations/?direct=true")) == ["direct.example"]
    assert domains(client.get("/api/v1/organizations/?service=mail")) == ["shop.example"]
    assert client.get("/api/v1/organizations/?direct=maybe").status_code == 400
    shop = client.get("/api/v1/organizations/SHOP.example/").data
    assert (shop["reseller"], shop["services"]) == ("acme.example", ["web", "mail"])


def test_keyset_pages_cover_every_row_once_without_counting(client, api_world):
    for i in range(7):
        OrganizationFactory(name="Same name", domain=f"same{i}.example")
    seen, url, pages = [], "/api/v1/organizations/?page_size=3&ordering=-name", 0
    with CaptureQueriesContext(connection) as queries:
        while url:
            response = client.get(url)
            assert response.status_code == 200, response.data
            seen += domains(response)
            url, pages = response.data["next"], pages + 1
    assert pages == 4
    assert len(seen) == len(set(seen)) == 10
    names = [client.get(f"/api/v1/organizations/{d}/").data["name"] for d in seen]
    assert names == sorted(names, reverse=True)
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_pagination_input_is_checked(client, api_world):
    assert client.get("/api/v1/organizations/?ordering=size").status_code == 400
    assert client.get("/api/v1/organizations/?page_size=0").status_code == 400
    assert client.get("/api/v1/organizations/?cursor=bogus").status_code == 400
    first = client.get("/api/v1/organizations/?page_size=1&ordering=domain").data["next"]
    cursor = first.split("cursor=")[1].split("&")[0]
    other = client.get(f"/api/v1/organizations/?page_size=1&ordering=name&cursor={cursor}")
    assert other.status_code == 400  # a cursor of another ordering


def test_limits(client, api_world):
    rows = client.get("/api/v1/limits/?resource=disk_space").data["results"]
    assert {(r["kind"], r["domain"], r["limit"]) for r in rows} == {
        ("provider", None, "1000.000"),
        ("reseller", "acme.example", "500.000"),
        ("organization", "shop.example", "100.000"),
    }
    one = client.get("/api/v1/limits/?kind=reseller&reseller=acme.example").data["results"]
    assert [r["limit"] for r in one] == ["500.000"]


def test_usage_updates(client, api_world):
    listed = client.get("/api/v1/usage-updates/").data["results"]
    assert [u["id"] for u in listed] == [api_world.update.pk]
    latest = client.get("/api/v1/usage-updates/latest/").data
    assert latest["id"] == api_world.update.pk
    assert latest["status"] == "succeeded"
    assert client.get("/api/v1/usage-updates/?status=failed").data["results"] == []
    assert client.get("/api/v1/usage-updates/999999/").status_code == 404
    assert client.get("/api/v1/usage-updates/abc/").status_code == 404


def _figure(services, resource):
    return next(f for s in services for f in s["resources"] if f["resource"] == resource)


def test_summary_reseller_and_organization_usage(client, api_world):
    summary = client.get("/api/v1/usage-updates/latest/summary/").data
    disk = _figure(summary["services"], "disk_space")
    assert (disk["used"], disk["limit"], disk["allocated"]) == ("50.750", "1000.000", "500.000")
    assert disk["available"] == "500.000"  # sold: acme's 500; shop's is inside acme's
    assert summary["counts"]["organizations"] == 3
    reseller = client.get(
        f"/api/v1/usage-updates/{api_world.update.pk}/resellers/acme.example/"
    ).data
    assert _figure(reseller["services"], "disk_space")["used"] == "49.500"  # sub's blog too
    assert reseller["counts"]["organizations"] == 2
    org = client.get("/api/v1/usage-updates/latest/organizations/shop.example/").data
    shop_disk = _figure(org["services"], "disk_space")
    assert (shop_disk["used"], shop_disk["limit"], shop_disk["percent"]) == (
        "42.500",
        "100.000",
        "42.5",
    )


def test_every_organizations_usage_in_an_update(client, api_world):
    rows = client.get("/api/v1/usage-updates/latest/organizations/?below=acme.example").data
    by_domain = {r["organization"]: r for r in rows["results"]}
    assert set(by_domain) == {"blog.example", "shop.example"}
    cells = {c["resource"]: c for c in by_domain["shop.example"]["usage"]}
    assert cells["disk_space"] == {"resource": "disk_space", "used": "42.500", "limit": "100.000"}
    assert by_domain["blog.example"]["reseller"] == "sub.acme.example"


def test_usage_of_an_update_that_is_not_completed(client, api_world):
    from hostmeter.metering.models import UsageUpdate

    failed = UsageUpdate.objects.create(
        cutoff=api_world.update.cutoff.replace(year=2020), trigger="manual", status="failed"
    )
    response = client.get(f"/api/v1/usage-updates/{failed.pk}/summary/")
    assert response.status_code == 409
    assert "failed" in response.data["detail"]
