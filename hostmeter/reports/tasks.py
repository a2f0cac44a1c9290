"""Background entry points for report generation.

Services enqueue these; a task imports the service it calls inside its body, so that
services can import tasks at the top (HackSoft's rule, no import cycle at load).
"""

from django_tasks import task


@task()
def report_generate_task(report_id: int) -> str:
    """Generates one queued report; returns its final status."""
    from .services import report_generate

    return report_generate(report_id=report_id).status
