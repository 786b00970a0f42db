"""Server-side SVG charts for the admin (no JavaScript, no CDN)."""

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

COLOURS = ("#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626")


def line_chart(labels: list[str], series: dict[str, list[float]], *, width=720, height=220) -> SafeString:
    """A multi-series line chart with a legend; labels are the x-axis buckets."""
    if not labels:
        return format_html('<p class="help">{}</p>', "No data in this range yet.")
    pad, top = 40, 20
    peak = max((max(values) for values in series.values() if values), default=0) or 1
    step = (width - 2 * pad) / max(len(labels) - 1, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" role="img" '
        f'aria-label="Trend chart" style="font:11px sans-serif">',
        f'<line x1="{pad}" y1="{height}" x2="{width - pad}" y2="{height}" stroke="#999"/>',
        f'<text x="4" y="{top + 4}">{int(peak)}</text><text x="4" y="{height}">0</text>',
    ]
    for index, (name, values) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        points = " ".join(
            f"{pad + i * step:.1f},{height - (value / peak) * (height - top):.1f}" for i, value in enumerate(values)
        )
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        parts.append(
            f'<rect x="{pad + index * 120}" y="{height + 24}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{pad + index * 120 + 14}" y="{height + 33}">{escape(name)}</text>'
        )
    for i in (0, len(labels) // 2, len(labels) - 1):
        parts.append(
            f'<text x="{pad + i * step:.1f}" y="{height + 14}" text-anchor="middle">{escape(labels[i])}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def funnel_bars(steps: list[dict], *, width=720, bar_height=28) -> SafeString:
    """Horizontal bars per step with the count, conversion and the drop-off to the next step."""
    if not steps or not steps[0]["count"]:
        return format_html('<p class="help">{}</p>', "Nobody entered this funnel in the range.")
    label_width, gap = 180, 22
    scale = (width - label_width - 140) / steps[0]["count"]
    height = len(steps) * (bar_height + gap) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Funnel chart" style="font:12px sans-serif">'
    ]
    for i, step in enumerate(steps):
        y = i * (bar_height + gap) + 5
        kept = step["count"] * scale
        parts.append(f'<text x="0" y="{y + bar_height * 0.65:.1f}">{escape(str(step["label"])[:28])}</text>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{kept:.1f}" height="{bar_height}" fill="#2563eb"/>')
        if step["dropped"]:
            parts.append(
                f'<rect x="{label_width + kept - step["dropped"] * scale:.1f}" y="{y}" '
                f'width="{step["dropped"] * scale:.1f}" height="{bar_height}" fill="#fca5a5"/>'
            )
        text = f"{step['count']} ({step['conversion']:.0%})"
        if step["dropped"]:
            text += f" · {step['dropped']} dropped"
        parts.append(f'<text x="{label_width + kept + 6:.1f}" y="{y + bar_height * 0.65:.1f}">{escape(text)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
