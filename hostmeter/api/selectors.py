"""What the API framework reads itself: the API tokens a login may see."""

from django.db.models import QuerySet

from hostmeter.accounts.levels import Action, user_can
from hostmeter.accounts.models import User

from .models import ApiToken


def api_tokens_visible_to(user: User) -> QuerySet[ApiToken]:
    """A login sees its own tokens; Systems (who manages logins) sees everyone's."""
    qs = ApiToken.objects.select_related("user", "created_by")
    return qs if user_can(user, Action.MANAGE_STAFF) else qs.filter(user=user)
