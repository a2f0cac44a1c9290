"""Searching the usage lists (name or domain, accents and case ignored, wildcards as
text), their pagination, and the organization list's reseller filter.
"""

import pytest
from django.urls import reverse

from hostmeter.tenancy.models import Reseller
from hostmeter.tenancy.services import reseller_links_rebuild
from hostmeter.tests.factories import OrganizationFactory, ResellerFactory
from hostmeter.tests.pages import (
    html,
    listed_names,
    messages_of,
    row_of,
    usage_table,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- search and pagination


def test_search_ignores_accents_and_case_of_any_letter(client, login, t0):
    login("marketing")
    for name in ("Café Lumière", "Straße Hosting", "ŁÓDŹ NET", "Plain Web"):
        ResellerFactory(name=name)
    url = reverse("usage:reseller-usage")
    for asked, found in [
        ("cafe", ["Café Lumière"]),
        ("CAFÉ LUM", ["Café Lumière"]),
        ("lumière", ["Café Lumière"]),
        ("strasse", ["Straße Hosting"]),
        ("STRASSE", ["Straße Hosting"]),
        ("łódź", ["ŁÓDŹ NET"]),
        ("lodz", ["ŁÓDŹ NET"]),
    ]:
        assert listed_names(client.get(url, {"q": asked})) == found, asked
    OrganizationFactory(name="Crème Brûlée Shop")
    url = reverse("usage:organization-usage")
    assert listed_names(client.get(url, {"q": "creme brulee"})) == ["Crème Brûlée Shop"]


def test_search_by_name_or_domain(client, login, world):
    login("marketing")
    url = reverse("usage:reseller-usage")
    assert listed_names(client.get(url, {"q": "acme"})) == ["Acme Hosting"]
    assert listed_names(client.get(url, {"q": "OMEGA.EX"})) == ["Omega Cloud"]
    assert listed_names(client.get(url, {"q": "  web "})) == ["Beta Web"]
    assert listed_names(client.get(url, {"q": "e", "sort": "-name"})) == [
        "Omega Cloud",
        "Gamma Net",
        "Beta Web",
        "Acme Hosting",
    ]
    nothing = client.get(url, {"q": "zzz"})
    assert listed_names(nothing) == []
    assert "No reseller matches “zzz”" in usage_table(nothing).text()
    assert html(nothing).find("input", id="q").attrs["value"] == "zzz"

    url = reverse("usage:organization-usage")
    assert listed_names(client.get(url, {"q": "shop"})) == ["Zeta Shop"]
    assert listed_names(client.get(url, {"q": "direct.example"})) == ["Direct Site"]


def test_search_treats_wildcards_as_text(client, login, world):
    login("marketing")
    ResellerFactory(name="100% Uptime", domain="uptime.example")
    url = reverse("usage:reseller-usage")
    assert listed_names(client.get(url, {"q": "%"})) == ["100% Uptime"]
    assert listed_names(client.get(url, {"q": "_"})) == []


def test_a_nul_character_in_the_search_is_harmless(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:reseller-usage"), {"q": "acme\x00"})
    assert response.status_code == 200
    assert listed_names(response) == ["Acme Hosting"]  # the NUL is dropped
    response = client.get(reverse("usage:organization-usage"), {"reseller": "acme\x00"})
    assert response.status_code == 200


def _many_resellers(count: int) -> None:
    Reseller.objects.bulk_create(
        Reseller(name=f"Reseller {i:03}", domain=f"r{i:03}.example") for i in range(count)
    )
    reseller_links_rebuild()


def test_pagination(client, login, db):
    login("marketing")
    _many_resellers(30)
    url = reverse("usage:reseller-usage")
    first = client.get(url)
    assert listed_names(first) == [f"Reseller {i:03}" for i in range(25)]
    assert "Page 1 of 2" in html(first).find(cls="pager").text()
    second = client.get(url, {"page": 2})
    assert listed_names(second) == [f"Reseller {i:03}" for i in range(25, 30)]
    assert listed_names(client.get(url, {"page": 99})) == listed_names(second)  # the last page
    assert listed_names(client.get(url, {"page": "abc"})) == listed_names(first)
    assert listed_names(client.get(url, {"page": -1})) == listed_names(second)

    # the pager keeps the order and the search
    page = html(client.get(url, {"sort": "-name", "q": "Reseller"}))
    nxt = page.find("a", rel="next").attrs["href"]
    assert "sort=-name" in nxt and "q=Reseller" in nxt and "page=2" in nxt
    assert listed_names(client.get(url + nxt)) == [f"Reseller {i:03}" for i in range(4, -1, -1)]


# ---------------------------------------------------------------- organization filter


def test_organizations_filtered_by_reseller_include_sub_resellers(client, login, world):
    login("marketing")
    url = reverse("usage:organization-usage")
    acmes = ["Eta Blog", "Theta Mail", "Zeta Shop"]
    by_id = client.get(url, {"reseller": world.acme.pk})
    assert listed_names(by_id) == acmes
    assert "Showing the organizations of Acme Hosting" in html(by_id).text()
    assert listed_names(client.get(url, {"reseller": "acme.example"})) == acmes
    assert listed_names(client.get(url, {"reseller": " ACME.example "})) == acmes
    assert listed_names(client.get(url, {"reseller": "beta.example"})) == ["Eta Blog"]
    assert listed_names(client.get(url, {"reseller": world.gamma.pk})) == []
    assert listed_names(client.get(url, {"reseller": "acme.example", "q": "theta"})) == [
        "Theta Mail"
    ]
    # the owning reseller's link filters on it
    link = row_of(by_id, "Eta Blog").find("a", href=f"{url}?reseller={world.beta.pk}")
    assert link is not None and link.text() == "Beta Web"


@pytest.mark.parametrize("unknown", ["nobody.example", "987654"])
def test_an_unknown_reseller_filter_warns_and_shows_every_organization(
    client, login, world, unknown
):
    login("marketing")
    response = client.get(reverse("usage:organization-usage"), {"reseller": unknown})
    assert response.status_code == 200
    assert any(unknown in m and "every organization" in m for m in messages_of(response))
    assert len(listed_names(response)) == 5


def test_a_reseller_filter_of_odd_digits_warns_instead_of_failing(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:organization-usage"), {"reseller": "²"})
    assert response.status_code == 200
    assert len(listed_names(response)) == 5


def test_a_huge_reseller_id_warns_instead_of_failing(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:organization-usage"), {"reseller": "9" * 30})
    assert response.status_code == 200
    assert len(listed_names(response)) == 5
