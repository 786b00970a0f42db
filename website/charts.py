"""Server-side SVG charts for the admin (no JavaScript, no CDN)."""

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

COLOURS = ("#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626")


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
