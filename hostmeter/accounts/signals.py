"""Give each login level's group its default model permissions after migrate."""

from django.contrib.auth.models import Group, Permission

from .levels import LoginLevel

# Operations edits the customer base; everything else it may only look at.
OPERATIONS_EDITS = {"tenancy": {"reseller", "organization", "resourcelimit"}}


def level_groups_grant_permissions(**kwargs) -> None:
    """Adds the defaults to the level groups; never removes what Systems granted."""
    permissions = list(Permission.objects.select_related("content_type"))
    if not permissions:
        return
    groups = {g.name: g for g in Group.objects.filter(name__in=LoginLevel.labels)}
    if systems := groups.get(LoginLevel.SYSTEMS.label):
        systems.permissions.add(*permissions)
    if operations := groups.get(LoginLevel.OPERATIONS.label):
        operations.permissions.add(
            *[
                p
                for p in permissions
                if p.codename.startswith("view_")
                or p.content_type.model in OPERATIONS_EDITS.get(p.content_type.app_label, ())
            ]
        )
