"""import_tenancy: resellers, organizations and limits from files, upserted by domain."""

import io
import json
from decimal import Decimal
from functools import partial

import pytest

from hostmeter.tenancy.models import Organization, Reseller, ResellerLink, ResourceLimit
from hostmeter.tests.factories import OrganizationFactory, ResellerFactory
from hostmeter.tests.fixtures import run_command, write_file

pytestmark = pytest.mark.django_db

RESELLERS = "name,domain,parent_domain,services\n"
ORGANIZATIONS = "name,domain,reseller_domain,services\n"
LIMITS = "kind,domain,resource,limit\n"


run = partial(run_command, "import_tenancy")


def write_rows(tmp_path, name: str, header: str, rows: list[tuple[str, str | None]]):
    """A file of the header and rows, each row (its text, the error it must give or None):
    its path and the errors expected, each named with its line (the header is line 1)."""
    path = write_file(tmp_path, name, header + "".join(f"{text}\n" for text, _ in rows))
    errors = [f"{path}:{n}: {error}" for n, (_, error) in enumerate(rows, start=2) if error]
    return path, errors


def tree():
    """{domain: (name, parent domain, service codes)} of every reseller."""
    return {
        r.domain: (r.name, r.parent.domain if r.parent else "", {s.code for s in r.services.all()})
        for r in Reseller.objects.select_related("parent").prefetch_related("services")
    }


def organizations():
    return {
        o.domain: (
            o.name,
            o.reseller.domain if o.reseller else "",
            {s.code for s in o.services.all()},
        )
        for o in Organization.objects.select_related("reseller").prefetch_related("services")
    }


def links():
    return {
        (link.ancestor.domain, link.descendant.domain, link.depth)
        for link in ResellerLink.objects.select_related("ancestor", "descendant")
    }


# ---------------------------------------------------------------- resellers


NESTED = (
    RESELLERS
    + "Grandchild,grand.example,child.example,web\n"
    + "Child,child.example,top.example,web mail\n"
    + "Top,top.example,,web mail db\n"
)


def test_nested_resellers_with_children_listed_before_their_parents(tmp_path):
    path = write_file(tmp_path, "resellers.csv", NESTED)
    result = run("resellers", path)
    assert result.code == 0
    assert (
        result.out.strip() == f"{path}: 3 received, 3 created, 0 updated, 0 unchanged, 0 bad rows"
    )
    assert tree() == {
        "top.example": ("Top", "", {"web", "mail", "db"}),
        "child.example": ("Child", "top.example", {"web", "mail"}),
        "grand.example": ("Grandchild", "child.example", {"web"}),
    }
    # The closure the roll-ups use is rebuilt for the new tree.
    assert ("top.example", "grand.example", 2) in links()
    assert ("child.example", "grand.example", 1) in links()


def test_reimporting_resellers_changes_nothing_and_updates_keep_contacts(tmp_path):
    path = write_file(tmp_path, "resellers.csv", NESTED)
    run("resellers", path)
    again = run("resellers", path)
    assert again.code == 0
    assert again.out.strip() == f"{path}: 3 received, 0 created, 0 updated, 3 unchanged, 0 bad rows"

    Reseller.objects.filter(domain="child.example").update(
        contact_name="Ann", contact_email="a@x.io"
    )
    moved = write_file(
        tmp_path,
        "moved.csv",
        RESELLERS + "Child Ltd,child.example,,web\nGrandchild,GRAND.example,top.example,web\n",
    )
    result = run("resellers", moved)
    assert (
        result.out.strip() == f"{moved}: 2 received, 0 created, 2 updated, 0 unchanged, 0 bad rows"
    )
    child = Reseller.objects.get(domain="child.example")
    assert (child.name, child.parent, child.contact_name, child.contact_email) == (
        "Child Ltd",
        None,
        "Ann",
        "a@x.io",
    )
    assert tree()["grand.example"] == ("Grandchild", "top.example", {"web"})
    assert ("child.example", "grand.example", 1) not in links()
    assert ("top.example", "grand.example", 1) in links()


def test_cycles_and_unknown_parents_are_refused_with_a_reason(tmp_path):
    top = ResellerFactory(domain="top.example")
    ResellerFactory(domain="sub.example", parent=top)
    cycle = "parent_domain: the parents make a cycle (a.example → b.example → a.example)"
    path, errors = write_rows(
        tmp_path,
        "resellers.csv",
        RESELLERS,
        [
            ("A,a.example,b.example,", cycle),
            ("B,b.example,a.example,", cycle),
            (
                "C,c.example,a.example,",
                "parent_domain: the parent reseller “a.example” (line 2) was not imported",
            ),
            (
                "Self,self.example,self.example,",
                "parent_domain: a reseller cannot be its own parent",
            ),
            (
                "Orphan,orphan.example,nowhere.example,",
                "parent_domain: no reseller with the domain “nowhere.example” "
                "(neither stored nor in this file)",
            ),
            (
                "Top,top.example,sub.example,",
                "parent_domain: “sub.example” is a sub-reseller of “top.example” "
                "(top.example → sub.example); a reseller cannot be its own ancestor",
            ),
            ("Fine,fine.example,sub.example,web", None),
        ],
    )
    result = run("resellers", path)
    assert result.code == 1
    assert result.err == errors
    assert (
        result.out.strip() == f"{path}: 7 received, 1 created, 0 updated, 0 unchanged, 6 bad rows"
    )
    assert set(tree()) == {"top.example", "sub.example", "fine.example"}
    assert tree()["top.example"][1] == ""


