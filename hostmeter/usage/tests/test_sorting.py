"""Sorting the usage lists: every column both ways, pages in turn that list every row once
(the report status and time columns across Not generated and the rest), the sort
headers, and names sorted alphabetically whatever their case or accents.
"""

from datetime import timedelta

import pytest
from django.urls import reverse

from hostmeter.reports.models import Report
from hostmeter.tenancy.models import Reseller
from hostmeter.tenancy.names import name_key
from hostmeter.tests.factories import OrganizationFactory, ResellerFactory
from hostmeter.tests.fixtures import (
    run_update,
)
from hostmeter.tests.pages import (
    listed_names,
    usage_table,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- sorting

# Five subjects whose every column sorts differently:
# (name, domain, services, report status, hours after t0 the report was generated)
SORTABLE = [
    ("Alpha", "delta-host.example", ["web", "mail", "db"], "ready", 3),
    ("Bravo", "alpha-host.example", ["web"], None, None),
    ("Charlie", "echo-host.example", ["web", "mail"], "failed", 1),
    ("Delta", "bravo-host.example", [], None, None),
    ("Echo", "charlie-host.example", ["web", "mail", "db", "dns"], "failed", 2),
]


ASCENDING = {
    "name": ["Alpha", "Bravo", "Charlie", "Delta", "Echo"],
    "domain": ["Bravo", "Delta", "Echo", "Alpha", "Charlie"],
    "services": ["Delta", "Bravo", "Charlie", "Alpha", "Echo"],
    # not generated, ready, failed (equal ones by name)
    "status": ["Bravo", "Delta", "Alpha", "Charlie", "Echo"],
    # never generated first
    "updated": ["Bravo", "Delta", "Charlie", "Echo", "Alpha"],
}


def _sortable(kind: str, t0):
    update = run_update(t0)
    # organizations' resellers: Alpha's is Owner c, Charlie's a, Delta's d, Echo's b;
    # Bravo is the provider's own
    owners = {
        name: ResellerFactory(name=f"Owner {c}", domain=f"owner-{c}.example")
        for name, c in (("Alpha", "c"), ("Charlie", "a"), ("Delta", "d"), ("Echo", "b"))
    }
    for name, domain, services, status, hours in SORTABLE:
        if kind == "reseller":
            subject = ResellerFactory(name=name, domain=domain, services=services)
        else:
            owner = owners.get(name)
            subject = OrganizationFactory(
                name=name, domain=domain, services=services or ["no-such-code"], reseller=owner
            )
        if status:
            Report.objects.create(
                kind=kind,
                update=update,
                status=status,
                generated_at=t0 + timedelta(hours=hours) if hours else None,
                **{kind: subject},
            )


def test_reseller_usage_sorts_on_every_column_both_ways(client, login, t0):
    login("marketing")
    _sortable("reseller", t0)
    url = reverse("usage:reseller-usage")
    for key, expected in ASCENDING.items():
        for sort, order in ((key, expected), (f"-{key}", expected[::-1])):
            names = listed_names(client.get(url, {"sort": sort}))
            assert [n for n in names if not n.startswith("Owner")] == order, sort


def test_organization_site_usage_sorts_on_every_column_both_ways(client, login, t0):
    login("marketing")
    _sortable("organization", t0)
    url = reverse("usage:organization-usage")
    columns = {**ASCENDING, "reseller": ["Bravo", "Charlie", "Echo", "Alpha", "Delta"]}
    for key, expected in columns.items():
        assert listed_names(client.get(url, {"sort": key})) == expected, key
        assert listed_names(client.get(url, {"sort": f"-{key}"})) == expected[::-1], key


def _pages(per_page: int, **asked) -> tuple[int, list[str]]:
    """Every page of the organization list in turn: the count, and the names listed."""
    from hostmeter.usage.selectors import organization_usage_list

    first, _ = organization_usage_list(page=1, per_page=per_page, **asked)
    names = []
    for number in range(1, first.paginator.num_pages + 1):
        page, _ = organization_usage_list(page=number, per_page=per_page, **asked)
        names += [org.name for org in page.object_list]
    return first.paginator.count, names


@pytest.mark.parametrize("key", ["status", "updated"])
def test_organizations_by_report_page_across_not_generated_and_the_rest(resources, t0, key):
    earlier = run_update(t0 - timedelta(days=1))
    update = run_update(t0)
    acme = ResellerFactory(name="Acme", domain="acme.example")
    rank = {None: 0, "queued": 1, "generating": 2, "ready": 3, "failed": 4}
    statuses = [None, "ready", None, "failed", "queued", None, "ready", None, "generating"]
    rows = []
    for i, status in enumerate(statuses * 2):
        org = OrganizationFactory(
            name=f"{'sA'[i % 2]}ite {i:02}",
            domain=f"s{i:02}.example",
            reseller=acme if i % 4 == 0 else None,
        )
        generated = t0 + timedelta(minutes=(i * 7) % 11) if status in ("ready", "failed") else None
        if status:
            Report.objects.create(
                kind="organization",
                organization=org,
                update=update,
                status=status,
                generated_at=generated,
            )
        elif i % 3 == 0:  # an earlier update's report, or another format's: Not generated
            Report.objects.create(
                kind="organization", organization=org, update=earlier, status="ready"
            )
            Report.objects.create(
                kind="organization", organization=org, update=update, format="xlsx"
            )
        # by status: Not generated first; by time: never generated first
        value = rank[status] if key == "status" else (generated is not None, generated)
        rows.append((value, org.name.lower(), org.pk, org))
    ordered = [org for *_, org in sorted(rows, key=lambda r: r[:3])]

    for per_page in (4, 25):  # pages inside and across both groups
        for sort, order in ((key, ordered), (f"-{key}", ordered[::-1])):
            assert _pages(per_page, sort=sort, update=update) == (18, [o.name for o in order])
            mine = [o.name for o in order if o.reseller_id == acme.pk]
            assert _pages(per_page, sort=sort, update=update, reseller=acme) == (5, mine)
            found = [o.name for o in order if "site 1" in o.name.lower()]
            assert _pages(per_page, sort=sort, update=update, search="site 1") == (
                len(found),
                found,
            )


@pytest.mark.parametrize(
    "sort", ["name", "-domain", "services", "-services", "reseller", "-reseller"]
)
def test_organization_pages_in_turn_list_every_row_once_in_order(resources, t0, sort):
    from hostmeter.usage.selectors import organization_usage_list

    update = run_update(t0)
    owners = [None, *(ResellerFactory(domain=f"owner{i}.example") for i in range(3))]
    for i in range(18):
        org = OrganizationFactory(
            name=f"{'sS'[i % 2]}ite {i % 7}",  # equal names: the id decides
            domain=f"d{(i * 5) % 18:02}.example",
            reseller=owners[i % 4],
            services=["web", "mail", "db"][: i % 4] or ["no-such-code"],
        )
        if i % 5 == 0:
            Report.objects.create(
                kind="organization",
                organization=org,
                update=update,
                status="ready",
                generated_at=t0 + timedelta(minutes=i),
            )
    first, _ = organization_usage_list(sort=sort, update=update, per_page=4)
    ordered = list(first.paginator.object_list)  # the list's own ORDER BY, in one query
    assert _pages(4, sort=sort, update=update) == (18, [o.name for o in ordered])
    assert len({o.pk for o in ordered}) == 18


@pytest.mark.parametrize("key", ["reseller", "services"])
def test_organizations_by_reseller_or_services_page_across_their_groups(resources, t0, key):
    """By reseller: the direct ones first (last descending), resellers of one folded name
    as one (their organizations by name); by services: by how many; each group by name
    and id. Every page in turn lists them so, searched or one reseller's too."""
    update = run_update(t0)
    zulu = ResellerFactory(name="Zulu", domain="zulu.example")
    sub = ResellerFactory(name="alpha", domain="alpha.example", parent=zulu)
    owners = [None, zulu, sub, ResellerFactory(name="Alpha", domain="alpha2.example")]
    codes = ["web", "mail", "db", "dns"]
    rows = []
    for i in range(22):
        owner = owners[(i * 3) % 4]
        services = codes[: (i * 3) % 5]
        org = OrganizationFactory(
            name=f"{'sS'[i % 2]}ite {i % 6}",  # equal names: the id decides
            domain=f"d{i:02}.example",
            reseller=owner,
            services=services or ["no-such-code"],
        )
        if key == "reseller":
            value = (owner is not None, name_key(owner.name) if owner else "")
        else:
            value = (len(services), "")
        rows.append((*value, name_key(org.name), org.pk, org))
    ordered = [org for *_, org in sorted(rows, key=lambda r: r[:-1])]
    below_zulu = {zulu.pk, sub.pk}

    for per_page in (3, 25):  # pages inside and across the groups
        for sort, order in ((key, ordered), (f"-{key}", ordered[::-1])):
            assert _pages(per_page, sort=sort, update=update) == (22, [o.name for o in order])
            mine = [o.name for o in order if o.reseller_id in below_zulu]
            assert _pages(per_page, sort=sort, update=update, reseller=zulu) == (len(mine), mine)
            found = [o.name for o in order if "site 1" in o.name.lower()]
            assert _pages(per_page, sort=sort, update=update, search="site 1") == (
                len(found),
                found,
            )


def test_sort_headers_say_the_order_and_reverse_it(client, login, world):
    login("marketing")
    url = reverse("usage:reseller-usage")
    head = usage_table(client.get(url, {"sort": "domain"})).find("thead")
    domain = [th for th in head.find_all("th") if "Domain" in th.text()][0]
    assert domain.attrs["aria-sort"] == "ascending"
    assert "sort=-domain" in domain.find("a").attrs["href"]
    name = [th for th in head.find_all("th") if "Name" in th.text()][0]
    assert name.attrs["aria-sort"] == "none"

    head = usage_table(client.get(url, {"sort": "-domain"})).find("thead")
    domain = [th for th in head.find_all("th") if "Domain" in th.text()][0]
    assert domain.attrs["aria-sort"] == "descending"


def test_an_unknown_sort_key_sorts_by_name(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:reseller-usage"), {"sort": "password"})
    assert response.status_code == 200
    assert listed_names(response) == ["Acme Hosting", "Beta Web", "Gamma Net", "Omega Cloud"]


def test_names_sort_alphabetically_whatever_their_case(client, login, t0):
    login("marketing")
    for name in ("Zeta Hosting", "acme web", "Bravo Net"):
        ResellerFactory(name=name)
    response = client.get(reverse("usage:reseller-usage"), {"sort": "name"})
    assert listed_names(response) == ["acme web", "Bravo Net", "Zeta Hosting"]


def test_accented_names_sort_among_the_plain_ones_on_every_engine(client, login, t0):
    login("marketing")
    for name in ("Zeta Hosting", "Ørsted Net", "émile web", "Emma Cloud", "Ärzte Hosting"):
        ResellerFactory(name=name)
    response = client.get(reverse("usage:reseller-usage"), {"sort": "name"})
    # folded: arzte, emile, emma, orsted, zeta (byte order put Ä, é, Ø after Z)
    assert listed_names(response) == [
        "Ärzte Hosting",
        "émile web",
        "Emma Cloud",
        "Ørsted Net",
        "Zeta Hosting",
    ]
    org = OrganizationFactory(name="Zoë Bakery", reseller=Reseller.objects.get(name="Ørsted Net"))
    OrganizationFactory(name="Anna Books", reseller=Reseller.objects.get(name="Zeta Hosting"))
    url = reverse("usage:organization-usage")
    assert listed_names(client.get(url, {"sort": "reseller"})) == [org.name, "Anna Books"]
