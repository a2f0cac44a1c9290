"""Line charts of usage over the kept updates (or the billing periods), drawn on the
server as accessible SVG."""

from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.html import format_html, format_html_join
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
    # format_html escapes its arguments first, so numbers arrive already formatted
    grid = format_html_join(
        "",
        '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text x="{}" y="{}" text-anchor="end">{}</text>',
        (
            (
                LEFT,
                WIDTH - RIGHT,
                f"{y(top * k / STEPS):.1f}",
                f"{y(top * k / STEPS):.1f}",
                LEFT - 6,
                f"{y(top * k / STEPS) + 4:.1f}",
                _label(top * k / STEPS),
            )
            for k in range(STEPS + 1)
        ),
    )
    first, last = (timezone.localtime(points[0][0]), timezone.localtime(points[-1][0]))
    if labels is not None:
        first_tick, last_tick = labels[points[0][0]], labels[points[-1][0]]
        first_day, last_day = first_tick, last_tick
    else:
        first_tick, last_tick = f"{first:%d %b}", f"{last:%d %b}"
        first_day, last_day = f"{first:%d %b %Y}", f"{last:%d %b %Y}"
    ticks = format_html(
        '<text x="{}" y="{}" text-anchor="start">{}</text>'
        '<text x="{}" y="{}" text-anchor="end">{}</text>',
        LEFT,
        HEIGHT - 6,
        first_tick,
        WIDTH - RIGHT,
        HEIGHT - 6,
        last_tick,
    )
    latest = points[-1]
    desc = (
        f"{title} from {first_day} to {last_day}: latest {latest[1]} {unit}"
        + (f" of a {latest[2]} {unit} limit" if latest[2] is not None else ", no limit")
        + f"; highest {max(p[1] for p in points)} {unit}."
    )
    limit_line = (
        format_html('<polyline class="limit" stroke="{}" points="{}"/>', LIMIT_COLOR, limit_path)
        if limit_path
        else ""
    )
    note = ""
    if limits and not limit_fits:
        note = format_html(
            '<p class="chart-note">Limit {} {}: far above the usage, not drawn.</p>',
            _label(latest[2] if latest[2] is not None else max(limits)),
            unit,
        )
    shown_unit = "" if unit == "count" else f" ({unit})"
    return format_html(
        '<figure class="chart-fig"><figcaption>{}{}</figcaption>'
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-t {}-d">'
        '<title id="{}-t">{}{}</title><desc id="{}-d">{}</desc>{}'
        '<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>{}'
        '<polyline class="line" stroke="{}" points="{}"/>{}</svg>{}</figure>',
        title,
        shown_unit,
        WIDTH,
        HEIGHT,
        _id(title),
        _id(title),
        _id(title),
        title,
        shown_unit,
        _id(title),
        desc,
        grid,
        LEFT,
        WIDTH - RIGHT,
        TOP + plot_h,
        TOP + plot_h,
        ticks,
        USED_COLOR,
        used_path,
        mark_safe(limit_line),
        note,
    )


def _id(title: str) -> str:
    return "c-" + "".join(ch if ch.isalnum() else "-" for ch in title.lower())
