"""API tokens: a staff login's credentials for scripts, stored hashed."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ApiToken(models.Model):
    """A bearer token of one staff login. Only a SHA-256 of the token is kept: the token
    itself is shown once, when it is created. It acts with its login's level, narrowed to
    pushing usage samples when its scope is "ingest"."""

    class Scope(models.TextChoices):
        FULL = "full", "Everything the login's level may do"
        INGEST = "ingest", "Push usage samples only"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name="staff login",
    )
    name = models.CharField("name", max_length=100, help_text="What uses it, e.g. billing-sync.")
    prefix = models.CharField(
        "prefix", max_length=16, unique=True, help_text="Public part, shown to tell tokens apart."
    )
    key_hash = models.CharField("SHA-256 of the token", max_length=64, unique=True)
    scope = models.CharField("scope", max_length=10, choices=Scope.choices, default=Scope.FULL)
    created_at = models.DateTimeField("created at", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="created by",
    )
    last_used_at = models.DateTimeField("last used at", null=True, blank=True)
    revoked_at = models.DateTimeField("revoked at", null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=["full", "ingest"]),
                name="%(app_label)s_%(class)s_known_scope",
                violation_error_message="A token's scope is full or ingest.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.display_prefix}…)"

    @property
    def display_prefix(self) -> str:
        return f"{TOKEN_MARK}_{self.prefix}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


# Tokens look like hmt_<prefix>_<secret>: the mark lets secret scanners recognise them.
TOKEN_MARK = "hmt"
