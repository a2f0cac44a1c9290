"""`hostmeter serve` for real, on a free loopback port and a SQLite database of its own:
a worker killed (SIGKILL) mid-report and mid-update is restarted while the panel keeps
answering, and both jobs recover; slow clients do not take the panel down; a cut-off
request body is refused; SIGTERM stops everything.

Every wait is bounded, and every process started here is killed at the end (serve runs
in a session of its own, so its whole process group goes)."""

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.slow

HOSTMETER = [sys.executable, "-m", "hostmeter"]
PASSWORD = "hostmeter-demo"
REPORT_PAUSE = 2  # s the worker waits between writing a report's file and storing it
REPORT_LEASE = 8  # well over a whole (paused) generation: a live one is never failed
UPDATE_LEASE = 5  # a running update silent this long is dead (its heartbeat beats faster)


class Panel:
    """A running `hostmeter serve` and how to reach it."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.port = _free_port()
        self.pause_file = tmp / "pause-update"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("HOSTMETER_")},
            "DJANGO_SETTINGS_MODULE": "hostmeter.tests.serve_settings",
            "HOSTMETER_DATABASE_URL": f"sqlite:///{tmp / 'panel.sqlite3'}",
            "HOSTMETER_DATA_DIR": str(tmp),
            "HOSTMETER_SECRET_KEY": "test-serve-not-secret",
            "HOSTMETER_SCHEDULER_INTERVAL": "1",
            "HOSTMETER_REPORT_LEASE_SECONDS": str(REPORT_LEASE),
            "HOSTMETER_REPORT_TEST_PAUSE": str(REPORT_PAUSE),
            "HOSTMETER_UPDATE_HEARTBEAT_LEASE_SECONDS": str(UPDATE_LEASE),
            "HOSTMETER_TEST_UPDATE_PAUSE_FILE": str(self.pause_file),
            "HOSTMETER_COLLECT_LEAD_SECONDS": "0",
            "PYTHONUNBUFFERED": "1",
        }
        self.log = tmp / "serve.log"
        self.process = None
        self.token = None

    def command(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [*HOSTMETER, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [*HOSTMETER, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_for("the panel to answer", lambda: self.login_page_status() == 200, 60)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(20)
        with contextlib.suppress(ProcessLookupError):  # whatever is left of its group
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def wait_for(self, what: str, condition, timeout: float, *, serving: bool = True):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if value := condition():
                return value
            if serving and self.process is not None and self.process.poll() is not None:
                pytest.fail(f"serve exited ({self.process.returncode}) before {what}:\n"
                            + self.output())  # fmt: skip
            time.sleep(0.05)
        pytest.fail(f"timed out ({timeout} s) waiting for {what}; serve's output:\n{self.output()}")

    def request(self, method: str, path: str, body=None, *, timeout: float = 10):
        """(status, JSON or text) of an API call with the Systems token."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Authorization": f"Bearer {self.token}"}
            if body is not None:
                body, headers["Content-Type"] = json.dumps(body), "application/json"
            conn.request(method, urlsplit(path).path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read().decode()
            kind = response.getheader("Content-Type", "")
            return response.status, json.loads(data) if "json" in kind else data
        finally:
            conn.close()

    def wait_status(self, url: str, statuses: set[str], what: str, timeout: float) -> dict:
        """The API object at url, once its status is one of statuses."""

        def reached():
            found = self.request("GET", url)[1]
            return found if found["status"] in statuses else None

        return self.wait_for(what, reached, timeout)

    def csrf(self) -> tuple[str, str]:
        """(the csrftoken cookie, the sign-in form's token), as a browser has them."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/login/")
            page = conn.getresponse()
            html = page.read().decode()
        finally:
            conn.close()
        cookie = page.getheader("Set-Cookie").split(";")[0]
        return cookie, re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    def login_page_status(self, timeout: float = 5) -> int | None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            conn.request("GET", "/login/")
            return conn.getresponse().status
        except OSError:
            return None
        finally:
            conn.close()

    def children(self, name: str) -> list[int]:
        """pids of serve's direct children whose command line has `name`."""
        return [pid for pid, cmd in _processes(self.process.pid) if name in cmd]

    def worker_pid(self) -> int:
        return self.wait_for("the worker", lambda: (self.children("db_worker") or [None])[0], 20)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _processes(parent: int) -> list[tuple[int, str]]:
    """(pid, command line) of the living processes whose parent is `parent` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # "pid (comm) state ppid …": comm may hold spaces and parentheses
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if int(ppid) == parent and state != "Z":
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found.append((int(entry.name), cmd))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    panel = Panel(tmp_path_factory.mktemp("serve"))
    panel.command("migrate", "--noinput", "-v0")
    panel.command("load_demo", "--resellers", "2", "--organizations", "6", "--days", "2")
    panel.token = panel.command("api_token", "create", "systems", "--name", "faults").split()[-1]
    try:
        panel.start()
        yield panel
    finally:
        panel.stop()


def test_a_worker_killed_mid_report_is_restarted_and_the_report_recovers(panel):
    code, report = panel.request("POST", "/api/v1/reports/", {"kind": "summary"})
    assert code == 202, report
    url = report["url"]
    parts = panel.tmp / "files" / "tmp"

    def paused():  # file written, worker sleeping before it stores it (REPORT_TEST_PAUSE)
        generating = panel.request("GET", url)[1]["status"] == "generating"
        return generating and any(p.stat().st_size for p in parts.glob("report-*.part"))

    panel.wait_for("the report to be generating", paused, 30)
    worker = panel.worker_pid()
    os.kill(worker, signal.SIGKILL)

    assert panel.login_page_status() == 200, "the panel answers while the worker is down"
    restarted = panel.wait_for(
        "the worker to be restarted",
        lambda: next((p for p in panel.children("db_worker") if p != worker), None),
        30,
    )
    assert panel.request("GET", url)[1]["status"] == "generating", "it died mid-report"
    failed = panel.wait_status(url, {"failed"}, "the report's lease to run out", REPORT_LEASE + 20)
    assert "stopped before it finished" in failed["error"]

    code, again = panel.request("POST", "/api/v1/reports/", {"kind": "summary"})
    assert (code, again["id"]) == (202, report["id"])
    ready = panel.wait_status(url, {"ready", "failed"}, "the report to be generated again", 60)
    assert ready["status"] == "ready", ready["error"]
    code, data = panel.request("GET", ready["download_url"])
    assert code == 200 and "Usage as of" in data
    assert panel.children("db_worker") == [restarted]
    assert panel.login_page_status() == 200
    assert f"The worker process (pid {worker}) stopped (killed by SIGKILL)" in panel.log.read_text()


def test_a_worker_killed_mid_update_is_restarted_and_a_new_update_completes(panel):
    panel.pause_file.touch()
    reached = Path(f"{panel.pause_file}.reached")
    try:
        code, update = panel.request("POST", "/api/v1/usage-updates/")
        assert code == 202, update
        panel.wait_for("the update to be writing its rows", reached.exists, 30)
        assert panel.request("GET", update["url"])[1]["status"] == "running"
        worker = panel.worker_pid()
        os.kill(worker, signal.SIGKILL)
    finally:
        panel.pause_file.unlink(missing_ok=True)

    assert panel.login_page_status() == 200, "the panel answers while the worker is down"
    panel.wait_for(
        "the worker to be restarted",
        lambda: next((p for p in panel.children("db_worker") if p != worker), None),
        30,
    )
    # The dead one stays Running (and blocks new ones) until its heartbeat has been silent
    # for HOSTMETER_UPDATE_HEARTBEAT_LEASE_SECONDS; then the scheduler's housekeeping fails it.
    failed = panel.wait_status(
        update["url"], {"failed"}, "the dead update to be failed", UPDATE_LEASE + 20
    )
    assert "stopped before it finished" in failed["error"]

    code, new = panel.request("POST", "/api/v1/usage-updates/")
    assert code == 202, new
    done = panel.wait_status(new["url"], {"succeeded", "failed"}, "the new update to complete", 60)
    assert done["status"] == "succeeded", done["error"]
    assert done["organizations_count"] == 6
    assert panel.login_page_status() == 200


def test_the_panel_answers_while_four_clients_trickle_request_bodies(panel):
    stop = threading.Event()
    sockets = []

    def trickle(sock):
        # one byte a second of a body announced as 10,000 bytes, until told to stop
        while not stop.wait(1):
            try:
                sock.sendall(b"x")
            except OSError:
                return

    threads = []
    cookie, token = panel.csrf()  # with them the sign-in view reads the body
    try:
        for _ in range(4):
            sock = socket.create_connection(("127.0.0.1", panel.port), timeout=10)
            sockets.append(sock)
            sock.sendall(
                b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + f"Cookie: {cookie}\r\n".encode()
                + b"Content-Type: application/x-www-form-urlencoded\r\n"
                + b"Content-Length: 10000\r\n\r\n"
                + f"csrfmiddlewaretoken={token}&username=".encode()
            )
            threads.append(threading.Thread(target=trickle, args=(sock,), daemon=True))
            threads[-1].start()
        time.sleep(1.5)  # they are being read by now
        for _ in range(3):
            assert panel.login_page_status(timeout=10) == 200
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
        for sock in sockets:
            sock.close()


def test_a_body_cut_off_before_its_content_length_is_400(panel):
    """The raw socket way: the client announces more than it sends, then half-closes."""
    cookie, token = panel.csrf()
    # the whole form signs in: cut off, it must not
    body = f"csrfmiddlewaretoken={token}&username=systems&password={PASSWORD}".encode()
    with socket.create_connection(("127.0.0.1", panel.port), timeout=10) as sock:
        sock.sendall(
            b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            + f"Cookie: {cookie}\r\nContent-Length: {len(body) + 100}\r\n".encode()
            + b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
            + body
        )
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.split(b"\r\n", 1)[0] == b"HTTP/1.1 400 Bad Request", answer[:500]


def test_sigterm_stops_serve_and_everything_it_started(panel):
    other = Panel(panel.tmp)  # a second serve on the same database, stopped here
    other.log = panel.tmp / "serve-sigterm.log"
    try:
        other.start()
        worker = other.worker_pid()
        children = [pid for pid, _ in _processes(other.process.pid)]
        grandchildren = [pid for child in children for pid, _ in _processes(child)]
        assert len(children) == 3 and worker in children and grandchildren  # gunicorn's
        other.process.send_signal(signal.SIGTERM)
        assert other.process.wait(30) == 0
        everything = children + grandchildren
        other.wait_for(
            "every process to be gone", lambda: not any(map(_alive, everything)), 20, serving=False
        )
    finally:
        other.stop()