def test_bad_reseller_rows_and_the_rows_below_them(tmp_path):
    path = write_file(
        tmp_path,
        "resellers.csv",
        RESELLERS
        + "Shop,Shop.EXAMPLE,,web\n"
        + "Spaces,not a domain,,web\n"
        + ",noname.example,,web\n"
        + "Panel,panel.example,,web cpanel\n"
        + "Again,shop.example,,mail\n"
        + "Under,under.example,panel.example,web\n"
        + 'Commas,commas.example,,"web, mail"\n'
        + "Short,short.example,web\n",
    )
    result = run("resellers", path)
    assert result.err == [
        f"{path}:3: domain: Enter a lower-case domain name such as example.com.",
        f"{path}:4: name: This field cannot be blank.",
        f"{path}:5: services: unknown service code(s) cpanel "
        "(known: web, mail, db, dns, ftp, ssl, backup)",
        f"{path}:6: domain: “shop.example” is also on line 2",
        f"{path}:7: parent_domain: the parent reseller “panel.example” (line 5) was not imported",
        f"{path}:9: has 3 fields where the header has 4",
    ]
    assert tree() == {
        "shop.example": ("Shop", "", {"web"}),
        "commas.example": ("Commas", "", {"web", "mail"}),
    }


def test_resellers_from_json_lines_with_a_list_of_services(tmp_path):
    rows = [
        {
            "name": "Nordlicht",
            "domain": "nordlicht.example",
            "parent_domain": None,
            "services": ["web", "dns"],
        },
        {
            "name": "Süd",
            "domain": "sued.example",
            "parent_domain": "nordlicht.example",
            "services": "web",
        },
    ]
    path = write_file(
        tmp_path,
        "resellers.jsonl",
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows) + '{"name": "Broken"\n',
    )
    result = run("resellers", path)
    assert tree() == {
        "nordlicht.example": ("Nordlicht", "", {"web", "dns"}),
        "sued.example": ("Süd", "nordlicht.example", {"web"}),
    }
    assert len(result.err) == 1
    assert result.err[0].startswith(f"{path}:3: is not valid JSON")


# ---------------------------------------------------------------- organizations


def test_organizations_with_bom_and_non_ascii_names(tmp_path):
    ResellerFactory(domain="partner.example", services=["web", "mail"])
    text = (
        ORGANIZATIONS
        + "Café Zoë,cafe-zoe.example,,web mail\n"
        + "Bäckerei Müller GmbH,baeckerei.example,partner.example,web\n"
        + "Ørsted & Søn,orsted.example,unknown.example,web\n"
        + "東京ホスティング,tokyo.example,,web\n"
    ).replace("\n", "\r\n")
    path = write_file(tmp_path, "organizations.csv", text, bom=True)
    result = run("organizations", path)
    assert result.code == 1
    assert result.err == [
        f"{path}:4: reseller_domain: no reseller with the domain “unknown.example”"
    ]
    assert organizations() == {
        "cafe-zoe.example": ("Café Zoë", "", {"web", "mail"}),
        "baeckerei.example": ("Bäckerei Müller GmbH", "partner.example", {"web"}),
        "tokyo.example": ("東京ホスティング", "", {"web"}),
    }

    again = run("organizations", path)
    assert again.out.strip() == f"{path}: 4 received, 0 created, 0 updated, 3 unchanged, 1 bad row"


def test_organizations_are_updated_by_domain(tmp_path):
    partner = ResellerFactory(domain="partner.example")
    OrganizationFactory(name="Old name", domain="shop.example", reseller=partner, services=["web"])
    path = write_file(
        tmp_path,
        "organizations.csv",
        ORGANIZATIONS
        + "Shop,shop.example,,web db\n"
        + "Shop again,SHOP.example,,web\n"
        + "New,new.example,partner.example,\n"
        + "Bad,bad_domain,,web\n"
        + f"{'x' * 201},long.example,,web\n",
    )
    result = run("organizations", path)
    assert (
        result.out.strip() == f"{path}: 5 received, 1 created, 1 updated, 0 unchanged, 3 bad rows"
    )
    assert result.err == [
        f"{path}:3: domain: “shop.example” is also on line 2",
        f"{path}:5: domain: Enter a lower-case domain name such as example.com.",
        f"{path}:6: name: Ensure this value has at most 200 characters (it has 201).",
    ]
    assert organizations() == {
        "shop.example": ("Shop", "", {"web", "db"}),
        "new.example": ("New", "partner.example", set()),
    }


