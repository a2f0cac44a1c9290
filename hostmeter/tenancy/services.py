"""Functions that change the customer base: resellers, organizations, limits."""

from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from hostmeter.accounts.levels import LoginLevel
from hostmeter.accounts.models import User
from hostmeter.accounts.services import user_save

from .models import (
    Organization,
    Reseller,
    ResellerLink,
    ResellerLogin,
    Resource,
    ResourceLimit,
    Service,
)


def reseller_links_rebuild() -> int:
    """Rewrites the closure of the reseller tree; returns the number of links.

    The tree holds thousands of resellers, not millions, so walking it in
    memory is cheap and keeps the SQL the same on SQLite and PostgreSQL.
    """
    parents = dict(Reseller.objects.values_list("id", "parent_id"))
    links = []
    for reseller_id in parents:
        depth, seen = 0, set[int]()
        ancestor: int | None = reseller_id
        while ancestor is not None and ancestor not in seen:
            seen.add(ancestor)
            links.append(ResellerLink(ancestor_id=ancestor, descendant_id=reseller_id, depth=depth))
            ancestor, depth = parents.get(ancestor), depth + 1
    with transaction.atomic():
        ResellerLink.objects.all().delete()
        ResellerLink.objects.bulk_create(links, batch_size=5000)
    return len(links)


def _set_services(obj: Reseller | Organization, services: Iterable[str] | None) -> None:
    if services is None:
        return
    codes = set(services)
    found = list(Service.objects.filter(code__in=codes))
    if unknown := codes - {s.code for s in found}:
        raise ValidationError(
            {"services": f"Unknown service code(s): {', '.join(sorted(unknown))}"}
        )
    obj.services.set(found)


@transaction.atomic
def reseller_save(
    *,
    reseller: Reseller | None = None,
    name: str,
    domain: str,
    parent: Reseller | None = None,
    services: Iterable[str] | None = None,
    contact_name: str | None = None,
    contact_email: str | None = None,
) -> Reseller:
    """Creates a reseller, or updates the one given (contact details left out stay as
    they are); keeps the tree closure current."""
    reseller = reseller or Reseller()
    old_parent = reseller.parent_id if reseller.pk else object()
    reseller.name, reseller.domain, reseller.parent = name, domain, parent
    if contact_name is not None:
        reseller.contact_name = contact_name
    if contact_email is not None:
        reseller.contact_email = contact_email
    reseller.full_clean()
    reseller.save()
    _set_services(reseller, services)
    if reseller.parent_id != old_parent:
        reseller_links_rebuild()
    return reseller


@transaction.atomic
def organization_save(
    *,
    organization: Organization | None = None,
    name: str,
    domain: str,
    reseller: Reseller | None = None,
    services: Iterable[str] | None = None,
) -> Organization:
    """Creates an organization, or updates the one given."""
    organization = organization or Organization()
    organization.name, organization.domain, organization.reseller = name, domain, reseller
    organization.full_clean()
    organization.save()
    _set_services(organization, services)
    return organization


def limit_set(
    *,
    resource: Resource,
    limit: Decimal,
    reseller: Reseller | None = None,
    organization: Organization | None = None,
) -> ResourceLimit:
    """Sets the provider's (neither holder given), a reseller's or an organization's limit."""
    obj = ResourceLimit.objects.filter(
        resource=resource, reseller=reseller, organization=organization
    ).first() or ResourceLimit(resource=resource, reseller=reseller, organization=organization)
    obj.limit = limit
    obj.full_clean(validate_constraints=False)
    obj.save()
    return obj


def tenancy_suspend_set(*, subject: Reseller | Organization, suspended: bool) -> None:
    """Suspends (or resumes) a reseller or an organization."""
    if subject.is_suspended != suspended:
        subject.is_suspended = suspended
        subject.save(update_fields=["is_suspended"])


def reseller_login_validate(*, username: str, password: str | None) -> User | None:
    """The reseller login with this username (None: a new one), after checking that the
    username is not a staff login of another level and that the password (needed for a
    new login) passes the password validators. Raises ValidationError."""
    user = User.objects.filter(username=username).first()
    if user is not None and user.login_level != LoginLevel.RESELLER:
        # made a reseller's, a staff login would lose what it may see; and the other way
        # round a reseller would gain everything
        raise ValidationError(
            {"username": f"“{username}” is a staff login, not a reseller's: choose another."}
        )
    if user is None and not password:
        raise ValidationError({"password": "A new login needs a password."})
    if password:
        try:
            # a new login is compared with its username too
            validate_password(password, user=user or User(username=username))
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
    return user


@transaction.atomic
def reseller_login_save(
    *, username: str, reseller: Reseller, password: str | None = None, email: str = ""
) -> ResellerLogin:
    """Creates a login for the reseller (login level Reseller), or gives the reseller login
    with that username to this reseller (and a new password, when one is given)."""
    reseller_login_validate(username=username, password=password)
    user = user_save(
        username=username, password=password or None, login_level=LoginLevel.RESELLER, email=email
    )
    login, _ = ResellerLogin.objects.update_or_create(user=user, defaults={"reseller": reseller})
    return login
