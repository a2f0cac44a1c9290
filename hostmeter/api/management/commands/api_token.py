"""`hostmeter api_token`: create, list and revoke the API tokens of staff logins."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from hostmeter.api.models import ApiToken
from hostmeter.api.services import api_token_create, api_token_revoke
from hostmeter.ids import row_id

# The exit status for bad arguments, as the report commands use it.
USAGE = 2


class Command(BaseCommand):
    help = (
        "Manage API tokens. `create USER --name NAME [--ingest-only]` prints the new token "
        "alone on standard output (it is shown only this once); `list [USER]`; `revoke "
        "ID|PREFIX`. Exit status: 0 done, 2 unknown login or token, or bad arguments."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token for a login.")
        create.add_argument("user", help="The login's username.")
        create.add_argument("--name", required=True, help="What uses it, e.g. billing-sync.")
        create.add_argument(
            "--ingest-only",
            action="store_true",
            help="The token may only push usage samples (for a collector).",
        )
        listing = sub.add_parser("list", help="List tokens (never their secrets).")
        listing.add_argument("user", nargs="?", help="Only this login's tokens.")
        listing.add_argument("--all", action="store_true", help="Include revoked tokens.")
        revoke = sub.add_parser("revoke", help="Revoke a token for good.")
        revoke.add_argument("token", help="Its id, or its prefix (hmt_xxxxxxxx).")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _create(self, *, user, name, ingest_only, **options):
        login = _login(user)
        scope = ApiToken.Scope.INGEST if ingest_only else ApiToken.Scope.FULL
        try:
            token, secret = api_token_create(user=login, name=name, scope=scope)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages), returncode=USAGE) from exc
        self.stderr.write(
            f"Token {token.display_prefix}… “{token.name}” for {login.username} "
            f"({token.get_scope_display().lower()}). Store it now: it is not shown again."
        )
        self.stdout.write(secret)

    def _list(self, *, user=None, all=False, **options):
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "id")
        if user:
            tokens = tokens.filter(user=_login(user))
        if not all:
            tokens = tokens.filter(revoked_at__isnull=True)
        for t in tokens:
            used = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never"
            state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
            self.stdout.write(
                f"{t.pk}\t{t.display_prefix}\t{t.user.username}\t{t.scope}\t{state}\t"
                f"last used {used}\t{t.name}"
            )

    def _revoke(self, *, token, **options):
        key = token.strip()
        prefix = key.removeprefix("hmt_").split("_")[0]
        pk = row_id(key)
        match = Q(prefix=prefix) | (Q(pk=pk) if pk is not None else Q())
        found = ApiToken.objects.filter(match).first()
        if found is None:
            raise CommandError(f"No token {token}.", returncode=USAGE)
        api_token_revoke(token=found)
        self.stdout.write(f"Revoked {found.display_prefix}… “{found.name}” of {found.user}.")


def _login(username: str):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No login {username}.", returncode=USAGE)
    return user
