"""Name keys: how names are folded, and that every way of writing a name keeps its key."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Upper

from hostmeter.tenancy.models import Organization, Reseller
from hostmeter.tenancy.names import KEY_LENGTH, name_key
from hostmeter.tests.factories import OrganizationFactory, ResellerFactory


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Acme Hosting", "acme hosting"),
        ("Café Lumière", "cafe lumiere"),
        ("CAFÉ", "cafe"),
        ("Straße", "strasse"),
        ("ﬁne ²", "fine 2"),
        ("Ørsted", "orsted"),
        ("Ærø", "aero"),
        ("Łódź", "lodz"),
        ("İstanbul", "istanbul"),
        ("  Two   blanks\t", "two blanks"),
        ("東京ホスト", "東京ホスト"),
        ("\u0301\u0301", "\u0301\u0301"),  # marks alone: kept, so the key is never empty
        ("   ", "   "),  # blanks alone too
    ],
)
def test_name_key_folds_case_accents_and_blanks(name, key):
    assert name_key(name) == key


def test_name_key_fits_its_column():
    assert len(name_key("ﷺ" * 200)) == KEY_LENGTH  # one character, eighteen letters


pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_save_create_and_update_fields_keep_the_key():
    reseller = ResellerFactory(name="Émile Web")
    assert Reseller.objects.get(pk=reseller.pk).name_key == "emile web"
    reseller.name = "Zoë Net"
    reseller.save(update_fields=["name"])
    assert Reseller.objects.get(pk=reseller.pk).name_key == "zoe net"
    org = Organization.objects.create(name="Crème Shop", domain="creme.example")
    assert Organization.objects.get(pk=org.pk).name_key == "creme shop"


@pytestmark_db
def test_bulk_create_bulk_update_and_update_keep_the_key():
    Organization.objects.bulk_create(
        Organization(name=name, domain=f"o{i}.example") for i, name in enumerate(["Ärzte", "Öl"])
    )
    assert sorted(Organization.objects.values_list("name_key", flat=True)) == ["arzte", "ol"]
    orgs = list(Organization.objects.order_by("domain"))
    for org in orgs:
        org.name = org.name.upper() + " Ñ"
    Organization.objects.bulk_update(orgs, ["name"])
    assert sorted(Organization.objects.values_list("name_key", flat=True)) == ["arzte n", "ol n"]
    Organization.objects.filter(domain="o0.example").update(name="Ça Va")
    assert Organization.objects.get(domain="o0.example").name_key == "ca va"
    with pytest.raises(TypeError, match="plain name"):
        Organization.objects.update(name=Upper("name"))


@pytestmark_db
def test_full_clean_sets_the_key_before_the_check_wants_it():
    org = Organization(name="Über Shop", domain="uber.example")
    org.full_clean()
    assert org.name_key == "uber shop"


@pytestmark_db
@pytest.mark.parametrize("model", [Reseller, Organization])
def test_the_database_refuses_a_name_without_its_key(model):
    """A path that writes rows around the ORM and forgets the key fails loudly."""
    table = model._meta.db_table
    extra = ", contact_name, contact_email" if model is Reseller else ""
    values = ", '', ''" if model is Reseller else ""
    insert = (
        f"INSERT INTO {table} (name, name_key, domain, is_suspended, created_at{extra}) "
        f"VALUES (%s, %s, %s, %s, %s{values})"
    )
    with connection.cursor() as cursor:  # the same row with its key goes in
        cursor.execute(insert, ["Keyed", "keyed", "keyed.example", False, "2026-01-01"])
    with (
        pytest.raises(IntegrityError, match=f"{table}_name_key_set"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(insert, ["Forgot Key", "", "forgot.example", False, "2026-01-01"])


@pytestmark_db
def test_update_fields_of_any_kind_keep_the_key():
    reseller = ResellerFactory(name="Old")
    reseller.name, reseller.is_suspended = "Nœud", True
    reseller.save(update_fields=(f for f in ["is_suspended", "name"]))  # a generator
    reseller.refresh_from_db()
    assert (reseller.name, reseller.name_key, reseller.is_suspended) == ("Nœud", "noeud", True)
    reseller.is_suspended = False
    reseller.save(update_fields=("is_suspended",))  # a tuple without the name
    reseller.refresh_from_db()
    assert (reseller.name_key, reseller.is_suspended) == ("noeud", False)


@pytestmark_db
def test_an_upsert_of_the_name_updates_the_key():
    ResellerFactory(name="Before", domain="upsert.example")
    Reseller.objects.bulk_create(
        [Reseller(name="Après", domain="upsert.example")],
        update_conflicts=True,
        unique_fields=["domain"],
        update_fields=["name"],
    )
    assert Reseller.objects.get(domain="upsert.example").name_key == "apres"


@pytestmark_db
def test_the_admin_search_folds_the_term_too(admin_client):
    ResellerFactory(name="Café Lumière", domain="lumiere.example")
    ResellerFactory(name="Plain Web", domain="plain.example")
    response = admin_client.get("/admin/tenancy/reseller/", {"q": "CAFE"})
    assert response.status_code == 200
    assert [r.name for r in response.context["cl"].result_list] == ["Café Lumière"]
    response = admin_client.get("/admin/tenancy/reseller/", {"q": "plain.EXAMPLE"})
    assert [r.name for r in response.context["cl"].result_list] == ["Plain Web"]


@pytestmark_db
def test_the_migration_fills_every_key(monkeypatch):
    migration = importlib.import_module("hostmeter.tenancy.migrations.0005_name_key")
    monkeypatch.setattr(migration, "BATCH", 2)  # more than one batch
    for name in ("Façade", "Œil", "Zoë", "Ärzte", "Ñandú"):
        OrganizationFactory(name=name)
    ResellerFactory(name="Ærø Net")
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Reseller._meta.db_table} SET name_key = 'stale'")
        cursor.execute(f"UPDATE {Organization._meta.db_table} SET name_key = 'stale'")
    migration.fill(apps, SimpleNamespace(connection=connection))
    assert sorted(Organization.objects.values_list("name_key", flat=True)) == [
        "arzte",
        "facade",
        "nandu",
        "oeil",
        "zoe",
    ]
    assert list(Reseller.objects.values_list("name_key", flat=True)) == ["aero net"]
