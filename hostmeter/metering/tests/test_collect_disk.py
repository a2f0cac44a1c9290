"""The disk-usage collector, on real folders written into a temporary document root."""

import os
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from hostmeter.metering.collectors import CollectorError
from hostmeter.metering.collectors.disk import usage_collect_disk
from hostmeter.metering.models import UsageSample
from hostmeter.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def write(path, size):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def samples():
    return {
        s.organization.domain: (s.resource.code, s.source, s.measured_at, s.value)
        for s in UsageSample.objects.select_related("organization", "resource")
    }


@pytest.fixture
def site(tmp_path):
    """A document root with the awkward cases; returns (root, organizations)."""
    root = tmp_path / "www"
    outside = write(tmp_path / "outside" / "big.bin", 5_000_000)

    alpha = root / "alpha.example"
    write(alpha / "index.html", 1234)
    data = write(alpha / "sub" / "deep" / "data.bin", 1_000_000)
    os.link(data, alpha / "sub" / "hard-link.bin")  # the same inode: counted once
    (alpha / "sub" / "empty").mkdir()
    (alpha / "root-link").symlink_to("/")  # never followed
    (alpha / "outside-link.bin").symlink_to(outside)
    (alpha / "dangling").symlink_to(tmp_path / "nowhere")

    write(root / "beta.example" / "a.txt", 2500)  # 2.5 KB: half-up gives 0.003
    # The same inode in another organization's folder counts for that one too.
    (root / "shared.example").mkdir()
    os.link(data, root / "shared.example" / "data.bin")
    write(root / "delta.example" / "site.html", 7000)  # no web hosting: no sample
    write(root / "stray.example" / "index.html", 10)  # nobody's folder
    (root / "linked.example").symlink_to(outside.parent)  # the folder itself is a link
    write(root / ".cache" / "ignored", 10)

    orgs = {
        "alpha": OrganizationFactory(domain="alpha.example", services=["web"]),
        "beta": OrganizationFactory(domain="beta.example", services=["web", "mail"]),
        "shared": OrganizationFactory(domain="shared.example", services=["web"]),
        "gamma": OrganizationFactory(domain="gamma.example", services=["web"]),  # no folder
        "delta": OrganizationFactory(domain="delta.example", services=["mail"]),
        "linked": OrganizationFactory(domain="linked.example", services=["web"]),
    }
    return root, orgs


def test_measures_each_web_organization_folder_exactly(site, t0):
    root, _ = site
    result = usage_collect_disk(root=root, now=t0)

    assert samples() == {
        "alpha.example": ("disk_space", "disk", t0, Decimal("1.001")),  # 1,001,234 bytes
        "beta.example": ("disk_space", "disk", t0, Decimal("0.003")),
        "shared.example": ("disk_space", "disk", t0, Decimal("1.000")),
    }
    bytes_by_domain = {u.domain: u.bytes for u in result.measured}
    assert bytes_by_domain == {
        "alpha.example": 1_001_234,
        "beta.example": 2500,
        "shared.example": 1_000_000,
    }
    assert result.total_mb == Decimal("2.004")
    assert result.stored == 3
    assert result.missing == ["gamma.example"]
    assert result.unknown == ["stray.example"]
    assert any("delta.example" in w and "not enabled" in w for w in result.warnings)
    assert any("linked.example" in w and "symbolic link" in w for w in result.warnings)


def test_values_have_three_decimals_rounded_half_up(tmp_path, t0):
    root = tmp_path / "www"
    sizes = {"a.example": 499, "b.example": 500, "c.example": 1_234_567_891, "d.example": 0}
    for domain, size in sizes.items():
        write(root / domain / "f", size)
        OrganizationFactory(domain=domain, services=["web"])

    usage_collect_disk(root=root, now=t0)

    values = {domain: value for domain, (_, _, _, value) in samples().items()}
    assert values == {
        "a.example": Decimal("0.000"),
        "b.example": Decimal("0.001"),
        "c.example": Decimal("1234.568"),
        "d.example": Decimal("0.000"),  # an empty folder is measured: zero, not absent
    }


def test_a_second_run_adds_a_new_measurement_and_never_a_duplicate(site, t0):
    root, orgs = site
    usage_collect_disk(root=root, now=t0)
    again = usage_collect_disk(root=root, now=t0)
    assert again.stored == 0

    write(root / "beta.example" / "more.txt", 1000)
    later = usage_collect_disk(root=root, now=t0 + timedelta(hours=1))
    assert later.stored == 3
    latest = UsageSample.objects.filter(organization=orgs["beta"]).latest("measured_at")
    assert latest.value == Decimal("0.004")
    assert UsageSample.objects.count() == 6


def test_unreadable_directories_are_skipped_with_a_warning(tmp_path, t0):
    root = tmp_path / "www"
    write(root / "a.example" / "ok.txt", 3000)
    locked = write(root / "a.example" / "private" / "secret.txt", 9000).parent
    OrganizationFactory(domain="a.example", services=["web"])
    locked.chmod(0)
    try:
        try:
            os.listdir(locked)
        except PermissionError:
            result = usage_collect_disk(root=root, now=t0)
        else:
            pytest.skip("this user reads every directory (root with CAP_DAC_OVERRIDE)")
    finally:
        locked.chmod(0o755)
    assert result.measured[0].bytes == 3000
    assert result.measured[0].skipped == 1
    assert any("private" in w and "Permission denied" in w for w in result.warnings)


def test_root_must_exist(tmp_path):
    with pytest.raises(CollectorError, match="does not exist"):
        usage_collect_disk(root=tmp_path / "missing")


def test_command_prints_a_summary(site):
    root, _ = site
    out, err = StringIO(), StringIO()
    call_command("collect_disk", root=root, verbosity=2, stdout=out, stderr=err)

    assert f"Disk usage under {root} as of " in out.getvalue()
    assert "alpha.example: 1.001 MB (1001234 bytes)" in out.getvalue()
    assert "Measured 3 organizations: 2.004 MB in total; 3 samples stored." in out.getvalue()
    assert "No folder (no sample) for 1 organizations with web hosting: gamma.example" in (
        err.getvalue()
    )
    assert "1 folders match no organization: stray.example" in err.getvalue()
    assert UsageSample.objects.count() == 3


def test_command_uses_the_configured_root(site, settings):
    root, _ = site
    settings.HOSTMETER = {**settings.HOSTMETER, "DOCUMENT_ROOT": str(root)}
    call_command("collect_disk", stdout=StringIO(), stderr=StringIO())
    assert UsageSample.objects.count() == 3


def test_command_refuses_without_a_root(settings, tmp_path):
    settings.HOSTMETER = {**settings.HOSTMETER, "DOCUMENT_ROOT": ""}
    with pytest.raises(CommandError, match="No document root"):
        call_command("collect_disk")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("collect_disk", root=tmp_path / "nope")
