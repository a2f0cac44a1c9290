"""Usage samples as collected, and the usage updates that freeze them."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from hostmeter.fields import QuantityField
from hostmeter.tenancy.models import Organization, Reseller, Resource


class UsageSample(models.Model):
    """One measured value of a resource for an organization. Append-only."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name="organization"
    )
    resource = models.ForeignKey(
        Resource, on_delete=models.PROTECT, related_name="+", verbose_name="resource"
    )
    measured_at = models.DateTimeField("measured at")
    value = QuantityField("value")
    source = models.CharField(
        "source", max_length=100, default="", blank=True, help_text="Collector or file name."
    )
    created_at = models.DateTimeField("stored at", auto_now_add=True)

    class Meta:
        verbose_name = "usage sample"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "resource", "measured_at", "source"],
                name="%(app_label)s_%(class)s_unique_measurement",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0),
                name="%(app_label)s_%(class)s_value_not_negative",
                violation_error_message="A usage value cannot be negative.",
            ),
        ]
        indexes = [models.Index(fields=["measured_at"], name="metering_sample_time_idx")]

    def __str__(self) -> str:
        return f"{self.organization_id}/{self.resource_id} @ {self.measured_at}: {self.value}"


class UsageUpdate(models.Model):
    """One run that froze every organization's usage as of its cut-off time."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Completed"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Run now"
        COMMAND = "command", "Command line"
        DEMO = "demo", "Demo data"
        CLOSE = "close", "Period close"

    cutoff = models.DateTimeField("usage as of", unique=True)
    previous_cutoff = models.DateTimeField(
        "previous cut-off",
        null=True,
        blank=True,
        help_text="Counters sum the samples after this time, up to the cut-off.",
    )
    period_start = models.DateTimeField(
        "billing period from",
        null=True,
        blank=True,
        help_text="The billing period of the cut-off (after this instant), set as it runs.",
    )
    period_end = models.DateTimeField("billing period to", null=True, blank=True)
    samples_through = models.BigIntegerField(
        "samples up to id",
        null=True,
        blank=True,
        help_text="The newest sample this update could count; the next one counts the samples "
        "after it that were measured earlier as late.",
    )
    status = models.CharField(
        "status", max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    trigger = models.CharField("started by", max_length=10, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="requested by",
    )
    created_at = models.DateTimeField("queued at", auto_now_add=True)
    started_at = models.DateTimeField("started at", null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        "last sign of life",
        null=True,
        blank=True,
        help_text="Written while the update runs; a silent one lost its worker.",
    )
    finished_at = models.DateTimeField("finished at", null=True, blank=True)
    organizations_count = models.PositiveIntegerField("organizations", default=0)
    resellers_count = models.PositiveIntegerField("resellers", default=0)
    rows_count = models.PositiveIntegerField("usage rows", default=0)
    error = models.TextField("error", blank=True)

    class Meta:
        ordering = ["-cutoff"]
        get_latest_by = "cutoff"
        verbose_name = "usage update"
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="running"),
                name="%(app_label)s_%(class)s_one_running",
                violation_error_message="A usage update is already running.",
            )
        ]

    def __str__(self) -> str:
        return f"Usage update as of {self.cutoff:%Y-%m-%d %H:%M %Z} ({self.get_status_display()})"

    @property
    def closes_period(self) -> bool:
        """As of its billing period's end: its counters are the period's totals."""
        return self.period_end is not None and self.cutoff == self.period_end


# Usage rows are the bulk of the database (organizations × resources × updates) and
# are only ever written by the set-based SQL of an update, from ids it reads in the
# same transaction. Their foreign keys are therefore not checked by the database (on
# PostgreSQL those checks cost more than the update itself: docs/benchmarks.md, Usage
# update, "Figures, 2026-11-25"), and have no index of their own beyond the two below.
# History is kept: an organization or reseller with usage rows cannot be deleted
# (suspend it instead). On PostgreSQL the table is partitioned by update (migration
# 0006) and each update writes its partition with sql.organization_rows_partition
# and PARTITION_SEAL: a field or constraint added here goes there too (test_partitions
# compares a partition's columns with the table's).
_ROW_FK = {"related_name": "+", "db_index": False, "db_constraint": False}


class UsageRow(models.Model):
    """An organization's frozen usage of one resource in one usage update."""

    update = models.ForeignKey(
        UsageUpdate,
        on_delete=models.CASCADE,
        verbose_name="usage update",
        **{**_ROW_FK, "related_name": "rows"},
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, verbose_name="organization", **_ROW_FK
    )
    resource = models.ForeignKey(
        Resource, on_delete=models.PROTECT, verbose_name="resource", **_ROW_FK
    )
    reseller = models.ForeignKey(
        Reseller,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name="reseller at the time",
        **_ROW_FK,
    )
    used = QuantityField(
        "used", help_text="Counters: the billing period's total to the cut-off. Gauges: the level."
    )
    increment = QuantityField(
        "since the previous update", null=True, blank=True, help_text="Counters only."
    )
    peak = QuantityField(
        "period's peak",
        null=True,
        blank=True,
        help_text="Gauges only: the highest level at any update of the billing period.",
    )
    late = QuantityField(
        "late samples",
        null=True,
        blank=True,
        help_text="Counters only: samples counted here although measured before the previous "
        "update's cut-off (stored after it ran).",
    )
    limit = QuantityField("limit", null=True, blank=True)

    class Meta:
        verbose_name = "organization usage"
        verbose_name_plural = "organization usage"
        constraints = [
            models.UniqueConstraint(
                fields=["update", "organization", "resource"],
                name="%(app_label)s_%(class)s_unique_row",
            )
        ]
        # The unique index serves every lookup (by update, by update and organization);
        # a reseller's report reads its update's rows in that order and keeps its own.

    def __str__(self) -> str:
        return f"{self.organization_id}/{self.resource_id} in {self.update_id}: {self.used}"


