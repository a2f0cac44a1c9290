"""Template helpers for usage figures: quantities with units, percentages and changes,
sort links, and links that keep the billing period shown."""

from decimal import Decimal
from functools import lru_cache

from django import template
from django.templatetags.static import static
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html, format_html_join
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


@register.filter
def change(value) -> str:
    """12.5 → "+12.5 %", -3 → "−3.0 %" (a minus sign, read as "minus"), 0 → "±0.0 %"."""
    if value is None:
        return ""
    sign = "+" if value > 0 else "\u2212" if value < 0 else "±"
    return f"{sign}{abs(value):,.1f} %"


@register.simple_tag(takes_context=True)
def period_url(context, name: str, *args, **query) -> str:
    """The URL of a Usage page, keeping the billing period shown (?period=) and adding
    the query parameters given."""
    params = [(k, v) for k, v in query.items() if v not in (None, "")]
    if context.get("period_key"):
        params.append(("period", context["period_key"]))
    url = _reverse(name, args)
    return f"{url}?{urlencode(params)}" if params else url


# An id that stands for the real ones in a URL reversed once per name (its digits are
# found nowhere else in the panel's URLs).
_PLACEHOLDER = 987654321987654321


def _reverse(name: str, args: tuple) -> str:
    """reverse(name, args=args); with whole-number ids (a list's links: two a row, ~25 µs
    a reverse) the name's URL is reversed once with placeholders and the ids put in."""
    if args and all(type(a) is int and 0 <= a < _PLACEHOLDER for a in args):
        parts = _url_parts(name, len(args), get_urlconf(), get_script_prefix())
        if parts is not None:
            ids = [str(arg) for arg in args]
            return "".join(part + i for part, i in zip(parts, [*ids, ""], strict=True))
    return reverse(name, args=args)


@lru_cache(maxsize=256)
def _url_parts(name: str, count: int, urlconf: str | None, prefix: str) -> list[str] | None:
    """The name's URL around `count` ids (None: it takes no such ids, reverse() decides)."""
    try:
        parts = reverse(name, args=[_PLACEHOLDER] * count).split(str(_PLACEHOLDER))
    except NoReverseMatch:
        return None
    return parts if len(parts) == count + 1 else None


@register.simple_tag(takes_context=True)
def query_url(context, **changes) -> str:
    """This page's query string with some parameters changed ("" or None: removed);
    the page number is dropped (it belongs to the old view)."""
    params = context["request"].GET.copy()
    params.pop("page", None)
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(sorted(params.lists()), doseq=True)


@register.simple_tag(takes_context=True)
def kept_params(context, *dropped: str):
    """Hidden inputs carrying this page's query parameters except those named (and the
    page number), for a GET form that changes one of them."""
    params = context["request"].GET
    return format_html_join(
        "",
        '<input type="hidden" name="{}" value="{}">',
        (
            (key, value)
            for key in sorted(params)
            if key not in dropped and key != "page"
            for value in params.getlist(key)
        ),
    )


@register.simple_tag(takes_context=True)
def service_icons(context, services) -> str:
    """Each service's icon with its name (tooltip and text alternative), or "none": a
    list shows them on every row, where a template of its own cost ~1.5 ms a page.
    Each service's markup is made once a page (there are a handful)."""
    if not services:
        return mark_safe('<span class="services"><span class="muted">none</span></span>')
    made = context.render_context.setdefault("service_icons", {})
    icons = []
    for s in services:
        key = (s.pk, s.name, s.code)
        if key not in made:
            made[key] = format_html(
                '<span class="svc" title="{}"><img src="{}" alt="{}" width="18" height="18">'
                "</span>",
                s.name,
                static(s.icon),
                s.name,
            )
        icons.append(made[key])
    return mark_safe(f'<span class="services">{"".join(icons)}</span>')
