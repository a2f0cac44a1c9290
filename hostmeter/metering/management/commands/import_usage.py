"""Import usage samples from CSV or JSON lines files."""

from contextlib import ExitStack
from functools import partial

from django.core.management.base import BaseCommand, CommandError

from hostmeter.metering.models import UsageSample
from hostmeter.metering.services.samples import usage_samples_ingest
from hostmeter.progress import progress_rows
from hostmeter.readers import STDIN, Format, ImportFileError, RowError, RowReader, open_rows

COLUMNS = ("organization", "resource", "measured_at", "value")
OPTIONAL = ("source",)
# The same for every run, so that importing a file again stores nothing twice.
DEFAULT_SOURCE = "import"


class Command(BaseCommand):
    help = (
        "Import usage samples from CSV (header: organization, resource, measured_at, value, "
        "optionally source) or JSON lines files with the same keys; '-' reads standard input. "
        "Exit status: 0 all rows stored or already stored, 1 some bad rows (the others are "
        "stored), 2 a file cannot be read (nothing is stored)."
    )
    # Tests hand in standard input this way.
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="A file, or - for stdin.")
        parser.add_argument(
            "--format",
            choices=[f.value for f in Format],
            help="csv or jsonl; default: from the file's extension, else from its first line.",
        )
        parser.add_argument(
            "--source",
            default=DEFAULT_SOURCE,
            help=f"Source of rows that name none (default: “{DEFAULT_SOURCE}”).",
        )

    def handle(self, *args, files, format=None, source=DEFAULT_SOURCE, verbosity=1, **options):
        max_source = UsageSample._meta.get_field("source").max_length
        if len(source) > max_source:
            raise CommandError(f"--source is longer than {max_source} characters.", returncode=2)
        if files.count(STDIN) > 1:
            raise CommandError("Standard input (-) can be read only once.", returncode=2)
        opener = partial(open_rows, columns=COLUMNS, optional=OPTIONAL, format=format)
        bad = unreadable = 0
        with ExitStack() as stack:
            # Every file is checked before any is stored. Standard input cannot be
            # read twice, so its checked reader is kept open for the import.
            stdin_reader, problems = None, []
            for path in files:
                try:
                    if path == STDIN:
                        stdin_reader = stack.enter_context(opener(path, stdin=options.get("stdin")))
                    else:
                        with opener(path):
                            pass
                except ImportFileError as exc:
                    problems.append(str(exc))
            if problems:
                raise CommandError("\n".join([*problems, "Nothing was imported."]), returncode=2)
            for path in files:
                try:
                    if path == STDIN:
                        bad += self._import(stdin_reader, source=source, verbosity=verbosity)
                    else:
                        with opener(path) as reader:
                            bad += self._import(reader, source=source, verbosity=verbosity)
                except ImportFileError as exc:  # it changed since it was checked
                    self.stderr.write(str(exc))
                    unreadable += 1
        if unreadable:
            raise CommandError(f"{unreadable} file(s) could not be read.", returncode=2)
        if bad:
            raise CommandError(
                f"{_bad_rows(bad)} not stored (listed above); the other rows were.", returncode=1
            )

    def _import(self, reader: RowReader, *, source: str, verbosity: int) -> int:
        """Imports one file; writes its summary and bad rows, returns how many were bad."""
        if reader.ignored_columns:
            self.stderr.write(
                f"{reader.name}: ignoring the unknown column(s) {', '.join(reader.ignored_columns)}"
            )
        result = usage_samples_ingest(
            rows=progress_rows(reader, desc=reader.name), default_source=source
        )
        errors: list[RowError] = sorted(reader.errors + result.errors, key=lambda e: e.line)
        received = result.received + len(reader.errors)
        if verbosity:
            self.stdout.write(
                f"{reader.name}: {received} received, {result.stored} stored new, "
                f"{result.duplicates} already stored, {_bad_rows(len(errors))}"
            )
            if result.late:
                self.stdout.write(
                    f"{reader.name}: {result.late} of the stored were measured at or before "
                    f"the latest usage update (as of {result.late_before:%Y-%m-%d %H:%M %Z}): "
                    "the next update counts them as late"
                )
        for error in errors:
            self.stderr.write(f"{reader.name}:{error.line}: {error.reason}")
        return len(errors)


def _bad_rows(count: int) -> str:
    return f"{count} bad row{'' if count == 1 else 's'}"
