"""One command for a single machine: web server, task worker and scheduler."""

import os
import signal
import sys
import threading

from django.core.management.base import BaseCommand, CommandError

from hostmeter.supervise import StartupFailed, Supervisor


class Command(BaseCommand):
    help = (
        "Serve the panel with its task worker and scheduler, restarting any of them that "
        "dies; stop all three with Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument(
            "--web-threads", type=int, default=8, help="Threads per web worker. Default: 8."
        )

    def handle(self, *args, host, port, web_workers, web_threads, **options):
        hostmeter = [sys.executable, "-m", "hostmeter"]
        commands = {
            "web": [
                *[sys.executable, "-m", "gunicorn", "-c", "python:hostmeter.gunicorn_conf"],
                *["--bind", f"{host}:{port}", "--workers", str(web_workers)],
                *["--threads", str(web_threads), "--graceful-timeout", "5"],
            ],
            "worker": [
                *hostmeter,
                *["db_worker", "--queue-name", "*", "--no-reload", "--no-startup-delay"],
            ],
            "scheduler": [*hostmeter, "run_scheduler"],
        }
        stopping = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stopping.set())
        supervisor = Supervisor(commands)
        shown_host = f"[{host}]" if ":" in host else host
        self.stdout.write(
            self.style.SUCCESS(f"hostmeter is serving at http://{shown_host}:{port}/")
            + "\n  Demo logins (password hostmeter-demo): systems, operations, marketing,"
            " support, billing\n  Stop with Ctrl-C."
        )
        try:
            supervisor.run(stopping.is_set)
        except StartupFailed as exc:
            raise CommandError(f"{exc} Stopped the others.") from exc
