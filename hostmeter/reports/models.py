"""Report records: one file per subject and usage update, with its status."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from hostmeter.metering.models import UsageUpdate
from hostmeter.tenancy.models import Organization, Reseller


class Report(models.Model):
    """A report file generated from one usage update for one subject."""

    class Kind(models.TextChoices):
        SUMMARY = "summary", "Summary"
        RESELLERS = "resellers", "Reseller usage"
        ORGANIZATIONS = "organizations", "Organization site usage"
        RESELLER = "reseller", "Reseller"
        ORGANIZATION = "organization", "Organization"

    class Status(models.TextChoices):
        # "Not generated" is the absence of a record for the most recent update.
        QUEUED = "queued", "Queued"
        GENERATING = "generating", "Generating"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    kind = models.CharField("kind", max_length=20, choices=Kind.choices)
    reseller = models.ForeignKey(
        Reseller,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name="reseller",
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name="organization",
    )
    subtree = models.ForeignKey(
        Reseller,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="subtree of",
        help_text="A reseller login's summary, reseller usage and organization site usage "
        "files: its reseller's subtree as the update froze it. Empty: the provider's.",
    )
    update = models.ForeignKey(
        UsageUpdate, on_delete=models.CASCADE, related_name="reports", verbose_name="usage update"
    )
    format = models.CharField("format", max_length=5, choices=Format.choices, default=Format.CSV)
    status = models.CharField(
        "status", max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField("% done", default=0)
    error = models.TextField("reason it failed", blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="requested by",
    )
    requested_at = models.DateTimeField("requested at", auto_now_add=True)
    started_at = models.DateTimeField("started at", null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        "last sign of life", null=True, blank=True, help_text="Written by the generating task."
    )
    generated_at = models.DateTimeField("generated at", null=True, blank=True)
    file = models.FileField("file", upload_to="reports/%Y/%m/", max_length=300, blank=True)
    row_count = models.PositiveIntegerField("rows", null=True, blank=True)
    size = models.PositiveBigIntegerField("size (bytes)", null=True, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)

    class Meta:
        verbose_name = "report"
        ordering = ["-requested_at"]
        indexes = [
            # the export tab's generated files: each update's Ready ones, newest first
            # (selectors._ReadyByUpdate)
            models.Index(
                fields=["status", "update", "generated_at", "id"], name="reports_ready_by_update"
            ),
        ]
        constraints = [
            # one report per subject, update and format (three, as NULLs differ)
            models.UniqueConstraint(
                fields=["update", "reseller", "format"],
                condition=Q(reseller__isnull=False),
                name="%(app_label)s_%(class)s_unique_reseller",
            ),
            models.UniqueConstraint(
                fields=["update", "organization", "format"],
                condition=Q(organization__isnull=False),
                name="%(app_label)s_%(class)s_unique_organization",
            ),
            models.UniqueConstraint(
                fields=["update", "kind", "format"],
                condition=Q(reseller__isnull=True, organization__isnull=True, subtree__isnull=True),
                name="%(app_label)s_%(class)s_unique_whole",
            ),
            models.UniqueConstraint(
                fields=["update", "kind", "format", "subtree"],
                condition=Q(subtree__isnull=False),
                name="%(app_label)s_%(class)s_unique_subtree",
            ),
            models.CheckConstraint(
                condition=Q(subtree__isnull=True)
                | Q(kind__in=["summary", "resellers", "organizations"]),
                name="%(app_label)s_%(class)s_subtree_of_whole_kinds",
                violation_error_message="Only the summary, reseller usage and organization "
                "site usage reports are made for a reseller's subtree.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="reseller", reseller__isnull=False, organization__isnull=True)
                    | Q(kind="organization", organization__isnull=False, reseller__isnull=True)
                    | Q(
                        kind__in=["summary", "resellers", "organizations"],
                        reseller__isnull=True,
                        organization__isnull=True,
                    )
                ),
                name="%(app_label)s_%(class)s_subject_matches_kind",
                violation_error_message="A report's subject does not match its kind.",
            ),
        ]

    def __str__(self) -> str:
        subject = self.reseller or self.organization or self.get_kind_display()
        if self.subtree_id:
            subject = f"{subject} of {self.subtree}"
        return f"{subject} report as of {self.update.cutoff:%Y-%m-%d %H:%M} ({self.status})"


# Statuses of a report still on its way to Ready or Failed.
IN_PROGRESS = (Report.Status.QUEUED, Report.Status.GENERATING)


class ReportEvent(models.Model):
    """Audit log: who asked for, generated or downloaded which report, and when."""

    class Action(models.TextChoices):
        REQUESTED = "requested", "Requested generation"
        GENERATED = "generated", "Generated"
        FAILED = "failed", "Failed"
        DOWNLOADED = "downloaded", "Downloaded"

    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="events", verbose_name="report"
    )
    action = models.CharField("action", max_length=12, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="staff login",
    )
    at = models.DateTimeField("at", auto_now_add=True, db_index=True)
    detail = models.CharField("detail", max_length=300, blank=True)

    class Meta:
        verbose_name = "report audit entry"
        verbose_name_plural = "report audit log"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user or 'system'} {self.action} {self.report_id}"
