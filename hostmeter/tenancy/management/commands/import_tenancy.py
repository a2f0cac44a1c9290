"""Import resellers, organizations, limits or reseller logins from a CSV or JSON lines
file."""

from django.core.management.base import BaseCommand, CommandError

from hostmeter.progress import progress_rows
from hostmeter.readers import Format, ImportFileError, open_rows
from hostmeter.tenancy.importers import (
    LIMIT_COLUMNS,
    ORGANIZATION_COLUMNS,
    RESELLER_COLUMNS,
    RESELLER_LOGIN_COLUMNS,
    tenancy_import_limits,
    tenancy_import_organizations,
    tenancy_import_reseller_logins,
    tenancy_import_resellers,
)

KINDS = {
    "resellers": (RESELLER_COLUMNS, tenancy_import_resellers),
    "organizations": (ORGANIZATION_COLUMNS, tenancy_import_organizations),
    "limits": (LIMIT_COLUMNS, tenancy_import_limits),
    "reseller-logins": (RESELLER_LOGIN_COLUMNS, tenancy_import_reseller_logins),
}


class Command(BaseCommand):
    help = (
        "Create or update (by domain; logins by username) resellers, organizations, limits "
        "or reseller logins from a CSV file with a header row, or JSON lines with the same "
        "keys; '-' reads standard input. resellers: name, domain, parent_domain, services. "
        "organizations: name, domain, reseller_domain, services. limits: kind (provider, "
        "reseller, organization), domain, resource, limit. reseller-logins: username, "
        "reseller_domain, password (a new login's; an existing one keeps its own unless "
        "given), email. Exit status: 0 every row imported, 1 some bad rows (the others are "
        "stored), 2 the file cannot be read (nothing is stored)."
    )
    # Tests hand in standard input this way.
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(KINDS))
        parser.add_argument("file", metavar="FILE", help="A file, or - for stdin.")
        parser.add_argument(
            "--format",
            choices=[f.value for f in Format],
            help="csv or jsonl; default: from the file's extension, else from its first line.",
        )

    def handle(self, *args, kind, file, format=None, verbosity=1, **options):
        columns, importer = KINDS[kind]
        try:
            with open_rows(
                file, columns=columns, format=format, stdin=options.get("stdin")
            ) as rows:
                if rows.ignored_columns:
                    self.stderr.write(
                        f"{rows.name}: ignoring the unknown column(s) "
                        f"{', '.join(rows.ignored_columns)}"
                    )
                result = importer(rows=progress_rows(rows, desc=f"{kind} from {file}"))
        except ImportFileError as exc:
            raise CommandError(f"{exc}\nNothing was imported.", returncode=2) from None
        errors = sorted(rows.errors + result.errors, key=lambda e: e.line)
        bad = f"{len(errors)} bad row{'' if len(errors) == 1 else 's'}"
        if verbosity:
            self.stdout.write(
                f"{rows.name}: {result.received + len(rows.errors)} received, "
                f"{result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged, {bad}"
            )
        for error in errors:
            self.stderr.write(f"{rows.name}:{error.line}: {error.reason}")
        if errors:
            raise CommandError(
                f"{bad} not imported (listed above); the other rows were.", returncode=1
            )
