"""Server-side inline SVG charts for the admin: no JavaScript, no CDN, works offline."""

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#00838f", "#b7791f", "#4a5568")


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.3g}"


def line_chart(
    *,
    labels: list[str],
    series: dict[str, list[float | None]],
    title: str = "Chart",
    per_series_scale: bool = False,
    width: int = 720,
    height: int = 260,
    empty_text: str = "No data yet.",
) -> SafeString:
    """One polyline per series over shared x labels; None values leave a gap. With
    `per_series_scale` each series fills the height on its own (the legend gives its maximum),
    for series of very different magnitudes; otherwise all share one axis that includes 0."""
    values = [v for points in series.values() for v in points if v is not None]
    if not labels or not values:
        return format_html('<p class="help">{}</p>', empty_text)
    legend_rows = (len(series) + 3) // 4
    left, right, top, bottom = (24 if per_series_scale else 56), 28, 8 + 18 * legend_rows, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(labels) - 1, 1)

    def scale(points: list[float | None]) -> tuple[float, float]:
        known = [v for v in points if v is not None] if per_series_scale else values
        low, high = min(min(known, default=0.0), 0.0), max(max(known, default=0.0), 0.0)
        return low, (high - low) or 1.0

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" style="font:11px sans-serif;max-width:100%">'
    ]
    low, span = scale([])
    baseline = top + plot_h - plot_h * (0 - low) / span if not per_series_scale else top + plot_h
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{baseline:.1f}" y2="{baseline:.1f}" stroke="#999"/>')
    if not per_series_scale:
        for v in {low, low + span}:
            y = top + plot_h - plot_h * (v - low) / span
            parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{_number(v)}</text>')
    every = max(len(labels) // 6, 1)
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            parts.append(
                f'<text x="{left + i * step:.1f}" y="{height - 10}" text-anchor="middle" fill="#555">{escape(label)}</text>'
            )
    for index, (name, points) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        low, span = scale(points)
        segments = [[]]
        for i, v in enumerate(points):
            if v is None:
                segments.append([])  # a gap
            else:
                segments[-1].append(f"{left + i * step:.1f},{top + plot_h - plot_h * (v - low) / span:.1f}")
        segments = [segment for segment in segments if segment]
        for segment in segments:
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(segment)}">'
                f"<title>{escape(name)}</title></polyline>"
            )
        known = [v for v in points if v is not None]
        caption = f"{name} (max {_number(max(known))})" if per_series_scale and known else name
        lx, ly = left + (index % 4) * 170, 14 + 18 * (index // 4)
        parts.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 14}" y="{ly}">{escape(caption)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def bar_chart(
    *,
    rows: list[tuple[str, float]],
    title: str = "Chart",
    value_format: str = "{:,.0f}",
    width: int = 400,
    empty_text: str = "No data yet.",
) -> SafeString:
    """Horizontal bars, one per (label, value), largest scale = the largest value; fits its box
    (viewBox + max-width). Empty: a sentence that says why and what to do."""
    if not rows or not any(value for _, value in rows):
        return format_html('<p class="help empty-chart">{}</p>', empty_text)
    bar_h, gap, label_w, value_w = 18, 6, 120, 56
    height = len(rows) * (bar_h + gap)
    top = max(value for _, value in rows) or 1
    plot_w = width - label_w - value_w
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" style="font:12px sans-serif;max-width:100%;height:auto">'
    ]
    for index, (label, value) in enumerate(rows):
        y = index * (bar_h + gap)
        length = max(plot_w * (value / top), 1 if value else 0)
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(str(label)[:18])}</text>'
            f'<rect x="{label_w}" y="{y}" width="{length:.1f}" height="{bar_h}" rx="3" fill="{colour}">'
            f"<title>{escape(str(label))}: {escape(value_format.format(value))}</title></rect>"
            f'<text x="{label_w + length + 4:.1f}" y="{y + 13}">{escape(value_format.format(value))}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
