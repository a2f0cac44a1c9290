"""Line charts of usage over the kept updates (or the billing periods), drawn on the
server as accessible SVG."""

from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 360, 170
LEFT, RIGHT, TOP, BOTTOM = 52, 10, 12, 26
USED_COLOR, LIMIT_COLOR = "#1f6feb", "#cf222e"


STEPS = 5  # grid lines above zero


def _nice_max(value: Decimal, *, whole: bool = False) -> Decimal:
    """A round top for the y axis (1, 2, 2.5, 5 × 10^n) at or above the value; for
    whole counts at least 5, so that the five grid steps stay whole numbers."""
    if whole and value <= 5:
        return Decimal(5)
    if value <= 0:
        return Decimal(1)
    exponent = Decimal(10) ** (len(str(int(value))) - 1) if value >= 1 else Decimal("0.001")
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent


def _label(value: Decimal) -> str:
    if value == 0:
        return "0"
    if value >= 1_000_000:
        return f"{value / 1_000_000:.3g}M"
    if value >= 1_000:
        return f"{value / 1_000:.3g}k"
    return f"{value:.3g}"


def usage_chart(
    *,
    title: str,
    unit: str,
    points: list[tuple[datetime, Decimal, Decimal | None]],
    labels: dict[datetime, str] | None = None,
) -> SafeString:
    """Used over time as a line, the limit as a dashed line; a table-like description for
    screen readers sits in <desc>. labels: the points are billing periods, by their
    start, and these are their names (the x axis names periods, not days)."""
    if len(points) < 2:
        what = "billing periods" if labels is not None else "usage updates"
        return format_html('<p class="muted">Not enough {} yet for a chart of {}.</p>', what, title)
    limits = [p[2] for p in points if p[2] is not None]
    highest = max(p[1] for p in points)
    # The limit is drawn when it fits on a scale that still shows the usage's shape;
    # far above it, it is named under the chart instead.
    limit_fits = bool(limits) and max(limits) <= max(highest * 4, Decimal(1))
    top = _nice_max(
        max([highest * Decimal("1.1")] + (limits if limit_fits else [])), whole=unit == "count"
    )
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(points)

    def x(i: int) -> float:
        return LEFT + plot_w * i / (n - 1)

    def y(v: Decimal) -> float:
        return TOP + plot_h * float(1 - v / top)

    used_path = " ".join(f"{x(i):.1f},{y(p[1]):.1f}" for i, p in enumerate(points))
    limit_path = (
        " ".join(f"{x(i):.1f},{y(p[2]):.1f}" for i, p in enumerate(points) if p[2] is not None)
        if limit_fits
        else ""
    )
    # The markup is put together with f-strings, every text escaped and every number
    # formatted here: format_html's escaping of each of some hundred arguments a chart
    # cost more than drawing it (a page has a dozen charts; docs/benchmarks.md, Load).
    lines = []
    for k in range(STEPS + 1):
        at = y(top * k / STEPS)
        lines.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{at:.1f}" y2="{at:.1f}"/>'
            f'<text x="{LEFT - 6}" y="{at + 4:.1f}" text-anchor="end">'
            f"{escape(_label(top * k / STEPS))}</text>"
        )
    grid = "".join(lines)
    first, last = (timezone.localtime(points[0][0]), timezone.localtime(points[-1][0]))
    if labels is not None:
        first_tick, last_tick = labels[points[0][0]], labels[points[-1][0]]
        first_day, last_day = first_tick, last_tick
    else:
        first_tick, last_tick = f"{first:%d %b}", f"{last:%d %b}"
        first_day, last_day = f"{first:%d %b %Y}", f"{last:%d %b %Y}"
    ticks = (
        f'<text x="{LEFT}" y="{HEIGHT - 6}" text-anchor="start">{escape(first_tick)}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end">{escape(last_tick)}</text>'
    )
    latest = points[-1]
    desc = (
        f"{title} from {first_day} to {last_day}: latest {latest[1]} {unit}"
        + (f" of a {latest[2]} {unit} limit" if latest[2] is not None else ", no limit")
        + f"; highest {max(p[1] for p in points)} {unit}."
    )
    limit_line = (
        f'<polyline class="limit" stroke="{LIMIT_COLOR}" points="{limit_path}"/>'
        if limit_path
        else ""
    )
    note = ""
    if limits and not limit_fits:
        note = (
            '<p class="chart-note">Limit '
            f"{escape(_label(latest[2] if latest[2] is not None else max(limits)))} "
            f"{escape(unit)}: far above the usage, not drawn.</p>"
        )
    shown_unit = escape("" if unit == "count" else f" ({unit})")
    name, key = escape(title), escape(_id(title))
    return mark_safe(
        f'<figure class="chart-fig"><figcaption>{name}{shown_unit}</figcaption>'
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{key}-t {key}-d">'
        f'<title id="{key}-t">{name}{shown_unit}</title><desc id="{key}-d">{escape(desc)}</desc>'
        f'{grid}<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" '
        f'y2="{TOP + plot_h}"/>{ticks}'
        f'<polyline class="line" stroke="{USED_COLOR}" points="{used_path}"/>{limit_line}</svg>'
        f"{note}</figure>"
    )


def _id(title: str) -> str:
    return "c-" + "".join(ch if ch.isalnum() else "-" for ch in title.lower())
