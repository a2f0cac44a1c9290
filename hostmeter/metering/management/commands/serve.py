"""One command for a single machine: web server, task worker and scheduler."""

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the panel with its task worker and scheduler; stop all three with Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=2)

    def handle(self, *args, host, port, web_workers, **options):
        hostmeter = [sys.executable, "-m", "hostmeter"]
        commands = {
            "web": [
                sys.executable,
                "-m",
                "gunicorn",
                "hostmeter.wsgi",
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(web_workers),
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "5",
            ],
            "worker": [
                *hostmeter,
                "db_worker",
                "--queue-name",
                "*",
                "--no-reload",
                "--no-startup-delay",
            ],
            "scheduler": [*hostmeter, "run_scheduler"],
        }
        procs = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}
        shown_host = f"[{host}]" if ":" in host else host
        self.stdout.write(
            self.style.SUCCESS(f"hostmeter is serving at http://{shown_host}:{port}/")
            + "\n  Demo logins (password hostmeter-demo): systems, operations, marketing,"
            " support, billing\n  Stop with Ctrl-C."
        )
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                if dead := [n for n, p in procs.items() if p.poll() is not None]:
                    self.stderr.write(f"The {dead[0]} process stopped; stopping the others.")
                    break
                time.sleep(0.5)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for proc in procs.values():
                try:
                    proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
        if not stopping:  # one of them died on its own
            raise SystemExit(1)
