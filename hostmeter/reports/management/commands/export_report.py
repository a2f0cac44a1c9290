"""`hostmeter export_report`: write the newest Ready file of a report's subject."""

from django.core.management.base import BaseCommand, CommandError

from hostmeter.metering.models import UsageUpdate
from hostmeter.metering.selectors.updates import usage_update_latest
from hostmeter.reports import cli
from hostmeter.reports.models import Report


class Command(BaseCommand):
    help = (
        "Write the newest Ready report file of a subject (summary, resellers, organizations, "
        "reseller DOMAIN, organization DOMAIN) to --output. By default the newest Ready one "
        "of any update (a warning says when it is not the most recent update's); --period "
        "YYYY-MM picks a billing period's (a closed one's totals, or the current one's to "
        "date), --update ID one update. Exit status: 0 written; 2 bad arguments, unknown "
        "subject or period; 4 no Ready file (generate one with `hostmeter generate_report`)."
    )

    def add_arguments(self, parser):
        cli.add_subject_arguments(parser)
        parser.add_argument(
            "--output", metavar="PATH", required=True, help="Write the file here (- : stdout)."
        )
        parser.add_argument("--update", type=int, help="A usage update's id.")
        cli.add_period_argument(parser, default="the newest Ready file of any update")

    def handle(self, *args, kind, domain, format, output, update=None, period=None, **options):
        subject = cli.subject_from(kind, domain)
        if period and update is not None:
            raise CommandError("Give --period or --update, not both.", returncode=cli.USAGE)
        holder = {}
        if kind == Report.Kind.RESELLER:
            holder = {"reseller": subject}
        elif kind == Report.Kind.ORGANIZATION:
            holder = {"organization": subject}
        reports = Report.objects.filter(kind=kind, format=format, **holder).select_related(
            "update", "reseller", "organization"
        )
        if update is not None:
            if not UsageUpdate.objects.filter(pk=update).exists():
                raise CommandError(f"No usage update {update}.", returncode=cli.USAGE)
            reports = reports.filter(update_id=update)
        elif period:
            reports = reports.filter(update=cli.period_update(period))
        ready = (
            reports.filter(status=Report.Status.READY)
            .order_by("-update__cutoff", "-generated_at")
            .first()
        )
        if ready is None:
            current = reports.order_by("-update__cutoff").first()
            state = f"it is {current.get_status_display()}" if current else "none was generated"
            raise CommandError(
                f"No Ready {format} file of this report ({state}). Generate it with "
                "`hostmeter generate_report`.",
                returncode=cli.NOT_READY,
            )
        latest = usage_update_latest()
        if update is None and not period and latest and ready.update_id != latest.pk:
            self.stderr.write(
                self.style.WARNING(
                    f"This file is from an earlier update ({cli.update_label(ready.update)}); "
                    f"the most recent is {cli.update_label(latest)}."
                )
            )
        written = cli.write_file(ready, output, self.stdout)
        self.stderr.write(
            f"{cli.subject_label(ready)} report, {cli.update_label(ready.update)}: wrote {written}."
        )
