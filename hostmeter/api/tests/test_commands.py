"""The commands scripts use: api_token, generate_report and export_report (of the latest
update, or of a billing period with --period), end to end, with their exit codes."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hostmeter.api.models import ApiToken
from hostmeter.reports.models import Report
from hostmeter.reports.services import report_generate, report_request
from hostmeter.tenancy.models import Resource
from hostmeter.tests.factories import UserFactory
from hostmeter.tests.fixtures import NOVEMBER_END, NOVEMBER_START, sample_sum, table_counts


def run(*args, **kwargs) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


def exit_code(*args, **kwargs) -> int:
    with pytest.raises(CommandError) as caught:
        run(*args, **kwargs)
    return caught.value.returncode


def test_api_token_create_list_revoke(db):
    UserFactory(username="collector", login_level="operations")
    secret, note = run("api_token", "create", "collector", "--name", "du", "--ingest-only")
    secret = secret.strip()
    token = ApiToken.objects.get(user__username="collector")
    assert secret.startswith(f"hmt_{token.prefix}_")
    assert token.scope == "ingest"
    assert "not shown again" in note
    listed, _ = run("api_token", "list", "collector")
    assert token.display_prefix in listed and secret not in listed
    run("api_token", "revoke", token.display_prefix)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert run("api_token", "list")[0] == ""
    assert exit_code("api_token", "create", "ghost", "--name", "x") == 2
    assert exit_code("api_token", "revoke", "hmt_00000000") == 2
    # a number past the id column's 64 bits names no token (not a traceback)
    assert exit_code("api_token", "revoke", "9" * 20) == 2


def test_generate_report_now_writes_the_file(api_world, tmp_path):
    out = tmp_path / "acme.csv"
    _, err = run("generate_report", "reseller", "acme.example", "--now", "--output", str(out))
    assert "Ready: 2 rows" in err
    text = out.read_text(encoding="utf-8-sig")
    assert text.startswith("Usage as of,Organization")
    assert "shop.example" in text and "blog.example" in text
    assert Report.objects.get(reseller=api_world.acme).status == "ready"


def test_generate_report_without_wait_only_queues(api_world):
    _, err = run("generate_report", "summary")
    assert "queued" in err
    assert Report.objects.get(kind="summary").status == "queued"


def test_generate_report_wait_times_out_without_a_worker(api_world):
    assert (
        exit_code("generate_report", "summary", "--wait", "--timeout", "0.2", "--interval", "0.1")
        == 3
    )


def test_generate_report_failure_is_exit_1(api_world, monkeypatch):
    import hostmeter.reports.services as services

    def broken(*, report):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "report_query", broken)
    with pytest.raises(CommandError) as caught:
        run("generate_report", "summary", "--now")
    assert caught.value.returncode == 1
    assert "disk on fire" in str(caught.value)


def test_generate_report_bad_usage_is_exit_2(api_world, db):
    assert exit_code("generate_report", "reseller") == 2
    assert exit_code("generate_report", "reseller", "nobody.example") == 2
    assert exit_code("generate_report", "summary", "acme.example") == 2
    assert (
        exit_code(
            "generate_report",
            "organization",
            "shop.example",
            "--output",
            "/nonexistent/x.csv",
            "--now",
        )
        == 2
    )


def test_generate_report_before_any_update_is_exit_2(db):
    assert exit_code("generate_report", "summary") == 2


def test_export_report(api_world, ready_report, tmp_path):
    out = tmp_path / "export.csv"
    _, err = run("export_report", "reseller", "acme.example", "--output", str(out))
    assert "wrote" in err
    assert out.read_bytes() == ready_report.file.open("rb").read()
    assert exit_code("export_report", "organization", "shop.example", "--output", str(out)) == 4
    assert exit_code("export_report", "summary", "--format", "xlsx", "--output", str(out)) == 4
    assert exit_code("export_report", "reseller", "nobody.example", "--output", str(out)) == 2


def test_export_report_to_stdout(api_world, ready_report, capfdbinary):
    import sys

    call_command("export_report", "reseller", "acme.example", "--output", "-", stdout=sys.stdout)
    captured = capfdbinary.readouterr().out
    assert b"shop.example" in captured


# ---------------------------------------------------------------- --period


def test_generate_report_of_a_closed_period(period_world, tmp_path):
    out = tmp_path / "november.csv"
    _, err = run(
        "generate_report", "organizations", "--period", "2026-11", "--now", "--output", str(out)
    )
    assert "November 2026 (closed)" in err
    report = Report.objects.get(kind="organizations")
    assert report.update == period_world.november
    text = out.read_text(encoding="utf-8-sig")
    line = next(r for r in text.splitlines() if "alpha.example" in r)
    bandwidth = sample_sum(
        period_world.alpha, Resource.objects.get(code="bandwidth"), NOVEMBER_START, NOVEMBER_END
    )
    assert line.startswith("November 2026 (closed),Alpha Shop,") and f",{bandwidth:.3f}," in line

    run("generate_report", "organizations", "--period", "2026-12", "--now")
    current = Report.objects.get(kind="organizations", update=period_world.december)
    assert current.status == "ready"
    # without --period: the latest update, as before
    run("generate_report", "summary")
    assert Report.objects.get(kind="summary").update == period_world.december


@pytest.mark.parametrize("period", ["2026-10", "2026-13", "november", "2026-1"])
def test_generate_report_of_an_unknown_period_is_exit_2_and_stores_nothing(period_world, period):
    before = table_counts()
    with pytest.raises(CommandError) as caught:
        run("generate_report", "summary", "--period", period, "--now")
    assert caught.value.returncode == 2
    assert "is not a billing period with usage figures" in str(caught.value)
    assert "known: 2026-12, 2026-11" in str(caught.value)
    assert table_counts() == before


def test_export_report_of_a_period(period_world, tmp_path):
    for update in (period_world.november, period_world.december):
        report, _ = report_request(kind="reseller", subject=period_world.top, update=update)
        report_generate(report_id=report.pk)
    out = tmp_path / "top.csv"
    _, err = run(
        "export_report", "reseller", "top.example", "--period", "2026-11", "--output", str(out)
    )
    assert "November 2026 (closed)" in err
    assert out.read_text(encoding="utf-8-sig").splitlines()[1].startswith("November 2026 (closed),")
    run("export_report", "reseller", "top.example", "--output", str(out))  # the newest
    assert out.read_text(encoding="utf-8-sig").splitlines()[1].startswith("December 2026 to date")
    args = ("export_report", "reseller", "top.example", "--output", str(out))
    assert exit_code(*args, "--period", "2026-10") == 2
    assert exit_code(*args, "--period", "11/2026") == 2
    assert exit_code(*args, "--period", "2026-11", "--update", str(period_world.mid.pk)) == 2
    assert exit_code("export_report", "summary", "--period", "2026-11", "--output", str(out)) == 4
