"""Authentication backend: signs in with username and password, and grants no model
permissions, since what a login may do is its level's (levels.py) and nothing else."""

from axes.backends import AxesStandaloneBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lock-out for the sign-in pages, which always pass the request; code
    that checks a password without one (a command, a test) is not a sign-in to count."""

    def authenticate(self, request, *args, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


class LoginLevelBackend(ModelBackend):
    """Django's model permissions (groups, per-login grants) would be a second table of
    who may do what next to levels.ALLOWED: this backend answers none of them, so
    user.has_perm() is False for every login but an active superuser (Django's own rule,
    which the admin never asks: accounts.access.LevelAdminMixin decides there)."""

    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return set()

    def with_perm(self, perm, is_active=True, include_superusers=True, obj=None):
        """The active superusers (or nobody): no one else holds a model permission."""
        users = get_user_model()._default_manager.filter(is_superuser=True)
        if not include_superusers or obj is not None:
            return users.none()
        return users if is_active is None else users.filter(is_active=is_active)
