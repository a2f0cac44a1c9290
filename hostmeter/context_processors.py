"""What the navigation bar needs on every page."""

from hostmeter.accounts.levels import Action, LoginLevel, user_can, user_login_level
from hostmeter.tenancy.models import Provider

# The namespaces whose pages sit under Reports in the top navigation bar.
REPORTS_SECTION = frozenset({"reports", "usage", "metering"})


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {"provider_name": ""}}
    level = user_login_level(user)
    match = getattr(request, "resolver_match", None)
    return {
        "nav": {
            "provider_name": _provider_name(request),
            "level_label": LoginLevel(level).label if level else "No level",
            "may_admin": user_can(user, Action.USE_ADMIN),
            "may_schedule": user_can(user, Action.MANAGE_SCHEDULE),
            "section": "reports" if match and match.namespace in REPORTS_SECTION else "",
        }
    }


def _provider_name(request) -> str:
    # one query per request at most, shared with the views through the request
    if not hasattr(request, "_hostmeter_provider"):
        request._hostmeter_provider = Provider.get()
    return request._hostmeter_provider.name
