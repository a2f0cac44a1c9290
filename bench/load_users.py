"""The simulated staff of bench.load: locust users signing in and browsing a running panel.

    python -m bench.load_users PLAN.json   (bench.load runs it; prints JSON on its last line)

A process of its own because importing locust patches the standard library for gevent
(sockets, threads, time), which the rest of the benchmark must not run under. Here
locust is a library: an Environment, a local runner and the request event, no web UI.
"""

import html
import json
import os
import random
import re
import sys
import time
from itertools import count

# Importing locust patches the standard library for gevent (patch_all); the modules above
# start no thread and open no socket, so being imported before it is harmless.
import gevent
import gevent.event
import locust
from locust import FastHttpUser, between, constant, task
from locust.env import Environment

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
POLLER = re.compile(r'id="status-poller" hx-get="([^"]+)"')
ROW_IDS = re.compile(r'name="selected" value="(\d+)"')
WHOLE_POLLING = re.compile(r'id="whole-reports"[^>]*hx-trigger="every 2s"')
HTMX = {"HX-Request": "true"}
ROLES = ((b"gunicorn", "web"), (b"db_worker", "worker"), (b"run_scheduler", "scheduler"))
RESELLER_SORTS = ("name", "domain", "services", "status", "updated")
ORGANIZATION_SORTS = (*RESELLER_SORTS, "reseller")
SEARCHES = {
    "resellers": ("cloud", "acme", "hosting", "nova", "metro 12"),
    "organizations": ("bakery", "garage", "zenith", "studio 7", "café"),
}


