"""Imports organizations with their reseller and services, per batch: changed ones
are saved one by one, new ones are validated and created in bulk."""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from hostmeter.readers import RowError

from ..models import Organization, Reseller, Service
from ..services import organization_save
from .rows import (
    RowRejected,
    Rows,
    TenancyImportResult,
    _batches,
    _create_in_bulk,
    _domain,
    _listed_twice,
    _reason,
    _service_codes,
    _text,
)

ORGANIZATION_COLUMNS = ("name", "domain", "reseller_domain", "services")


# ---------------------------------------------------------------- organizations


@dataclass
class _OrganizationRow:
    line: int
    name: str
    domain: str
    reseller_domain: str
    services: frozenset[str]


def tenancy_import_organizations(*, rows: Rows) -> TenancyImportResult:
    """Creates or updates organizations by domain, with their reseller and services.

    Existing organizations are changed with organization_save, one savepoint
    each; new ones are validated the same way and created in bulk per batch,
    as a first import of a customer base can hold 100,000 of them.
    """
    result = TenancyImportResult()
    catalog = {s.code: s for s in Service.objects.all()}
    seen: dict[str, int] = {}
    for batch in _batches(rows):
        parsed = []
        for line, fields in batch:
            try:
                row = _OrganizationRow(
                    line=line,
                    name=_text(fields, "name"),
                    domain=_domain(fields, "domain", required=True),
                    reseller_domain=_domain(fields, "reseller_domain"),
                    services=_service_codes(fields, catalog),
                )
                if (first := seen.setdefault(row.domain, line)) != line:
                    raise RowRejected(_listed_twice(row.domain, first))
            except RowRejected as exc:
                result.errors.append(RowError(line, str(exc)))
                continue
            parsed.append(row)
        with transaction.atomic():
            _store_organizations(parsed, catalog=catalog, result=result)
    result.errors.sort(key=lambda e: e.line)
    return result


def _store_organizations(
    rows: list[_OrganizationRow], *, catalog: Mapping[str, Service], result: TenancyImportResult
) -> None:
    existing = Organization.objects.in_bulk([r.domain for r in rows], field_name="domain")
    resellers = Reseller.objects.in_bulk(
        [r.reseller_domain for r in rows if r.reseller_domain], field_name="domain"
    )
    services = defaultdict(set)
    for org_id, code in Organization.services.through.objects.filter(
        organization__in=existing.values()
    ).values_list("organization_id", "service__code"):
        services[org_id].add(code)
    new = []
    for row in rows:
        try:
            reseller = None
            if row.reseller_domain and (reseller := resellers.get(row.reseller_domain)) is None:
                raise RowRejected(
                    f"reseller_domain: no reseller with the domain “{row.reseller_domain}”"
                )
            organization = existing.get(row.domain)
            if organization is None:
                candidate = Organization(name=row.name, domain=row.domain, reseller=reseller)
                # organization_save's checks without their queries: the reseller was
                # just looked up, and the domain is new (its unique index still guards).
                candidate.full_clean(exclude=["reseller"], validate_unique=False)
                new.append((row.line, (candidate, row.services)))
            elif (organization.name, organization.reseller_id, services[organization.pk]) == (
                row.name,
                reseller.pk if reseller else None,
                row.services,
            ):
                result.unchanged += 1
            else:
                # organization_save is atomic: inside this batch, a savepoint.
                organization_save(
                    organization=organization,
                    name=row.name,
                    domain=row.domain,
                    reseller=reseller,
                    services=row.services,
                )
                result.updated += 1
        except RowRejected as exc:
            result.errors.append(RowError(row.line, str(exc)))
        except (ValidationError, DatabaseError) as exc:
            result.errors.append(RowError(row.line, _organization_reason(exc)))

    def create_all(items: list[tuple[Organization, frozenset[str]]]) -> None:
        Organization.objects.bulk_create([organization for organization, _ in items])
        ids = dict(
            Organization.objects.filter(domain__in=[o.domain for o, _ in items]).values_list(
                "domain", "id"
            )
        )
        through = Organization.services.through
        through.objects.bulk_create(
            [
                through(organization_id=ids[organization.domain], service_id=catalog[code].pk)
                for organization, codes in items
                for code in codes
            ]
        )

    def create_one(item: tuple[Organization, frozenset[str]]) -> None:
        organization, codes = item
        organization_save(
            name=organization.name,
            domain=organization.domain,
            reseller=organization.reseller,
            services=codes,
        )

    _create_in_bulk(
        new, bulk=create_all, one=create_one, reason=_organization_reason, result=result
    )


def _organization_reason(exc: ValidationError | DatabaseError) -> str:
    return _reason(exc, {"reseller": "reseller_domain"})
