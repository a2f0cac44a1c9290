"""What part of the customer base a login sees: all of it (the provider's staff) or one
reseller's subtree (a reseller login: the reseller, its sub-resellers at every depth and
every organization any of them added).

The one place the rule lives (NetBox's `restrict()` idea): pages, report files, status
polls and the API narrow their querysets through a Scope, never by hand. Membership is
the reseller tree as it stands (ResellerLink), the same tree the provider's pages list.
"""

from dataclasses import dataclass

from django.db.models import Model, QuerySet

from hostmeter.accounts.levels import LoginLevel, user_login_level

from .models import Organization, Reseller, ResellerLink, ResellerLogin


@dataclass(frozen=True)
class Scope:
    """reseller_id None: the whole provider; otherwise that reseller's subtree."""

    reseller_id: int | None = None

    @property
    def whole(self) -> bool:
        return self.reseller_id is None

    def reseller(self) -> Reseller:
        """A reseller login's reseller (not for the whole provider)."""
        assert self.reseller_id is not None
        return Reseller.objects.get(pk=self.reseller_id)

    def reseller_ids(self) -> QuerySet:
        """The subtree's reseller ids (the reseller itself included), as a subquery."""
        return ResellerLink.objects.filter(ancestor_id=self.reseller_id).values("descendant_id")

    def resellers(self, qs: QuerySet[Reseller] | None = None) -> QuerySet[Reseller]:
        """The resellers seen: every one, or the reseller and those below it."""
        qs = Reseller.objects.all() if qs is None else qs
        return qs if self.whole else qs.filter(pk__in=self.reseller_ids())

    def sub_resellers(self, qs: QuerySet[Reseller] | None = None) -> QuerySet[Reseller]:
        """The resellers a reseller usage list shows: every one, or those below the
        reseller (not itself)."""
        qs = self.resellers(qs)
        return qs if self.whole else qs.exclude(pk=self.reseller_id)

    def organizations(self, qs: QuerySet[Organization] | None = None) -> QuerySet[Organization]:
        """The organizations seen: every one, or those the subtree's resellers added."""
        qs = Organization.objects.all() if qs is None else qs
        return qs if self.whole else qs.filter(reseller_id__in=self.reseller_ids())

    def holders(
        self, model: type[Reseller] | type[Organization], qs: QuerySet | None = None
    ) -> QuerySet:
        """The resellers or organizations seen, by model (of qs, when given)."""
        return self.resellers(qs) if model is Reseller else self.organizations(qs)

    def records(self, model: type[Model]) -> QuerySet:
        """Where a record named in a request is looked for: the resellers or organizations
        seen, any other model's records all (the API's record parameters)."""
        if model is Reseller or model is Organization:
            return self.holders(model)
        return model._default_manager.all()

    def visible_ids(self, model: type[Reseller] | type[Organization], ids: list[int]) -> list[int]:
        """The ids given that this scope sees, in their order (the others are dropped, as
        if they did not exist)."""
        if self.whole or not ids:
            return ids
        seen = set(self.holders(model).filter(pk__in=ids).values_list("pk", flat=True))
        return [i for i in ids if i in seen]


WHOLE = Scope()


def login_scope(user) -> Scope | None:
    """The scope of a signed-in login: a reseller login's reseller's subtree, the whole
    provider for every other level (what it may do at all is levels.py's). None: a
    reseller login that belongs to no reseller, which sees nothing."""
    if user_login_level(user) != LoginLevel.RESELLER:
        return WHOLE
    reseller_id = (
        ResellerLogin.objects.filter(user_id=user.pk).values_list("reseller_id", flat=True).first()
    )
    return None if reseller_id is None else Scope(reseller_id)
