"""The provider, its service catalog, resellers, organizations and their limits."""

import zoneinfo
from datetime import datetime
from typing import TypeVar

from croniter import CroniterBadDateError, croniter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone

from hostmeter.fields import NameKeyField, QuantityField

from .billing import Period, billing_period, period_named
from .names import KEY_LENGTH, name_key

domain_validator = RegexValidator(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    "Enter a lower-case domain name such as example.com.",
)


class DomainNormalizingMixin:
    """Domains are compared lower-case and without surrounding blanks."""

    def clean_fields(self, exclude=None):
        self.domain = (self.domain or "").strip().lower()
        super().clean_fields(exclude=exclude)


class NameKeyMixin:
    """Keeps name_key, what lists sort by and searches match (tenancy.names), in step
    with the name on every save. Paths that write rows without save() (bulk_create)
    set it themselves; a CHECK constraint refuses a row whose key was forgotten."""

    def clean_fields(self, exclude=None):
        self.name_key = name_key(self.name or "")  # before validation: the CHECK wants it
        super().clean_fields(exclude=exclude)

    def save(self, *args, **kwargs):
        self.name_key = name_key(self.name)
        if (fields := kwargs.get("update_fields")) is not None:
            fields = list(fields)
            kwargs["update_fields"] = [*fields, "name_key"] if "name" in fields else fields
        super().save(*args, **kwargs)


_M = TypeVar("_M", bound=models.Model)


class NameKeyQuerySet(models.QuerySet[_M]):
    """bulk_create, bulk_update and update() keep name_key in step with the name too."""

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            obj.name_key = name_key(obj.name)
        if "name" in (fields := list(kwargs.get("update_fields") or [])):  # an upsert
            kwargs["update_fields"] = [*fields, "name_key"]
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs, fields = list(objs), list(fields)
        if "name" in fields:
            for obj in objs:
                obj.name_key = name_key(obj.name)
            fields = [*fields, "name_key"]
        return super().bulk_update(objs, fields, *args, **kwargs)

    def update(self, **kwargs):
        if "name" in kwargs and "name_key" not in kwargs:  # (bulk_update passes both)
            if not isinstance(kwargs["name"], str):
                raise TypeError("update(name=…) takes a plain name, to fold its key here.")
            kwargs["name_key"] = name_key(kwargs["name"])
        return super().update(**kwargs)


def _name_key_field():
    return NameKeyField("sort and search key", max_length=KEY_LENGTH, editable=False)


def _name_key_set(model: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(name="") | ~Q(name_key=""),
        name=f"%(app_label)s_{model}_name_key_set",
        violation_error_message="The name's sort key is missing.",
    )


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone (try Europe/Berlin or UTC).")


def validate_cron(value: str) -> None:
    if len(value.split()) != 5 or not croniter.is_valid(value):
        raise ValidationError(
            f"“{value}” is not a cron expression of five fields "
            "(minute hour day-of-month month day-of-week), e.g. “0 2 * * *”."
        )
    try:
        croniter(value).get_next()
    except CroniterBadDateError:
        raise ValidationError(f"“{value}” never happens (no such date).") from None


