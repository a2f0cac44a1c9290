"""Reports that lose their file or their worker: nothing half-written is handed out,
no customer data is left in the system's temporary folder, and a report can always be
generated again."""

import os
import tempfile
import time
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from hostmeter.reports.models import Report
from hostmeter.reports.services import (
    _run_dir_name,
    report_generate,
    report_request,
    report_scratch_sweep,
)

from .reportdata import build_world, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def small(media):
    return build_world(top_orgs=3, sub_orgs=2, tricky=False)


def _ready(world, fmt="csv") -> Report:
    report, _ = report_request(kind="reseller", subject=world.top, update=world.update, format=fmt)
    report = report_generate(report_id=report.pk)
    assert report.status == Report.Status.READY, report.error
    return report


def test_a_report_whose_file_left_storage_answers_410_and_can_be_generated_again(small, client):
    report = _ready(small)
    default_storage.delete(report.file.name)
    client.force_login(staff("operations"))

    response = client.get(reverse("reports:report-download", args=[report.pk]))

    assert response.status_code == 410
    assert "missing from storage" in response.content.decode()
    report.refresh_from_db()
    assert report.status == Report.Status.FAILED
    assert "generate the report again" in report.error
    again, queued = report_request(kind="reseller", subject=small.top, update=small.update)
    assert queued and again.pk == report.pk
    assert report_generate(report_id=report.pk).status == Report.Status.READY


def test_export_from_the_action_bar_of_a_vanished_file_answers_410(small, client):
    report = _ready(small)
    default_storage.delete(report.file.name)
    client.force_login(staff("marketing"))

    response = client.post(
        reverse("usage:reseller-actions"), {"action": "export", "selected": [small.top.pk]}
    )

    assert response.status_code == 410
    assert small.top.domain in response.content.decode()
    assert Report.objects.get(pk=report.pk).status == Report.Status.FAILED


def test_xlsx_generation_keeps_its_scratch_out_of_the_system_tmp(
    small, media, tmp_path, monkeypatch
):
    """XlsxWriter's row files hold customer names: they go under the data directory."""
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    import xlsxwriter.worksheet

    seen = []
    real_mkstemp = tempfile.mkstemp

    def spying_mkstemp(*args, **kwargs):
        fd, name = real_mkstemp(*args, **kwargs)
        seen.append(name)
        return fd, name

    monkeypatch.setattr(xlsxwriter.worksheet.tempfile, "mkstemp", spying_mkstemp)

    _ready(small, fmt="xlsx")

    assert seen, "XlsxWriter wrote no row file (constant_memory off?)"
    assert all(os.path.commonpath([name, media]) == str(media) for name in seen), seen
    assert list(system_tmp.iterdir()) == []
    assert list((media / "tmp").iterdir()) == []  # the run cleaned up after itself


def test_housekeeping_removes_what_crashed_runs_left_and_keeps_the_running_ones(small, media):
    scratch = media / "tmp"
    scratch.mkdir(parents=True)
    running, _ = report_request(kind="reseller", subject=small.top, update=small.update)
    claim = timezone.now()
    Report.objects.filter(pk=running.pk).update(
        status=Report.Status.GENERATING, started_at=claim, heartbeat_at=claim
    )
    alive = scratch / _run_dir_name(running.pk, claim)
    dead = scratch / _run_dir_name(running.pk, claim - timedelta(minutes=5))  # its last run
    gone = scratch / _run_dir_name(987654, claim)  # a report deleted since
    for folder in (alive, dead, gone):
        folder.mkdir()
        (folder / "tmp1234").write_bytes(b"customer names")
    stray_old, stray_new = scratch / "tmpold", scratch / "tmpnew"
    stray_old.write_bytes(b"x")
    stray_new.write_bytes(b"x")
    day_ago = time.time() - 25 * 3600
    os.utime(stray_old, (day_ago, day_ago))

    assert report_scratch_sweep() == 3

    assert sorted(p.name for p in scratch.iterdir()) == sorted([alive.name, "tmpnew"])


def test_the_api_answers_410_for_a_file_that_left_storage(small, client):
    report = _ready(small)
    default_storage.delete(report.file.name)
    client.force_login(staff("systems"))

    response = client.get(f"/api/v1/reports/{report.pk}/file/")

    assert response.status_code == 410
    assert "missing from storage" in response.json()["detail"]
    assert client.get(f"/api/v1/reports/{report.pk}/").json()["status"] == "failed"
