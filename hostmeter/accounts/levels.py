"""Login levels and what each may do: the one place that decides access."""

from django.db import models


class LoginLevel(models.TextChoices):
    SYSTEMS = "systems", "Systems"
    OPERATIONS = "operations", "Operations"
    MARKETING = "marketing", "Marketing"
    SUPPORT = "support", "Support"
    BILLING = "billing", "Billing"


class Action(models.TextChoices):
    VIEW_USAGE = "view_usage", "View usage tabs and overviews"
    GENERATE_REPORTS = "generate_reports", "Generate and export reports"
    MANAGE_SCHEDULE = "manage_schedule", "Change the usage schedule, run an update now"
    MANAGE_TENANCY = "manage_tenancy", "Add and change resellers and organizations"
    MANAGE_STAFF = "manage_staff", "Manage staff logins and levels"
    USE_ADMIN = "use_admin", "Open the administration site"
    INGEST_USAGE = "ingest_usage", "Push usage samples (collectors)"


_S, _O, _M = LoginLevel.SYSTEMS, LoginLevel.OPERATIONS, LoginLevel.MARKETING

# DESIGN.md's table. Levels not named for an action may not do it.
ALLOWED: dict[str, frozenset[str]] = {
    Action.VIEW_USAGE: frozenset({_S, _O, _M}),
    Action.GENERATE_REPORTS: frozenset({_S, _O, _M}),
    Action.MANAGE_SCHEDULE: frozenset({_S}),
    Action.MANAGE_TENANCY: frozenset({_S, _O}),
    Action.MANAGE_STAFF: frozenset({_S}),
    Action.USE_ADMIN: frozenset({_S, _O}),
    # Samples change every figure the pages and reports show; DESIGN.md's table has no
    # row for them, so they take the levels that may change the customer base.
    Action.INGEST_USAGE: frozenset({_S, _O}),
}


def user_login_level(user) -> str | None:
    """The user's login level; a superuser without one counts as Systems."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.login_level:
        return user.login_level
    return LoginLevel.SYSTEMS if user.is_superuser else None


def user_can(user, action: str) -> bool:
    return user_login_level(user) in ALLOWED[action]
