"""Server-side inline SVG charts for the admin (work offline, no JavaScript, no CDN)."""

from django.utils.html import escape, mark_safe

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
    """One polyline per series over shared x labels (dates)."""
    labels = sorted({x for points in series.values() for x, _ in points})
    values = [v for points in series.values() for _, v in points]
    if not labels or not values:
        return mark_safe('<p class="help">No data.</p>')
    low, high = min(min(values), 0.0), max(max(values), 0.0)
    span = (high - low) or 1.0
    left, bottom, legend = 60, 40, 18 * ((len(series) + 3) // 4)
    plot_h, plot_w = height - bottom - legend, width - left - 10
    step = plot_w / max(len(labels) - 1, 1)
    xs = {label: left + i * step for i, label in enumerate(labels)}

    def y(v: float) -> float:
        return legend + plot_h - plot_h * (v - low) / span

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" style="width:100%;max-width:{width}px" role="img" font-size="11">'
    ]
    parts.append(f'<line x1="{left}" x2="{width}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#a0aec0"/>')
    for v in (low, high):
        parts.append(f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end">{v:,.2f}</text>')
    for label in (labels[0], labels[-1]):
        parts.append(f'<text x="{xs[label]:.1f}" y="{height - 10}" text-anchor="middle">{escape(label)}</text>')
    for si, (name, points) in enumerate(series.items()):
        color = PALETTE[si % len(PALETTE)]
        coords = " ".join(f"{xs[x]:.1f},{y(v):.1f}" for x, v in sorted(points))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{coords}"/>')
        lx, ly = left + (si % 4) * 200, 12 + 18 * (si // 4)
        parts.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{lx + 14}" y="{ly}">{escape(name)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated label is escaped
