"""Imports reseller logins: a username, the reseller's domain, and a password for a new
one (an existing reseller login keeps its password unless the row gives one)."""

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from hostmeter.readers import RowError

from ..models import Reseller, ResellerLogin
from ..services import reseller_login_save
from .rows import RowRejected, Rows, TenancyImportResult, _domain, _listed_twice, _reason, _text

RESELLER_LOGIN_COLUMNS = ("username", "reseller_domain", "password", "email")


def tenancy_import_reseller_logins(*, rows: Rows) -> TenancyImportResult:
    """Creates reseller logins, or gives existing ones (by username) to the reseller named,
    one savepoint each (there are a few per reseller, not thousands). A username of a staff
    login of another level is refused: it is never made a reseller's."""
    result = TenancyImportResult()
    seen: dict[str, int] = {}
    for line, fields in rows:
        try:
            username = _text(fields, "username")
            if not username:
                raise RowRejected("username: empty")
            if (first := seen.setdefault(username, line)) != line:
                raise RowRejected(_listed_twice(username, first).replace("domain", "username"))
            domain = _domain(fields, "reseller_domain", required=True)
            reseller = Reseller.objects.filter(domain=domain).first()
            if reseller is None:
                raise RowRejected(f"reseller_domain: no reseller with the domain “{domain}”")
            password = _text(fields, "password") or None
            email = _text(fields, "email")
            with transaction.atomic():
                before = _state(username)
                login = reseller_login_save(
                    username=username, reseller=reseller, password=password, email=email
                )
        except RowRejected as exc:
            result.errors.append(RowError(line, str(exc)))
            continue
        except (ValidationError, DatabaseError) as exc:
            result.errors.append(RowError(line, _reason(exc, {})))
            continue
        if before is None:
            result.created += 1
        elif before == (login.reseller_id, login.user.email) and password is None:
            result.unchanged += 1
        else:
            result.updated += 1
    return result


def _state(username: str) -> tuple[int, str] | None:
    found = ResellerLogin.objects.filter(user__username=username).select_related("user").first()
    return None if found is None else (found.reseller_id, found.user.email)
