"""Disk-usage collector: the bytes in each organization's folder under the document root."""

import os
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from hostmeter.fields import from_thousandths
from hostmeter.metering.services.samples import usage_samples_store

from . import CollectorError, organizations_by_domain, resource_id

SOURCE = "disk"
RESOURCE = "disk_space"
# Values are kept in thousandths of a MB, and 1 MB = 1,000,000 bytes.
BYTES_PER_THOUSANDTH = 1000
# A tree with thousands of unreadable entries needs a count, not thousands of lines.
EXAMPLES_KEPT = 3


@dataclass(frozen=True)
class FolderUsage:
    """One organization's folder as measured."""

    domain: str
    bytes: int
    value: Decimal  # MB, three places, rounded half-up
    skipped: int = 0  # entries that vanished or could not be read during the walk


@dataclass
class DiskResult:
    """What one run of the disk collector measured and stored."""

    root: Path
    measured_at: datetime
    measured: list[FolderUsage] = field(default_factory=list)
    stored: int = 0
    missing: list[str] = field(default_factory=list)  # web enabled, no folder: no sample
    unknown: list[str] = field(default_factory=list)  # folders that match no organization
    warnings: list[str] = field(default_factory=list)

    @property
    def total_mb(self) -> Decimal:
        return sum((f.value for f in self.measured), Decimal("0.000"))


def bytes_to_thousandths(size: int) -> int:
    """Bytes → whole thousandths of a MB, half-up (2,500 bytes → 0.003 MB)."""
    return (size + BYTES_PER_THOUSANDTH // 2) // BYTES_PER_THOUSANDTH


def usage_collect_disk(*, root: Path, now: datetime | None = None) -> DiskResult:
    """Measures every web-hosting organization's folder ROOT/<domain> and stores one
    `disk_space` sample per organization, all as of the same collection time.

    Regular files only, symbolic links never followed, a hard-linked file counted
    once per organization, the walk stays on the folder's filesystem. A missing
    folder gives no sample (absence is not zero) and a warning.
    """
    root = Path(root)
    if not root.is_dir():
        raise CollectorError(f"The document root {root} does not exist or is not a directory.")
    result = DiskResult(root=root, measured_at=now or timezone.now())
    organizations = organizations_by_domain()
    try:
        folders, links = _list_root(root)
    except OSError as exc:
        raise CollectorError(f"Cannot list the document root {root}: {exc.strerror}.") from exc

    samples = []
    disk_space = resource_id(RESOURCE)
    for domain, (org_id, web) in sorted(organizations.items()):
        if not web:
            if domain in folders:
                result.warnings.append(
                    f"{domain}: has a folder but web hosting is not enabled: not measured."
                )
            continue
        if domain in links:
            # A link at the top could point anywhere (even /): measuring it would
            # charge the organization for somebody else's files.
            result.warnings.append(f"{domain}: {root / domain} is a symbolic link: not followed.")
            continue
        if domain not in folders:
            result.missing.append(domain)
            continue
        usage = _measure(domain, folders[domain], result.warnings)
        if usage is None:
            continue
        result.measured.append(usage)
        samples.append(
            (org_id, disk_space, result.measured_at, bytes_to_thousandths(usage.bytes), SOURCE)
        )
    result.unknown = sorted(set(folders) - set(organizations))
    with transaction.atomic():
        result.stored = usage_samples_store(samples)
    return result


def _list_root(root: Path) -> tuple[dict[str, str], set[str]]:
    """The folders (name → path) and the symbolic links directly under the root."""
    folders, links = {}, set()
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                links.add(entry.name)
            elif entry.is_dir(follow_symlinks=False):
                folders[entry.name] = entry.path
    return folders, links


def _measure(domain: str, top: str, warnings: list[str]) -> FolderUsage | None:
    """Walks one folder; None when the folder itself cannot be read (no sample)."""
    try:
        top_dev = os.lstat(top).st_dev
        with os.scandir(top):
            pass
    except OSError as exc:
        warnings.append(f"{domain}: cannot read {top} ({exc.strerror}): not measured.")
        return None
    total, skipped, examples = 0, 0, []

    def skip(text: str) -> None:
        nonlocal skipped
        skipped += 1
        if len(examples) < EXAMPLES_KEPT:
            examples.append(text)

    # Only inodes with several links can be met twice: remembering just those
    # keeps the set small on trees of millions of ordinary files.
    seen_links: set[tuple[int, int]] = set()
    stack = [top]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            if entry.stat(follow_symlinks=False).st_dev != top_dev:
                                # A mount (or a bind mount of /) is not the customer's usage.
                                skip(f"{entry.path}: another filesystem")
                                continue
                            stack.append(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            st = entry.stat(follow_symlinks=False)
                            if st.st_nlink > 1:
                                key = (st.st_dev, st.st_ino)
                                if key in seen_links:
                                    continue
                                seen_links.add(key)
                            total += st.st_size
                    except OSError as exc:  # vanished or unreadable since listed
                        skip(f"{entry.path}: {exc.strerror}")
        except OSError as exc:
            skip(f"{directory}: {exc.strerror}")
    if skipped:
        warnings.append(
            f"{domain}: skipped {skipped} entries (vanished, unreadable or on another filesystem) "
            f"(e.g. {'; '.join(examples)}); the sample counts the rest."
        )
    return FolderUsage(
        domain=domain,
        bytes=total,
        value=from_thousandths(bytes_to_thousandths(total)),
        skipped=skipped,
    )
