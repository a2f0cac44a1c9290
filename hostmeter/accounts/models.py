"""Staff logins, each with one login level."""

from django.contrib.auth.models import AbstractUser
from django.db import models

from .levels import LoginLevel


class User(AbstractUser):
    """A staff member of the hosting service provider."""

    login_level = models.CharField(
        "login level",
        max_length=20,
        choices=LoginLevel.choices,
        blank=True,
        help_text="Decides which pages and actions the login may use.",
    )

    class Meta:
        verbose_name = "staff login"
        verbose_name_plural = "staff logins"
