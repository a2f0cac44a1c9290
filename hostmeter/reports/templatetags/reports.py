"""Template helpers for report status: a listed subject's report status and time cells."""

from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_PLAIN = {
    None: mark_safe('<span class="status">Not generated</span>'),
    "queued": mark_safe('<span class="status queued">Queued</span>'),
    "ready": mark_safe('<span class="status ready">Ready</span>'),
}


@register.simple_tag
def report_status_cells(row, oob: bool = False) -> SafeString:
    """A listed row's report status and report last updated cells (with_report's
    annotations), swapped in by id when oob (the status poll). A list shows them on
    every row, where a template of their own cost ~2 ms a page."""
    status = getattr(row, "report_status", None) or None
    if status in _PLAIN:
        cell = _PLAIN[status]
    elif status == "generating":
        done = row.report_progress
        cell = format_html(
            '<span class="status generating">Generating <span class="progress" '
            'role="progressbar" aria-valuenow="{}" aria-valuemin="0" aria-valuemax="100" '
            'aria-label="{} % done"><span style="width: {}%"></span></span> {} %</span>',
            done,
            done,
            done,
            done,
        )
    else:
        cell = format_html(
            '<span class="status failed" title="{}">Failed</span> <button class="btn small" '
            'type="submit" form="retry-form" name="selected" value="{}" '
            'aria-label="Generate the report of {} again" title="{}">retry</button>',
            row.report_error,
            row.pk,
            row.name,
            row.report_error,
        )
    if row.report_generated_at:
        at = timezone.localtime(row.report_generated_at)
        updated = format_html(
            '<time datetime="{}">{}</time>',
            dateformat.format(at, "c"),
            dateformat.format(at, "j M Y, H:i"),
        )
    else:
        updated = mark_safe('<span class="muted">–</span>')
    swap = mark_safe(' hx-swap-oob="true"') if oob else ""
    return format_html(
        '<td id="report-status-{}"{}>{}</td>'
        '<td id="report-updated-{}" class="hide-narrow"{}>{}</td>',
        row.pk,
        swap,
        cell,
        row.pk,
        swap,
        updated,
    )
