"""The Usage pages' links (period_url): the page's URL, with the billing period shown."""

import pytest
from django.urls import get_resolver, reverse, set_script_prefix
from django.urls.converters import IntConverter

from hostmeter.usage.templatetags.usage import period_url


def _names_with_ids(resolver=None, namespace: str = "") -> list[tuple[str, int]]:
    """Every URL name of the panel whose arguments are all whole-number ids, and how many."""
    resolver = resolver or get_resolver()
    found = []
    for name, entries in resolver.reverse_dict.lists():
        if not isinstance(name, str):
            continue
        for possibility, _, _, converters in entries:
            _, params = possibility[0]
            if params and all(isinstance(converters.get(p), IntConverter) for p in params):
                found.append((f"{namespace}{name}", len(params)))
    for inner, (_, sub) in resolver.namespace_dict.items():
        found += _names_with_ids(sub, f"{namespace}{inner}:")
    return found


@pytest.mark.parametrize("prefix", ["/", "/panel/"])
def test_links_with_ids_are_the_urls_reverse_gives(prefix):
    names = _names_with_ids()
    assert "usage:reseller-overview" in {n for n, _ in names}
    set_script_prefix(prefix)
    try:
        for name, count in names:
            for ids in ([1] * count, [42] * count, list(range(10**12, 10**12 + count))):
                assert period_url({}, name, *ids) == reverse(name, args=ids), name
            assert period_url({"period_key": "2026-11"}, name, *[7] * count) == (
                reverse(name, args=[7] * count) + "?period=2026-11"
            )
    finally:
        set_script_prefix("/")


def test_links_keep_the_period_and_add_the_query():
    url = reverse("usage:organization-usage")
    assert period_url({}, "usage:organization-usage") == url
    assert period_url({}, "usage:organization-usage", reseller=5) == f"{url}?reseller=5"
    assert period_url({"period_key": "2026-11"}, "usage:organization-usage", reseller=5) == (
        f"{url}?reseller=5&period=2026-11"
    )
    # an argument that is not an id is reverse()'s to judge
    assert period_url({}, "usage:reseller-overview", "12") == reverse(
        "usage:reseller-overview", args=["12"]
    )
