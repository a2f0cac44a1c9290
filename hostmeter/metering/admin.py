"""Usage data in the admin: to look at, never to edit (samples and updates are frozen)."""

from django.contrib import admin
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from hostmeter.accounts.access import LevelAdminMixin

from .models import (
    CollectionRun,
    LogCursor,
    UsageAdjustment,
    UsageRollup,
    UsageRow,
    UsageSample,
    UsageUpdate,
)


class ReadOnlyAdmin(LevelAdminMixin, admin.ModelAdmin):
    """The levels let into the admin look; nobody adds, changes or deletes."""


# The task queue's records (usage updates, collectors and reports run as its tasks):
# django_tasks_db's read-only admin (registered before ours: INSTALLED_APPS' order), with
# the levels instead of Django's model permissions deciding who looks.
admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskResultAdmin(LevelAdminMixin, DBTaskResultAdmin):
    pass


@admin.register(UsageUpdate)
class UsageUpdateAdmin(ReadOnlyAdmin):
    list_display = [
        "cutoff",
        "status",
        "trigger",
        "started_at",
        "finished_at",
        "organizations_count",
        "rows_count",
    ]
    list_filter = ["status", "trigger"]
    date_hierarchy = "cutoff"


@admin.register(UsageSample)
class UsageSampleAdmin(ReadOnlyAdmin):
    list_display = ["organization", "resource", "measured_at", "value", "source"]
    list_filter = ["resource", "source"]
    search_fields = ["organization__domain"]
    list_select_related = ["organization", "resource"]
    show_full_result_count = False  # COUNT(*) of a large sample table is slow


@admin.register(UsageRow)
class UsageRowAdmin(ReadOnlyAdmin):
    list_display = [
        "update",
        "organization",
        "resource",
        "used",
        "increment",
        "peak",
        "late",
        "limit",
    ]
    list_filter = ["resource"]
    search_fields = ["organization__domain"]
    list_select_related = ["update", "organization", "resource"]
    show_full_result_count = False


@admin.register(UsageRollup)
class UsageRollupAdmin(ReadOnlyAdmin):
    list_display = [
        "update",
        "reseller",
        "resource",
        "used",
        "increment",
        "peak",
        "limit",
        "allocated",
    ]
    list_filter = ["resource"]
    list_select_related = ["update", "reseller", "resource"]


@admin.register(UsageAdjustment)
class UsageAdjustmentAdmin(ReadOnlyAdmin):
    list_display = [
        "period_start",
        "period_end",
        "organization",
        "resource",
        "value",
        "samples",
        "update",
    ]
    list_filter = ["resource"]
    search_fields = ["organization__domain"]
    list_select_related = ["update", "organization", "resource"]


@admin.register(LogCursor)
class LogCursorAdmin(ReadOnlyAdmin):
    list_display = ["path", "offset", "updated_at"]


@admin.register(CollectionRun)
class CollectionRunAdmin(ReadOnlyAdmin):
    list_display = [
        "due_at",
        "status",
        "started_at",
        "finished_at",
        "disk_samples",
        "bandwidth_samples",
    ]
    list_filter = ["status"]
    date_hierarchy = "due_at"