def cpu_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine so far (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cpu_by_owner(panel_session: int) -> dict[str, float]:
    """CPU seconds used so far by the panel's web server, task worker and scheduler (the
    processes of serve's session, by command line), the PostgreSQL server (every
    process, and through the postmaster's children's times the backends that ended: a
    connection per request is a backend per request), this locust process, and the
    whole machine (/proc/<pid>/stat, /proc/stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"web": 0.0, "worker": 0.0, "scheduler": 0.0, "postgres": 0.0, "locust": 0.0}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        # after "pid (comm)": state ppid pgrp session tty_nr tpgid flags minflt cminflt
        # majflt cmajflt utime stime cutime cstime
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if int(entry.name) == os.getpid():
            used["locust"] += seconds
        elif int(fields[3]) == panel_session:
            role = next((r for k, r in ROLES if k in cmd), "web")  # serve itself: ~0
            used[role] += seconds
        elif cmd.startswith(b"postgres: "):
            used["postgres"] += seconds
        elif cmd.split(b"\0")[0].endswith(b"/bin/postgres"):  # the postmaster
            used["postgres"] += seconds + (int(fields[13]) + int(fields[14])) / tick
    used["machine"] = cpu_busy()[0] / tick
    return used


def swarm(plan: dict) -> dict:
    """Runs the users against plan["host"]; returns every request of the measured window."""
    logins = iter(plan["logins"])
    signed_in = count(1)
    state = {"signed_in": 0, "recording": False, "window_start": 0.0}
    window_open = gevent.event.Event()
    samples: list[list] = []  # [name, start (s after the window opened), ms, error or ""]
    sign_ins: list[list] = []
    reporter_log: dict = {"requested": {}, "ready_seen": None}

    class Browser(FastHttpUser):
        """A staff member's browser: signs in through the form, asks for pages."""

        abstract = True
        username = ""

        def sign_in(self):
            page = self.client.get("/login/", name="sign-in page", allow_redirects=False)
            token = CSRF.search(page.text or "")
            with self.client.post(
                "/login/",
                data={
                    "csrfmiddlewaretoken": token.group(1) if token else "",
                    "username": self.username,
                    "password": plan["password"],
                    "next": "",
                },
                name="sign in",
                allow_redirects=False,
                catch_response=True,
            ) as response:
                if response.status_code != 302 or "/login/" in response.headers.get(
                    "Location", "/login/"
                ):
                    response.failure(f"sign-in of {self.username}: {response.status_code}")
                else:
                    state["signed_in"] = next(signed_in)

        def page(self, url: str, name: str, *, fragment: bool = False) -> str:
            """GET url; anything but 200 (a redirect to the sign-in page too) fails."""
            with self.client.get(
                url,
                name=name,
                allow_redirects=False,
                headers=HTMX if fragment else None,
                catch_response=True,
            ) as response:
                if response.status_code != 200:
                    response.failure(f"{response.status_code}")
                return response.text or ""

        def usage_list(self, tab: str, query: str, name: str) -> None:
            """A list page, then what the browser asks for on its own: the action bar
            (htmx, on load) — and remember the status poller's URL, if any."""
            path = f"/reports/usage/{tab}/"
            text = self.page(path + query, name)
            self.page(f"{path}action-bar/", "action bar (on load)", fragment=True)
            found = POLLER.search(text)
            self.poll_url = html.unescape(found.group(1)) if found else None
            self.row_ids = [int(i) for i in ROW_IDS.findall(text)]
            self.list_tab = tab

    class Staff(Browser):
        """A Systems, Operations or Marketing login browsing the Usage pages."""

        wait_time = between(plan["think_min"], plan["think_max"])

        def on_start(self):
            self.username = next(logins)
            self.poll_url = None
            self.row_ids: list[int] = []
            self.list_tab = "resellers"
            self.sign_in()

        @task(3)
        def summary(self):
            self.page("/reports/usage/", "summary")

        @task(4)
        def reseller_list(self):
            self.usage_list("resellers", "", "reseller usage, page 1")

        @task(2)
        def reseller_list_page(self):
            n = random.randint(2, plan["reseller_pages"])
            self.usage_list("resellers", f"?page={n}", "reseller usage, page n")

        @task(2)
        def reseller_list_sorted(self):
            sort = random.choice(["", "-"]) + random.choice(RESELLER_SORTS)
            self.usage_list("resellers", f"?sort={sort}", "reseller usage, sorted")

        @task(1)
        def reseller_search(self):
            q = random.choice(SEARCHES["resellers"]).replace(" ", "+")
            self.usage_list("resellers", f"?q={q}", "reseller usage, search")

        @task(3)
        def organization_list(self):
            self.usage_list("organizations", "", "organization site usage, page 1")

        @task(1)
        def organization_list_page(self):
            n = random.randint(2, plan["organization_pages"])
            self.usage_list("organizations", f"?page={n}", "organization site usage, page n")

        @task(1)
        def organization_list_sorted(self):
            sort = random.choice(["", "-"]) + random.choice(ORGANIZATION_SORTS)
            self.usage_list("organizations", f"?sort={sort}", "organization site usage, sorted")

        @task(1)
        def organization_search(self):
            q = random.choice(SEARCHES["organizations"]).replace(" ", "+")
            self.usage_list("organizations", f"?q={q}", "organization site usage, search")

        @task(1)
        def organization_list_of_reseller(self):
            pk = random.choice(plan["big_resellers"])
            self.usage_list(
                "organizations", f"?reseller={pk}", "organization site usage, one reseller"
            )

        @task(3)
        def reseller_overview(self):
            pk = random.choice(plan["big_resellers"] + [random.randint(1, plan["resellers"])])
            self.page(f"/reports/usage/resellers/{pk}/", "reseller overview")

        @task(3)
        def organization_overview(self):
            pk = random.randint(1, plan["organizations"])
            self.page(f"/reports/usage/organizations/{pk}/", "organization overview")

        @task(2)
        def select_rows(self):
            """Ticking boxes on the list last shown: htmx asks for the action bar."""
            if not self.row_ids:
                return self.reseller_list()
            picked = random.sample(self.row_ids, min(len(self.row_ids), random.randint(1, 5)))
            query = "&".join(f"selected={i}" for i in picked)
            self.page(
                f"/reports/usage/{self.list_tab}/action-bar/?{query}",
                "action bar (selection)",
                fragment=True,
            )

        @task(3)
        def report_status_poll(self):
            """The list's status poller (every 2 s in the browser while rows are busy)."""
            if self.poll_url:
                self.page(self.poll_url, "report-status poll", fragment=True)

        @task(1)
        def export_tab(self):
            self.page("/reports/usage/export/", "export reports tab")

    class Reporter(Browser):
        """A Systems login that, once the window opens, generates the organizations
        report(s) on the export tab and watches the tab (htmx polls it every 2 s) until
        none is in progress; on the export tab the rest of the time."""

        fixed_count = 1
        wait_time = constant(2)

        def on_start(self):
            self.username = plan["reporter"]
            self.sign_in()
            self.requested = False

        @task
        def act(self):
            ready_seen = reporter_log["ready_seen"]
            if not self.requested and window_open.is_set():
                wait = state["window_start"] + plan["report_at"] - time.time()
                if wait <= 0:
                    for fmt in plan["report_formats"]:
                        self.generate(fmt)
                    self.requested = True
                    return
            text = self.page(
                "/reports/usage/export/",
                "export reports tab (watching)" if self.requested else "export reports tab",
                fragment=self.requested,
            )
            if self.requested and ready_seen is None and not WHOLE_POLLING.search(text):
                reporter_log["ready_seen"] = time.time() - state["window_start"]

        def generate(self, fmt: str):
            text = self.page("/reports/usage/export/", "export reports tab")
            token = CSRF.search(text)
            reporter_log["requested"][fmt] = time.time() - state["window_start"]
            with self.client.post(
                "/reports/usage/export/generate/",
                data={
                    "csrfmiddlewaretoken": token.group(1) if token else "",
                    "kind": "organizations",
                    "format": fmt,
                },
                name="generate report",
                allow_redirects=False,
                catch_response=True,
            ) as response:
                if response.status_code != 303:
                    response.failure(f"{response.status_code}")

    env = Environment(user_classes=[Staff, Reporter], host=plan["host"], events=locust.events)

    def on_request(name, response_time, exception, start_time, **_):
        error = "" if exception is None else str(exception)[:200]
        if name in ("sign-in page", "sign in"):
            sign_ins.append([name, start_time, response_time, error])
        elif state["recording"]:
            samples.append([name, start_time - state["window_start"], response_time, error])

    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    users, started = plan["users"], time.time()
    runner.start(users, spawn_rate=users / plan["ramp"])
    deadline = started + plan["ramp"] + plan["sign_in_timeout"]
    while state["signed_in"] < users and time.time() < deadline:
        gevent.sleep(0.2)
    ready = time.time()
    gevent.sleep(plan["settle"])
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[0]  # the 1-minute load average, users running
    busy0, own0 = cpu_busy(), cpu_by_owner(plan["panel_session"])
    state["window_start"] = time.time()
    state["recording"] = True
    window_open.set()
    gevent.sleep(plan["duration"])
    state["recording"] = False
    busy1, own1 = cpu_busy(), cpu_by_owner(plan["panel_session"])
    window_end = time.time()
    runner.quit()
    return {
        "samples": samples,
        "sign_ins": sign_ins,
        "signed_in": state["signed_in"],
        "users": users,
        "sign_in_s": ready - started,
        "window_start": state["window_start"],
        "window_end": window_end,
        "cpu_busy": (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]),
        "load_before": load_before,
        # processes that ended inside the window are missing from these
        "cpu_s": {k: own1[k] - own0[k] for k in own0},
        "cores": os.cpu_count(),
        "reporter": reporter_log,
        "exceptions": [str(e["msg"])[:300] for e in runner.exceptions.values()],
    }


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        result = swarm(json.load(f))
    print(json.dumps(result))
