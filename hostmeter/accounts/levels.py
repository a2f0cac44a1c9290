"""Login levels and what each may do: the one place that decides access."""

from django.db import models


class LoginLevel(models.TextChoices):
    SYSTEMS = "systems", "Systems"
    OPERATIONS = "operations", "Operations"
    MARKETING = "marketing", "Marketing"
    SUPPORT = "support", "Support"
    BILLING = "billing", "Billing"
    RESELLER = "reseller", "Reseller"


class Action(models.TextChoices):
    VIEW_USAGE = "view_usage", "View usage tabs and overviews"
    GENERATE_REPORTS = "generate_reports", "Generate and export reports"
    MANAGE_SCHEDULE = "manage_schedule", "Change the usage schedule, run an update now"
    MANAGE_TENANCY = "manage_tenancy", "Add and change resellers and organizations"
    MANAGE_STAFF = "manage_staff", "Manage staff logins and levels"
    USE_ADMIN = "use_admin", "Open the administration site"
    INGEST_USAGE = "ingest_usage", "Push usage samples (collectors)"


_S, _O, _M = LoginLevel.SYSTEMS, LoginLevel.OPERATIONS, LoginLevel.MARKETING
_R = LoginLevel.RESELLER

# DESIGN.md's table. Levels not named for an action may not do it.
ALLOWED: dict[str, frozenset[str]] = {
    # A reseller login, only on its own subtree: see user_can's `scoped`.
    Action.VIEW_USAGE: frozenset({_S, _O, _M, _R}),
    Action.GENERATE_REPORTS: frozenset({_S, _O, _M, _R}),
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


def user_can(user, action: str, *, scoped: bool = False) -> bool:
    """Whether the user's level may do the action here. A reseller login sees only its
    own subtree (tenancy.scope), so it may only where the caller applies that scope and
    says so (scoped=True): a page, part or endpoint that does not is closed to it."""
    level = user_login_level(user)
    if level == LoginLevel.RESELLER and not scoped:
        return False
    return level in ALLOWED[action]
