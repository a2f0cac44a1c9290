"""`hostmeter check --deploy` is clean with the production settings docs/deployment.md
documents, and not without them."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEPLOYMENT = REPO / "docs" / "deployment.md"


def _documented_environment() -> dict[str, str]:
    """The variables of the ``/etc/hostmeter/env`` block under "Settings for it"."""
    text = DEPLOYMENT.read_text()
    section = text[text.index("### Settings for it") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    variables = {}
    for line in block.splitlines():
        name, _, value = line.partition("=")
        variables[name.strip()] = value.split("#")[0].strip()
    # the document leaves the key to the reader; any key of Django's kind will do
    assert variables.pop("HOSTMETER_SECRET_KEY").startswith("…")
    return variables | {"HOSTMETER_SECRET_KEY": secrets.token_urlsafe(50)}


def _check_deploy(tmp_path: Path, variables: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOSTMETER_", "DJANGO_"))}
    env |= variables | {
        "DJANGO_SETTINGS_MODULE": "hostmeter.settings",
        "HOSTMETER_DATA_DIR": str(tmp_path / "var"),
        # the check needs no database; SQLite in the scratch folder keeps it local
        "HOSTMETER_DATABASE_URL": f"sqlite:///{tmp_path / 'panel.sqlite3'}",
    }
    return subprocess.run(
        [sys.executable, "-m", "hostmeter", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_documented_production_settings_pass_the_deploy_check(tmp_path):
    variables = _documented_environment()
    assert {"HOSTMETER_SSL_REDIRECT", "HOSTMETER_HSTS_SECONDS", "HOSTMETER_SECURE_COOKIES"} <= set(
        variables
    )
    result = _check_deploy(tmp_path, variables)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_defaults_for_make_run_do_not_pass_it(tmp_path):
    result = _check_deploy(tmp_path, {})
    assert result.returncode != 0
    output = result.stdout + result.stderr
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in output  # HSTS, SSL redirect, session and CSRF cookies
