"""The summary tab: counts of services, resellers and organizations, the provider's
figures, and the top resellers per resource.
"""

from datetime import timedelta

import pytest
from django.urls import reverse

from hostmeter.tests.factories import OrganizationFactory, ResellerFactory
from hostmeter.tests.fixtures import (
    run_update,
    store_sample,
)
from hostmeter.tests.pages import (
    figure_rows,
    html,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- summary


def test_summary_shows_counts_figures_and_top_resellers(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:summary"))
    stats = [n.text() for n in html(response).find_all(cls="stat")]
    assert stats == [
        "3 services subscribed (6 subscriptions)",
        "4 resellers, 2 of them sub-resellers",
        "5 organizations, 1 added directly",
    ]
    figures = figure_rows(response)
    assert figures["Disk space"] == [
        "10,000 MB",
        "1,000 MB",
        "9,000 MB",
        "250 MB",
        "2.5 %",
        "250 MB",
        "",
    ]
    page = html(response)
    disk = [
        card
        for card in page.find_all("div", cls="card")
        if card.find("h3") and card.find("h3").text() == "Disk space"
    ]
    assert [li.text() for li in disk[0].find_all("li")] == [
        "Acme Hosting — 240 MB",
        "Beta Web — 150 MB",
    ]


def test_top_resellers_are_the_five_largest_per_resource(client, login, resources, t0):
    login("marketing")
    disk, bandwidth = resources["disk_space"], resources["bandwidth"]
    used = {"R1": "50", "R2": "70", "R3": "70", "R4": "10", "R5": "90", "R6": "0", "R7": "30"}
    for name, value in used.items():
        reseller = ResellerFactory(name=name, domain=f"{name.lower()}.example")
        org = OrganizationFactory(domain=f"site-{name.lower()}.example", reseller=reseller)
        store_sample(org, disk, t0 - timedelta(hours=1), value)
        if name == "R4":
            store_sample(org, bandwidth, t0 - timedelta(hours=1), "5")
    run_update(t0)

    cards = {
        card.find("h3").text(): [li.text() for li in card.find_all("li")]
        for card in html(client.get(reverse("usage:summary"))).find_all("div", cls="card")
        if card.find("h3")
    }
    # largest first, equal usage in the order the resellers were added; none unused
    assert cards["Disk space"] == [
        "R5 — 90 MB",
        "R2 — 70 MB",
        "R3 — 70 MB",
        "R1 — 50 MB",
        "R7 — 30 MB",
    ]
    assert cards["Bandwidth"] == ["R4 — 5 MB"]
