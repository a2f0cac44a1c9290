"""Which usage update the pages, files and API show."""

from ..models import UsageUpdate


def usage_update_latest() -> UsageUpdate | None:
    """The most recent completed update: the one pages and reports show."""
    return (
        UsageUpdate.objects.filter(status=UsageUpdate.Status.SUCCEEDED).order_by("-cutoff").first()
    )
