"""Tenancy management: create, change and suspend resellers and organizations, allocate
services and set limits; validation errors name the field."""

from hostmeter.tenancy.models import Organization, Reseller, ResellerLink, ResourceLimit


def test_create_reseller_under_a_parent_with_services(operations, api_world):
    response = operations.post(
        "/api/v1/resellers/",
        {
            "name": "Deep",
            "domain": "Deep.Sub.Acme.Example",
            "parent": "sub.acme.example",
            "services": ["web", "dns"],
            "contact_email": "ops@deep.example",
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response["Location"].endswith("/api/v1/resellers/deep.sub.acme.example/")
    deep = Reseller.objects.get(domain="deep.sub.acme.example")
    assert sorted(deep.services.values_list("code", flat=True)) == ["dns", "web"]
    # the tree closure follows: acme now has deep below it
    assert ResellerLink.objects.filter(ancestor=api_world.acme, descendant=deep).exists()


def test_validation_errors_name_the_field(operations, api_world):
    cases = [
        ({"name": "X", "domain": "acme.example"}, "domain"),  # taken
        ({"name": "X", "domain": "not a domain"}, "domain"),
        ({"name": "X", "domain": "x.example", "parent": "nobody.example"}, "parent"),
        ({"name": "X", "domain": "x.example", "services": ["teleport"]}, "services"),
        ({"domain": "x.example"}, "name"),
        ({"name": "X", "domain": "x.example", "contact_email": "nope"}, "contact_email"),
    ]
    for body, field in cases:
        response = operations.post("/api/v1/resellers/", body, format="json")
        assert response.status_code == 400, body
        assert field in response.data, (body, response.data)
    assert not Reseller.objects.filter(domain="x.example").exists()


def test_reseller_cannot_become_its_own_ancestor(operations, api_world):
    response = operations.patch(
        "/api/v1/resellers/acme.example/", {"parent": "sub.acme.example"}, format="json"
    )
    assert response.status_code == 400
    assert "parent" in response.data


def test_patch_changes_only_what_is_given_and_suspends(systems, api_world):
    api_world.acme.contact_name = "Ann"
    api_world.acme.save()
    response = systems.patch(
        "/api/v1/resellers/acme.example/", {"is_suspended": True, "name": "Acme 2"}, format="json"
    )
    assert response.status_code == 200, response.data
    assert (response.data["name"], response.data["is_suspended"]) == ("Acme 2", True)
    acme = Reseller.objects.get(pk=api_world.acme.pk)
    assert (acme.contact_name, acme.is_suspended) == ("Ann", True)
    assert sorted(acme.services.values_list("code", flat=True)) == ["mail", "web"]
    assert acme.children.count() == 1


def test_organization_create_move_and_suspend(operations, api_world):
    created = operations.post(
        "/api/v1/organizations/",
        {"name": "New", "domain": "new.example", "services": ["web"]},
        format="json",
    )
    assert created.status_code == 201, created.data
    assert created.data["reseller"] is None
    moved = operations.patch(
        "/api/v1/organizations/new.example/",
        {"reseller": "sub.acme.example", "is_suspended": True, "services": ["web", "ssl"]},
        format="json",
    )
    assert moved.status_code == 200, moved.data
    org = Organization.objects.get(domain="new.example")
    assert (org.reseller, org.is_suspended) == (api_world.sub, True)
    assert sorted(org.services.values_list("code", flat=True)) == ["ssl", "web"]
    bad = operations.patch(
        "/api/v1/organizations/new.example/", {"reseller": "nobody.example"}, format="json"
    )
    assert bad.status_code == 400
    assert "reseller" in bad.data


def test_set_limits(operations, api_world):
    response = operations.post(
        "/api/v1/limits/",
        {
            "kind": "organization",
            "domain": "blog.example",
            "resource": "disk_space",
            "limit": "25.5",
        },
        format="json",
    )
    assert response.status_code == 200, response.data
    assert response.data["limit"] == "25.500"
    again = operations.post(
        "/api/v1/limits/",
        {"kind": "organization", "domain": "blog.example", "resource": "disk_space", "limit": "30"},
        format="json",
    )
    assert again.data["id"] == response.data["id"]
    assert ResourceLimit.objects.get(organization=api_world.blog).limit == 30
    for body, field in [
        ({"kind": "reseller", "resource": "disk_space", "limit": "1"}, "domain"),
        (
            {"kind": "provider", "domain": "acme.example", "resource": "disk_space", "limit": "1"},
            "domain",
        ),
        ({"kind": "provider", "resource": "nope", "limit": "1"}, "resource"),
        ({"kind": "provider", "resource": "disk_space", "limit": "-1"}, "limit"),
        ({"kind": "provider", "resource": "disk_space", "limit": "1.0001"}, "limit"),
        ({"kind": "galaxy", "resource": "disk_space", "limit": "1"}, "kind"),
    ]:
        refused = operations.post("/api/v1/limits/", body, format="json")
        assert refused.status_code == 400, body
        assert field in refused.data, (body, refused.data)


def test_nul_characters_are_refused_not_crashing(operations, api_world):
    body = {"kind": "provider", "resource": "disk\x00space", "limit": "1"}
    response = operations.post("/api/v1/limits/", body, format="json")
    assert (response.status_code, list(response.data)) == (400, ["resource"])
    assert operations.get("/api/v1/organizations/?reseller=a%00b").status_code == 400
    assert operations.get("/api/v1/organizations/a%00b/").status_code == 404
