"""Hostile or broken query strings on the Usage pages get a page, never a server error."""

import pytest
from django.urls import reverse

from hostmeter.reports.tests.reportdata import staff

pytestmark = pytest.mark.django_db

HUGE = "9" * 20  # past a 64-bit id


@pytest.mark.parametrize("kind", ["reseller", "organization"])
@pytest.mark.parametrize("ids", [[HUGE], ["0"], ["-1"], ["1e3"], ["٣"], [""]])
def test_the_status_poll_ignores_ids_that_cannot_be_rows(report_world, client, kind, ids):
    client.force_login(staff("marketing"))
    response = client.get(reverse(f"usage:{kind}-report-status"), {"ids": ids})
    assert response.status_code == 200
    assert 'id="report-status-' not in response.content.decode()


@pytest.mark.parametrize("kind", ["reseller", "organization"])
def test_the_status_poll_answers_for_real_rows_beside_a_huge_id(report_world, client, kind):
    client.force_login(staff("marketing"))
    subject = report_world.top if kind == "reseller" else report_world.below(report_world.top)[0]
    response = client.get(reverse(f"usage:{kind}-report-status"), {"ids": [HUGE, subject.pk]})
    assert response.status_code == 200
    assert f'id="report-status-{subject.pk}"' in response.content.decode()
