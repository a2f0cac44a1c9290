"""Collectors: measure real usage on this machine and land it as usage samples."""

from hostmeter.tenancy.models import Organization, Resource

WEB_SERVICE = "web"


class CollectorError(Exception):
    """A collector cannot run as asked (no root, a log path too long, a duplicate run)."""


class CollectorBusy(CollectorError):
    """Another run of the same collector moved its state while this one was reading."""


def organizations_by_domain() -> dict[str, tuple[int, bool]]:
    """Every organization's domain → (id, whether web hosting is enabled).

    One row per organization, not per sample: small enough to hold for a run,
    and it saves a query per folder or per distinct log host.
    """
    web = set(
        Organization.services.through.objects.filter(service__code=WEB_SERVICE).values_list(
            "organization_id", flat=True
        )
    )
    return {
        domain: (org_id, org_id in web)
        for domain, org_id in Organization.objects.values_list("domain", "id")
    }


def resource_id(code: str) -> int:
    """The catalog resource a collector feeds; the catalog migration guarantees it."""
    return Resource.objects.values_list("id", flat=True).get(code=code)
