"""Authentication backend that grants the permissions of the user's login level."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q

from .levels import LoginLevel, user_login_level


class LoginLevelBackend(ModelBackend):
    """Model permissions come from the user's groups and the group of its login level.

    The level groups are created by a data migration and receive their default
    permissions after every migrate (see signals.py); Systems may add more in the admin.
    """

    def _get_group_permissions(self, user_obj):
        level = user_login_level(user_obj)
        level_group = LoginLevel(level).label if level else None
        return Permission.objects.filter(
            Q(group__user=user_obj) | Q(group__name=level_group)
        ).distinct()
