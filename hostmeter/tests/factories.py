"""factory_boy factories for tests, shared by every app."""

import factory

from hostmeter.accounts.models import User
from hostmeter.tenancy.models import Organization, Reseller, Service
from hostmeter.tenancy.services import reseller_links_rebuild


class ResellerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reseller
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Reseller {n}")
    domain = factory.Sequence(lambda n: f"reseller{n}.example")

    @factory.post_generation
    def services(self, create, codes, **kwargs):
        if create and codes:
            self.services.set(Service.objects.filter(code__in=codes))

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        super()._after_postgeneration(instance, create, results)
        if create:
            reseller_links_rebuild()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Organization {n}")
    domain = factory.Sequence(lambda n: f"org{n}.example")
    reseller = None

    @factory.post_generation
    def services(self, create, codes, **kwargs):
        if create:
            self.services.set(Service.objects.filter(code__in=codes or ["web"]))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    login_level = "marketing"
    password = factory.django.Password("pw-for-tests")
