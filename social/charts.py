"""Server-side SVG line charts for the admin (no JavaScript, no CDN)."""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

COLOURS = ("#2563eb", "#16a34a", "#d97706", "#9333ea")
WIDTH, HEIGHT, PAD = 640, 220, 36


def line_chart_svg(*, labels: list[str], series: dict[str, list[float]], title: str = "") -> SafeString:
    """A small multi-series line chart; each series is scaled to its own maximum (values shown in the legend)."""
    if not labels:
        return format_html("<p>{}</p>", "No data yet.")
    step = (WIDTH - 2 * PAD) / max(len(labels) - 1, 1)
    lines = []
    for index, (name, values) in enumerate(series.items()):
        top = max(values) or 1
        points = " ".join(
            f"{PAD + i * step:.1f},{HEIGHT - PAD - (v / top) * (HEIGHT - 2 * PAD):.1f}" for i, v in enumerate(values)
        )
        colour = COLOURS[index % len(COLOURS)]
        lines.append(
            format_html(
                '<polyline fill="none" stroke="{}" stroke-width="2" points="{}"><title>{}</title></polyline>'
                '<text x="{}" y="{}" fill="{}" font-size="11">{} (max {})</text>',
                colour,
                points,
                name,
                PAD + index * 150,
                14,
                colour,
                name,
                f"{top:,.0f}" if top >= 10 else f"{top:.3f}",
            )
        )
    ticks = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="10" fill="#555" text-anchor="middle">{}</text>',
        (
            (f"{PAD + i * step:.1f}", HEIGHT - 12, label)
            for i, label in enumerate(labels)
            if i % max(len(labels) // 6, 1) == 0
        ),
    )
    body = mark_safe("".join(lines))  # noqa: S308 - every part built with format_html above
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{}" width="{}" height="{}" '
        'viewBox="0 0 {} {}" style="background:#fff;border:1px solid #ddd">'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999"/>{}{}</svg>',
        title or "chart",
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        PAD,
        HEIGHT - PAD,
        WIDTH - PAD,
        HEIGHT - PAD,
        body,
        ticks,
    )
