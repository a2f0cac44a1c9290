"""Background entry points for report generation."""

from django_tasks import task

from .services import report_generate


@task()
def report_generate_task(report_id: int) -> str:
    """Generates one queued report; returns its final status."""
    return report_generate(report_id=report_id).status