class ResellerSnapshot(models.Model):
    """A reseller as it stood at a usage update: its place in the tree and its counts,
    so that reports of that update follow the tree it froze, not today's."""

    update = models.ForeignKey(
        UsageUpdate,
        on_delete=models.CASCADE,
        related_name="reseller_snapshots",
        verbose_name="usage update",
    )
    reseller = models.ForeignKey(
        Reseller, on_delete=models.PROTECT, related_name="+", verbose_name="reseller"
    )
    parent = models.ForeignKey(
        Reseller,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="parent reseller at the time",
    )
    organizations_count = models.PositiveIntegerField(
        "organizations", help_text="Added by it or by any of its sub-resellers."
    )
    direct_organizations_count = models.PositiveIntegerField("organizations added directly")
    sub_resellers_count = models.PositiveIntegerField("sub-resellers, at every depth")

    class Meta:
        verbose_name = "reseller at a usage update"
        constraints = [
            models.UniqueConstraint(
                fields=["update", "reseller"], name="%(app_label)s_%(class)s_unique_reseller"
            )
        ]
        indexes = [models.Index(fields=["update", "parent"], name="metering_snapshot_parent_idx")]

    def __str__(self) -> str:
        return f"{self.reseller_id} (parent {self.parent_id}) in {self.update_id}"


class UsageRollup(models.Model):
    """Usage summed for a reseller (sub-resellers included) or, with no reseller,
    for the whole provider, per resource, in one usage update."""

    update = models.ForeignKey(
        UsageUpdate, on_delete=models.CASCADE, related_name="rollups", verbose_name="usage update"
    )
    reseller = models.ForeignKey(
        Reseller,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="reseller",
        help_text="Empty: the provider as a whole.",
    )
    resource = models.ForeignKey(
        Resource, on_delete=models.PROTECT, related_name="+", verbose_name="resource"
    )
    used = QuantityField(
        "used", help_text="Counters: the billing period's total to the cut-off. Gauges: the level."
    )
    increment = QuantityField(
        "since the previous update", null=True, blank=True, help_text="Counters only."
    )
    peak = QuantityField(
        "period's peak",
        null=True,
        blank=True,
        help_text="Gauges only: the highest level at any update of the billing period.",
    )
    limit = QuantityField("limit", null=True, blank=True)
    allocated = QuantityField(
        "allocated",
        help_text="Limits given to its organizations and sub-resellers (the provider's: sold).",
    )
    organizations_count = models.PositiveIntegerField("organizations")

    class Meta:
        verbose_name = "usage roll-up"
        constraints = [
            models.UniqueConstraint(
                fields=["update", "reseller", "resource"],
                condition=Q(reseller__isnull=False),
                name="%(app_label)s_%(class)s_unique_reseller",
            ),
            models.UniqueConstraint(
                fields=["update", "resource"],
                condition=Q(reseller__isnull=True),
                name="%(app_label)s_%(class)s_unique_provider",
            ),
        ]
        indexes = [
            # The summary's top resellers: one short range per resource, largest first.
            models.Index(
                fields=["update", "resource", "-used", "reseller"],
                name="metering_rollup_top",
            ),
        ]

    def __str__(self) -> str:
        holder = self.reseller_id or "provider"
        return f"{holder}/{self.resource_id} in {self.update_id}: {self.used}"

    @property
    def available(self):
        return None if self.limit is None else self.limit - self.allocated


