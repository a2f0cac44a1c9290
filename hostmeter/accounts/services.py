"""Functions that change staff logins."""

from .levels import LoginLevel
from .models import User


def user_save(*, username: str, password: str | None, login_level: str, email: str = "") -> User:
    """Creates the login, or updates the one with that username; returns it."""
    LoginLevel(login_level)  # refuses an unknown level with a ValueError
    user = User.objects.filter(username=username).first() or User(username=username)
    user.login_level, user.email = login_level, email or user.email
    if password is not None:
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user
