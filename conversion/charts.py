"""Server-side inline SVG charts for the admin (work offline, no JavaScript, no CDN)."""

from django.utils.html import escape, mark_safe

from madansara.charts import line_chart

PALETTE = ["#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b7791f", "#c53030", "#00838f", "#4a5568"]


def grouped_bars(groups: dict[str, dict[str, float]], series: list[str], *, width: int = 900, height: int = 320) -> str:
    """Bars per group (channel), one bar per series (model), with a legend."""
    if not groups:
        return mark_safe('<p class="help">No data.</p>')
    top = max((v for g in groups.values() for v in g.values()), default=0) or 1.0
    left, bottom, legend = 50, 60, 18 * ((len(series) + 3) // 4)
    plot_h = height - bottom - legend
    slot = (width - left) / len(groups)
    bar = max(slot * 0.8 / max(len(series), 1), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" style="width:100%;max-width:{width}px" role="img" font-size="11">'
    ]
    for tick in range(5):
        y = legend + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{top * tick / 4:,.1f}</text>')
    for gi, (name, values) in enumerate(groups.items()):
        x0 = left + gi * slot + slot * 0.1
        for si, key in enumerate(series):
            h = plot_h * values.get(key, 0.0) / top
            parts.append(
                f'<rect x="{x0 + si * bar:.1f}" y="{legend + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[si % len(PALETTE)]}"><title>{escape(name)} / {escape(key)}: '
                f"{values.get(key, 0.0):,.2f}</title></rect>"
            )
        parts.append(
            f'<text x="{left + gi * slot + slot / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
            f"{escape(name)}</text>"
        )
    for si, key in enumerate(series):
        x, y = left + (si % 4) * 200, 12 + 18 * (si // 4)
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{PALETTE[si % len(PALETTE)]}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}">{escape(key)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated label is escaped


def lines(series: dict[str, list[tuple[str, float]]], *, width: int = 900, height: int = 280) -> str:
    """One polyline per series over the union of their x labels (dates); a missing date is a gap."""
    labels = sorted({x for points in series.values() for x, _ in points})
    aligned = {name: [dict(points).get(label) for label in labels] for name, points in series.items()}
    return line_chart(labels=labels, series=aligned, width=width, height=height, empty_text="No data.")