class UsageAdjustment(models.Model):
    """Counter samples that arrived after their billing period closed: the update that
    found them records them here, for the closed period's page and files, instead of
    changing the period's frozen figures or counting them in the current one."""

    update = models.ForeignKey(
        UsageUpdate,
        on_delete=models.CASCADE,
        related_name="adjustments",
        verbose_name="found by the usage update",
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name="organization"
    )
    resource = models.ForeignKey(
        Resource, on_delete=models.PROTECT, related_name="+", verbose_name="resource"
    )
    period_start = models.DateTimeField("billing period from")
    period_end = models.DateTimeField("billing period to")
    value = QuantityField("late usage")
    samples = models.PositiveIntegerField("samples")

    class Meta:
        verbose_name = "late usage of a closed period"
        verbose_name_plural = "late usage of closed periods"
        constraints = [
            models.UniqueConstraint(
                fields=["update", "organization", "resource", "period_start"],
                name="%(app_label)s_%(class)s_unique_adjustment",
            )
        ]
        indexes = [
            models.Index(fields=["period_start", "organization"], name="metering_adjust_period")
        ]

    def __str__(self) -> str:
        return (
            f"{self.organization_id}/{self.resource_id} +{self.value} ({self.period_start:%Y-%m})"
        )


class LogCursor(models.Model):
    """How far the web-traffic collector has read one access log."""

    path = models.CharField("log file", max_length=500, unique=True)
    inode = models.BigIntegerField("inode")
    offset = models.BigIntegerField("bytes read")
    head = models.CharField(
        "first line fingerprint", max_length=64, help_text="Tells a new file from the old one."
    )
    updated_at = models.DateTimeField("last read", auto_now=True)

    class Meta:
        verbose_name = "access log position"

    def __str__(self) -> str:
        return f"{self.path} @ {self.offset}"


class BandwidthCarry(models.Model):
    """Bytes sent by an organization's site that are not yet a whole thousandth of a MB:
    the web-traffic collector adds them to the next run, so no byte is lost to rounding."""

    organization = models.OneToOneField(
        Organization,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        verbose_name="organization",
    )
    bytes = models.PositiveSmallIntegerField("bytes carried")

    class Meta:
        verbose_name = "bandwidth carried to the next run"
        verbose_name_plural = "bandwidth carried to the next run"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(bytes__lt=1000),
                name="%(app_label)s_%(class)s_under_a_thousandth",
                violation_error_message="A carry is under 1,000 bytes.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.bytes} bytes"


class CollectionRun(models.Model):
    """A run of the built-in collectors ahead of a scheduled usage update, so that their
    samples are measured before its cut-off (metering.collection). One per due time,
    whichever scheduler queued it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    due_at = models.DateTimeField("for the update due at")
    status = models.CharField(
        "status", max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    queued_at = models.DateTimeField("queued", auto_now_add=True)
    started_at = models.DateTimeField("started", null=True, blank=True)
    finished_at = models.DateTimeField("finished", null=True, blank=True)
    disk_samples = models.PositiveIntegerField("disk space samples stored", default=0)
    bandwidth_samples = models.PositiveIntegerField("bandwidth samples stored", default=0)
    error = models.TextField("error", blank=True)

    class Meta:
        ordering = ["-due_at"]
        verbose_name = "collection run"
        constraints = [
            models.UniqueConstraint(fields=["due_at"], name="%(app_label)s_%(class)s_unique_due")
        ]

    def __str__(self) -> str:
        return f"Collection for {self.due_at:%Y-%m-%d %H:%M %Z} ({self.get_status_display()})"
