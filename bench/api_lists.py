"""API list pages at a million organizations: time of a first and of the next keyset pages.

Ad hoc, not run by `make bench` (too slow to build for every run; docs/benchmarks.md):
    .venv/bin/python -m bench.api_lists                       # SQLite in /tmp/api1m
    .venv/bin/python -m bench.api_lists postgres://postgres@127.0.0.1:5432/hm_api1m
(the PostgreSQL database must exist and be empty).
"""

import os
import statistics
import sys
import time

ORGS = 1_000_000
RESELLERS = 1_000
PAGES = 20
URLS = [
    "/api/v1/organizations/?page_size=100",
    "/api/v1/organizations/?page_size=100&ordering=-name",
    "/api/v1/organizations/?reseller=r7.example",
    "/api/v1/resellers/?page_size=100",
]


def setup() -> None:
    os.environ.setdefault("HOSTMETER_DATA_DIR", "/tmp/api1m")
    if len(sys.argv) > 1:
        os.environ["HOSTMETER_DATABASE_URL"] = sys.argv[1]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hostmeter.settings")
    from hostmeter.__main__ import data_dir_prepare

    data_dir_prepare()  # the settings no longer create the data directory (the SQLite file's)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)


def generate() -> None:
    from django.db import connection, transaction

    from hostmeter.tenancy.models import Organization, Reseller
    from hostmeter.tenancy.names import name_key
    from hostmeter.tenancy.services import reseller_links_rebuild

    if Organization.objects.count() >= ORGS:
        return
    started = time.time()
    insert = (
        "INSERT INTO tenancy_organization (name, name_key, domain, reseller_id, is_suspended, "
        "created_at) VALUES (%s, %s, %s, %s, %s, %s)"
    )
    with transaction.atomic():
        Reseller.objects.bulk_create(
            Reseller(name=f"Reseller {i:04}", domain=f"r{i}.example") for i in range(RESELLERS)
        )
        ids = list(Reseller.objects.values_list("pk", flat=True))
        with connection.cursor() as cursor:
            batch = []
            for i in range(ORGS):
                owner = ids[i % RESELLERS] if i % 10 else None
                name = f"Org {i:07}"
                batch.append((name, name_key(name), f"o{i}.example", owner, False, "2026-01-01"))
                if len(batch) == 20_000:
                    cursor.executemany(insert, batch)
                    batch = []
    reseller_links_rebuild()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"generated {ORGS:,} organizations in {time.time() - started:.1f} s")


def measure() -> None:
    from django.test import Client

    from hostmeter.accounts.services import user_save

    client = Client()
    client.force_login(user_save(username="m", password="bench-pass-1", login_level="marketing"))
    for url in URLS:
        times = []
        for _ in range(10):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        link, pages, started = response.json().get("next"), 0, time.perf_counter()
        while link and pages < PAGES:
            response = client.get(link)
            link, pages = response.json().get("next"), pages + 1
        each = (time.perf_counter() - started) * 1000 / max(pages, 1)
        print(
            f"{url}: first page median {statistics.median(times):.1f} ms, "
            f"next {pages} pages {each:.1f} ms each"
        )


if __name__ == "__main__":
    setup()
    generate()
    measure()
