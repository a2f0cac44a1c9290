"""Load believable demo data (provider, resellers, organizations, logins, usage history)."""

from django.core.management.base import BaseCommand, CommandError

from hostmeter.metering.demo import DEMO_PASSWORD, DemoDataExists, DemoLoadError, demo_load


class Command(BaseCommand):
    help = (
        "Load demo data into an empty database: a provider, nested resellers, organizations, "
        "a login per level and daily usage updates. Never mixes into existing data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--resellers", type=int, default=25, help="Default: 25.")
        parser.add_argument("--organizations", type=int, default=400, help="Default: 400.")
        parser.add_argument(
            "--days",
            type=int,
            default=70,
            help="Days of usage history, ending today. Default: 70, which always spans two "
            "closed billing periods.",
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="The same seed gives the same data. Default: 1."
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (instead of failing) when the database already has data.",
        )
        parser.add_argument(
            "--password",
            default=DEMO_PASSWORD,
            help=f"Password of the demo logins. Default: {DEMO_PASSWORD}.",
        )

    def handle(self, *args, **options):
        verbose = options["verbosity"] >= 1
        try:
            summary = demo_load(
                resellers=options["resellers"],
                organizations=options["organizations"],
                days=options["days"],
                seed=options["seed"],
                password=options["password"],
                if_empty=options["if_empty"],
                progress=self.stdout.write if verbose else None,
            )
        except DemoDataExists as exc:
            raise CommandError(f"{exc} Use --if-empty to skip loading without an error.") from exc
        except (DemoLoadError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if not summary.loaded:
            self.stdout.write(summary.message)
            return
        first, *rest = summary.lines()
        self.stdout.write(self.style.SUCCESS(first))
        for line in rest:
            self.stdout.write(line)