class Provider(models.Model):
    """The hosting service provider running this panel: one row, its settings."""

    class CsvDelimiter(models.TextChoices):
        COMMA = ",", "Comma"
        SEMICOLON = ";", "Semicolon"

    name = models.CharField("name", max_length=200, default="Hosting provider")
    time_zone = models.CharField(
        "time zone", max_length=64, default="UTC", validators=[validate_time_zone]
    )
    usage_schedule = models.CharField(
        "usage schedule",
        max_length=100,
        default="0 2 * * *",
        validators=[validate_cron],
        help_text="When usage updates run: a cron expression in the provider's time zone.",
    )
    billing_anchor_day = models.PositiveSmallIntegerField(
        "billing period starts on day",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text="Counters are totalled per month from midnight of this day (1–28), "
        "in the provider's time zone.",
    )
    csv_bom = models.BooleanField(
        "CSV byte order mark", default=True, help_text="Lets spreadsheets read accents."
    )
    csv_delimiter = models.CharField(
        "CSV delimiter", max_length=1, choices=CsvDelimiter.choices, default=CsvDelimiter.COMMA
    )

    class Meta:
        verbose_name = "provider settings"
        verbose_name_plural = "provider settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(id=1),
                name="%(app_label)s_%(class)s_single_row",
                violation_error_message="There is only one provider.",
            ),
            models.CheckConstraint(
                condition=Q(billing_anchor_day__gte=1, billing_anchor_day__lte=28),
                name="%(app_label)s_%(class)s_anchor_day",
                violation_error_message="A billing period starts on day 1 to 28.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def billing_period(self, instant: datetime) -> Period:
        """The billing period an instant belongs to (tenancy.billing)."""
        return billing_period(instant, anchor_day=self.billing_anchor_day, zone=self.zone)

    def billing_period_named(self, key: str) -> Period:
        """The billing period a YYYY-MM key names; ValueError for anything else."""
        return period_named(key, anchor_day=self.billing_anchor_day, zone=self.zone)

    @classmethod
    def get(cls) -> "Provider":
        provider, _ = cls.objects.get_or_create(pk=1)
        return provider


class Service(models.Model):
    """A hosted capability the provider sells (Web hosting, Email, …)."""

    code = models.SlugField("code", max_length=20, unique=True)
    name = models.CharField("name", max_length=100)
    position = models.PositiveSmallIntegerField("position", default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = "service"

    def __str__(self) -> str:
        return self.name

    @property
    def icon(self) -> str:
        """Static path of the service's SVG icon."""
        return f"tenancy/icons/{self.code}.svg"


class Resource(models.Model):
    """A metered quantity of a service, with its unit and kind."""

    class Kind(models.TextChoices):
        GAUGE = "gauge", "Gauge (level at a moment)"
        COUNTER = "counter", "Counter (amount during the period)"

    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="resources", verbose_name="service"
    )
    code = models.SlugField("code", max_length=40, unique=True)
    name = models.CharField("name", max_length=100)
    unit = models.CharField("unit", max_length=20, help_text="MB or count.")
    kind = models.CharField("kind", max_length=10, choices=Kind.choices)
    threshold_percent = models.DecimalField(
        "threshold %",
        max_digits=5,
        decimal_places=2,
        default=80,
        validators=[MinValueValidator(0), MaxValueValidator(1000)],
        help_text="Usage above this share of the limit is flagged.",
    )
    position = models.PositiveSmallIntegerField("position", default=0)

    class Meta:
        ordering = ["service__position", "position", "code"]
        verbose_name = "resource"

    def __str__(self) -> str:
        return f"{self.name} ({self.unit})"


class Reseller(NameKeyMixin, DomainNormalizingMixin, models.Model):
    """A partner the provider has added; may itself have sub-resellers."""

    name = models.CharField("name", max_length=200)
    name_key = _name_key_field()
    domain = models.CharField("domain", max_length=253, unique=True, validators=[domain_validator])
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name="parent reseller",
        help_text="Empty: added by the provider.",
    )
    contact_name = models.CharField("contact name", max_length=200, blank=True)
    contact_email = models.EmailField("contact email", blank=True)
    services = models.ManyToManyField(
        Service, blank=True, related_name="resellers", verbose_name="allocated services"
    )
    is_suspended = models.BooleanField("suspended", default=False)
    created_at = models.DateTimeField("added", auto_now_add=True)

    objects = NameKeyQuerySet.as_manager()

    class Meta:
        ordering = ["name_key", "id"]
        verbose_name = "reseller"
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=F("id")),
                name="%(app_label)s_%(class)s_not_own_parent",
                violation_error_message="A reseller cannot be its own parent.",
            ),
            _name_key_set("reseller"),
        ]
        indexes = [
            models.Index(fields=["parent"], name="tenancy_reseller_parent_idx"),
            # the reseller usage list pages through resellers by name, folded
            models.Index(fields=["name_key", "id"], name="tenancy_reseller_namekey_idx"),
            # the API's keyset pages go by (name, id) as stored
            models.Index(fields=["name", "id"], name="tenancy_reseller_nameid_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        seen = {self.pk} if self.pk else set()
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk in seen:
                raise ValidationError({"parent": "A reseller cannot be its own ancestor."})
            seen.add(ancestor.pk)
            ancestor = ancestor.parent


class ResellerLink(models.Model):
    """Closure of the reseller tree: every (ancestor, descendant) pair, self included.

    Rebuilt by tenancy.services whenever the tree changes; lets a roll-up of a
    reseller take its sub-resellers' organizations in one SQL join.
    """

    ancestor = models.ForeignKey(
        Reseller, on_delete=models.CASCADE, related_name="+", verbose_name="ancestor"
    )
    descendant = models.ForeignKey(
        Reseller, on_delete=models.CASCADE, related_name="+", verbose_name="descendant"
    )
    depth = models.PositiveSmallIntegerField("depth")

    class Meta:
        verbose_name = "reseller link"
        constraints = [
            models.UniqueConstraint(
                fields=["ancestor", "descendant"], name="%(app_label)s_%(class)s_unique_pair"
            )
        ]
        indexes = [models.Index(fields=["descendant"], name="tenancy_link_descendant_idx")]

    def __str__(self) -> str:
        return f"{self.ancestor_id} ⊇ {self.descendant_id} ({self.depth})"


class Organization(NameKeyMixin, DomainNormalizingMixin, models.Model):
    """A customer with its hosted site, added by a reseller or by the provider directly."""

    name = models.CharField("name", max_length=200)
    name_key = _name_key_field()
    domain = models.CharField("domain", max_length=253, unique=True, validators=[domain_validator])
    reseller = models.ForeignKey(
        Reseller,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organizations",
        verbose_name="reseller",
        help_text="Empty: added by the provider directly.",
    )
    services = models.ManyToManyField(
        Service, blank=True, related_name="organizations", verbose_name="enabled services"
    )
    is_suspended = models.BooleanField("suspended", default=False)
    created_at = models.DateTimeField("added", auto_now_add=True)
    reseller_since = models.DateTimeField(
        "with its reseller since",
        db_default=Now(),
        editable=False,
        help_text="When it was added or last moved to another reseller (or to none): a "
        "usage update that started earlier froze it where it is now (metering.scope).",
    )

    objects = NameKeyQuerySet.as_manager()

    class Meta:
        ordering = ["name_key", "id"]
        verbose_name = "organization"
        constraints = [_name_key_set("organization")]
        indexes = [
            # a reseller's organizations by name: the list sorted by reseller walks it
            # reseller by reseller (usage.selectors._by_reseller)
            models.Index(
                fields=["reseller", "name_key", "id"], name="tenancy_org_reseller_name_idx"
            ),
            # the organization site usage list pages through organizations by name,
            # folded; with the domain, a search reads the index alone, not each row
            models.Index(fields=["name_key", "id", "domain"], name="tenancy_org_namekey_dom_idx"),
            # the API's keyset pages go by (name, id) as stored
            models.Index(fields=["name", "id"], name="tenancy_org_nameid_idx"),
            # those added or moved since a usage update started (metering.scope): few
            models.Index(fields=["reseller_since"], name="tenancy_org_since_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # a move to another reseller (or to none) restarts reseller_since; a partial
        # save that leaves the reseller alone leaves it alone
        loaded = getattr(self, "_loaded_reseller_id", self.reseller_id)
        fields = kwargs.get("update_fields")
        if self.pk is not None and loaded != self.reseller_id:
            self.reseller_since = timezone.now()
            if fields is not None:
                kwargs["update_fields"] = [*fields, "reseller_since"]
        super().save(*args, **kwargs)
        self._loaded_reseller_id = self.reseller_id

    @classmethod
    def from_db(cls, db, field_names, values):
        organization = super().from_db(db, field_names, values)
        organization._loaded_reseller_id = organization.__dict__.get("reseller_id")
        return organization


class ResourceLimit(models.Model):
    """A limit on a resource: the provider's capacity, or one allocated to a reseller
    or an organization. Neither reseller nor organization set: the provider's."""

    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, related_name="limits", verbose_name="resource"
    )
    reseller = models.ForeignKey(
        Reseller,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="limits",
        verbose_name="reseller",
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="limits",
        verbose_name="organization",
    )
    limit = QuantityField("limit", validators=[MinValueValidator(0)])

    class Meta:
        verbose_name = "resource limit"
        constraints = [
            models.CheckConstraint(
                condition=Q(reseller__isnull=True) | Q(organization__isnull=True),
                name="%(app_label)s_%(class)s_one_holder",
                violation_error_message="A limit belongs to a reseller or an organization, "
                "not both.",
            ),
            models.CheckConstraint(
                condition=Q(limit__gte=0),
                name="%(app_label)s_%(class)s_not_negative",
                violation_error_message="A limit cannot be negative.",
            ),
            models.UniqueConstraint(
                fields=["resource"],
                condition=Q(reseller__isnull=True, organization__isnull=True),
                name="%(app_label)s_%(class)s_unique_provider",
                violation_error_message="The provider already has a limit for this resource.",
            ),
            models.UniqueConstraint(
                fields=["reseller", "resource"],
                condition=Q(reseller__isnull=False),
                name="%(app_label)s_%(class)s_unique_reseller",
                violation_error_message="This reseller already has a limit for this resource.",
            ),
            models.UniqueConstraint(
                fields=["organization", "resource"],
                condition=Q(organization__isnull=False),
                name="%(app_label)s_%(class)s_unique_organization",
                violation_error_message="This organization already has a limit for this resource.",
            ),
        ]

    def __str__(self) -> str:
        holder = self.reseller or self.organization or "provider"
        return f"{holder}: {self.resource} ≤ {self.limit}"


class ResellerLogin(models.Model):
    """A login of a reseller (login level Reseller): in Reports → Usage it sees that
    reseller's subtree, its sub-resellers and every organization below it, and nothing
    else (tenancy.scope)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="reseller_login",
        verbose_name="login",
    )
    reseller = models.ForeignKey(
        Reseller,
        on_delete=models.PROTECT,
        related_name="logins",
        verbose_name="reseller",
        help_text="The login sees this reseller's usage and its customers', nobody else's.",
    )

    class Meta:
        verbose_name = "reseller login"
        indexes = [models.Index(fields=["reseller"], name="tenancy_login_reseller_idx")]

    def __str__(self) -> str:
        return f"{self.user} of {self.reseller}"
