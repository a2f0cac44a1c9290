"""The API's one access check: each view names the levels.Action an HTTP method needs,
and hostmeter.accounts.levels.user_can decides, as it does for the pages."""

from rest_framework.permissions import BasePermission

from hostmeter.accounts.levels import ALLOWED, Action, LoginLevel, user_can, user_login_level

from .models import ApiToken

# A token's "ingest" scope narrows what it may do, never widens it.
INGEST = Action.INGEST_USAGE
# Reading and managing one's own API tokens: any staff login (token holders only).
OWN_TOKENS = "own_tokens"


def required_action(view, request) -> str | None:
    """The Action the view declares for this request's method (HEAD counts as GET)."""
    method = "GET" if request.method == "HEAD" else request.method
    return getattr(view, "level_actions", {}).get(method)


def token_of(request) -> ApiToken | None:
    return request.auth if isinstance(request.auth, ApiToken) else None


class LevelPermission(BasePermission):
    """401 without credentials (DRF, via the token scheme's WWW-Authenticate), 403 for a
    login whose level may not, and 403 for an ingest-only token outside the ingest."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        action = required_action(view, request)
        if action is None:
            if not hasattr(view, request.method.lower()):
                return True  # a method the view does not have: DRF answers 405
            # a method the view has but forgot to map is refused, never let through
            self.message = "This method is not available here."
            return False
        token = token_of(request)
        if token and token.scope == ApiToken.Scope.INGEST and not getattr(view, "ingest", False):
            self.message = "This token may only push usage samples (its scope is ingest)."
            return False
        if action == OWN_TOKENS:
            if request.method == "POST" and not _may_use_api(user):
                self.message = (
                    "Your login level may use no part of the API, so it cannot create API "
                    "tokens (its own tokens it may still list and revoke)."
                )
                return False
            return True
        if not user_can(user, action, scoped=getattr(view, "reseller_scoped", False)):
            self.message = _refusal(user, action, view)
            return False
        return True


def _may_use_api(user) -> bool:
    # a reseller login reads its subtree through the endpoints that are scoped to it
    return user_can(user, Action.VIEW_USAGE, scoped=True) or user_can(user, Action.INGEST_USAGE)


def _refusal(user, action: str, view) -> str:
    level = user_login_level(user)
    if level == LoginLevel.RESELLER and user_can(user, action, scoped=True):
        # user_can's `scoped`: this endpoint does not limit its answers to a subtree
        return "A Reseller login may not use this endpoint: it is not limited to its customers."
    label = LoginLevel(level).label if level else "no login level"
    allowed = ", ".join(lvl.label for lvl in LoginLevel if lvl in ALLOWED[action])
    what = "push usage samples" if getattr(view, "ingest", False) else Action(action).label
    return f"Your login level ({label}) may not {what.lower()}; allowed: {allowed}."
