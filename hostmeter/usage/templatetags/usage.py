"""Template helpers for usage figures: quantities with units, percentages, sort links."""

from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def qty(value, unit: str = "") -> str:
    """1234.5 → "1,234.5 MB": thousands separated, trailing zeros of the decimals dropped."""
    if value is None:
        return mark_safe('<span class="muted" aria-label="none">–</span>')
    dec = Decimal(value)
    text = f"{dec:,.3f}".rstrip("0").rstrip(".") if dec % 1 else f"{dec:,.0f}"
    if unit and unit != "count":
        return format_html('{}<span class="unit">\u00a0{}</span>', text, unit)
    return text


@register.filter
def pct(value) -> str:
    if value is None:
        return "–"
    return f"{value:,.1f} %"


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label: str, css: str = ""):
    """A column header that sorts on the server, with aria-sort for screen readers."""
    request = context["request"]
    current = context.get("sort", "name")
    active = current.lstrip("-") == key
    descending = current.startswith("-")
    target = f"-{key}" if active and not descending else key
    params = request.GET.copy()
    params["sort"] = target
    params.pop("page", None)
    aria = ("descending" if descending else "ascending") if active else "none"
    arrow = ("▼" if descending else "▲") if active else ""
    return format_html(
        '<th scope="col" class="{}" aria-sort="{}"><a href="?{}">{} <span class="arrow" '
        'aria-hidden="true">{}</span></a></th>',
        css,
        aria,
        urlencode(sorted(params.lists()), doseq=True),
        label,
        arrow,
    )


@register.simple_tag(takes_context=True)
def page_url(context, number) -> str:
    params = context["request"].GET.copy()
    params["page"] = number
    return "?" + urlencode(sorted(params.lists()), doseq=True)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