def test_a_missing_header_column_imports_nothing(tmp_path):
    path = write_file(
        tmp_path, "organizations.csv", "name,domain,services\nShop,shop.example,web\n"
    )
    result = run("organizations", path)
    assert result.code == 2
    assert result.message == (
        f"{path}: the header has no “reseller_domain” column "
        "(expected: name, domain, reseller_domain, services)\nNothing was imported."
    )
    assert not Organization.objects.exists()


def test_organizations_from_standard_input(tmp_path):
    stdin = io.BytesIO((ORGANIZATIONS + "Shop,shop.example,,web\n").encode())
    result = run("organizations", "-", stdin=stdin)
    assert result.code == 0
    assert organizations() == {"shop.example": ("Shop", "", {"web"})}


def test_an_organization_added_meanwhile_refuses_only_its_own_row(tmp_path, monkeypatch):
    OrganizationFactory(domain="taken.example")
    # As if another process added taken.example just after the importer looked.
    monkeypatch.setattr(Organization.objects, "in_bulk", lambda *args, **kwargs: {})
    path = write_file(
        tmp_path,
        "organizations.csv",
        ORGANIZATIONS + "New,new.example,,web\nTaken,taken.example,,web\nOther,other.example,,\n",
    )
    result = run("organizations", path)
    assert result.err == [f"{path}:3: domain: Organization with this Domain already exists."]
    assert result.out.strip() == f"{path}: 3 received, 2 created, 0 updated, 0 unchanged, 1 bad row"
    assert organizations()["new.example"] == ("New", "", {"web"})
    assert "other.example" in organizations()


# ---------------------------------------------------------------- limits


@pytest.fixture
def holders():
    partner = ResellerFactory(domain="partner.example", services=["web", "mail"])
    return partner, OrganizationFactory(domain="cafe-zoe.example", reseller=partner)


def limits():
    """{(kind, holder's domain or None, resource code, limit)} of every limit."""
    found = set()
    for lim in ResourceLimit.objects.select_related("reseller", "organization", "resource"):
        kind = "reseller" if lim.reseller else "organization" if lim.organization else "provider"
        holder = lim.reseller or lim.organization
        found.add((kind, holder.domain if holder else None, lim.resource.code, lim.limit))
    return found


def test_limits_for_the_provider_a_reseller_and_an_organization(holders, tmp_path):
    text = (
        LIMITS
        + "provider,,disk_space,100000\n"
        + "reseller,partner.example,disk_space,5000.5\n"
        + "organization,Cafe-Zoe.example,mailboxes,25\n"
    )
    path = write_file(tmp_path, "limits.csv", text)
    assert run("limits", path).code == 0
    assert limits() == {
        ("provider", None, "disk_space", Decimal("100000")),
        ("reseller", "partner.example", "disk_space", Decimal("5000.5")),
        ("organization", "cafe-zoe.example", "mailboxes", Decimal("25")),
    }

    again = run("limits", path)
    assert again.out.strip() == f"{path}: 3 received, 0 created, 0 updated, 3 unchanged, 0 bad rows"

    changed = write_file(
        tmp_path, "changed.csv", LIMITS + "reseller,partner.example,disk_space,6000\n"
    )
    result = run("limits", changed)
    assert (
        result.out.strip()
        == f"{changed}: 1 received, 0 created, 1 updated, 0 unchanged, 0 bad rows"
    )
    assert ("reseller", "partner.example", "disk_space", Decimal("6000")) in limits()


def test_bad_limit_rows(holders, tmp_path):
    org = "organization,cafe-zoe.example"
    path, errors = write_rows(
        tmp_path,
        "limits.csv",
        LIMITS,
        [
            (f"{org},disk_space,-1", "limit: -1 is negative"),
            (f"{org},bandwidth,1.2345", "limit: 1.2345 has more than three decimal places"),
            (f"{org},mailboxes,ten", "limit: “ten” is not a number"),
            (f"{org},db_storage,", "limit: empty"),
            (f"{org},emails_sent,99999999999999999999", "limit: 99999999999999999999 is too large"),
            (f"{org},databases,NaN", "limit: “NaN” is not a number"),
            (
                "provider,partner.example,disk_space,1",
                "domain: must be empty for the provider's limit",
            ),
            ("reseller,,disk_space,1", "domain: empty; a reseller's limit needs its domain"),
            (
                "reseller,nobody.example,disk_space,1",
                "domain: no reseller with the domain “nobody.example”",
            ),
            (f"{org},cpu_time,1", "resource: no resource with the code “cpu_time”"),
            (
                "customer,cafe-zoe.example,disk_space,1",
                "kind: “customer” is not one of provider, reseller, organization",
            ),
            (f"{org},dns_zones,1.500", None),
            (f"{org},dns_zones,2", "the same limit is also on line 13"),
        ],
    )
    result = run("limits", path)
    assert result.code == 1
    assert result.err == errors
    assert limits() == {("organization", "cafe-zoe.example", "dns_zones", Decimal("1.5"))}
