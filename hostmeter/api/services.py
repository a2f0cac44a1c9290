"""API tokens: create, revoke and check them (the domain apps' endpoints call their own
services)."""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from hostmeter.accounts.models import User

from .models import TOKEN_MARK, ApiToken


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(
    *, user: User, name: str, scope: str = ApiToken.Scope.FULL, created_by: User | None = None
) -> tuple[ApiToken, str]:
    """Creates a token for the login; returns it with its secret text, which is not kept
    anywhere and cannot be shown again."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name (what uses it)."})
    if scope not in ApiToken.Scope.values:
        raise ValidationError({"scope": f"“{scope}” is not full or ingest."})
    if not user.is_active:
        raise ValidationError({"user": f"The login {user.username} is not active."})
    for _ in range(5):  # an 8-hex-digit prefix collides rarely; try again when it does
        prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
        raw = f"{TOKEN_MARK}_{prefix}_{secret}"
        token = ApiToken(
            user=user,
            name=name[:100],
            prefix=prefix,
            key_hash=_hash(raw),
            scope=scope,
            created_by=created_by,
        )
        try:
            with transaction.atomic():
                token.save()
        except IntegrityError:
            continue
        return token, raw
    raise RuntimeError("Could not find a free token prefix.")


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revokes the token for good (it is kept, revoked, for the record)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_check(raw: str, *, now: datetime | None = None) -> ApiToken | None:
    """The active token with this text, or None; notes when it was last used.

    The lookup is by the public prefix; the hashes are compared in constant time, so
    the response time tells nothing about how much of a guess was right.
    """
    mark, _, rest = raw.strip().partition("_")
    prefix, _, secret = rest.partition("_")
    if mark != TOKEN_MARK or not prefix or not secret:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.key_hash, _hash(raw.strip())):
        return None
    now = now or timezone.now()
    every = timedelta(seconds=settings.HOSTMETER_API["TOKEN_TOUCH_SECONDS"])
    # At most one write a minute per token: a collector posting batches in a loop
    # must not turn every request into an extra UPDATE (and an SQLite write lock).
    if token.last_used_at is None or now - token.last_used_at >= every:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
