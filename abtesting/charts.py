"""Server-side inline SVG charts for the admin (no JavaScript, no CDN)."""

import math
from html import escape

COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4d7c0f"]


def _fmt(value: float, relative: bool) -> str:
    return f"{value * 100:+.1f}%" if relative else f"{value:+.4g}"


def interval_chart(rows: list[dict], *, relative: bool = True, width: int = 560) -> str:
    """Forest plot: one row per variant {label, expected, low, high}; a line at zero."""
    rows = [r for r in rows if r.get("expected") is not None]
    if not rows:
        return ""
    finite = [x for r in rows for x in (r["low"], r["high"], r["expected"]) if x is not None and math.isfinite(x)]
    lo, hi = min(finite + [0.0]), max(finite + [0.0])
    pad = (hi - lo) * 0.1 or 0.01
    lo, hi = lo - pad, hi + pad
    left, right, row_h = 110, 20, 30
    height = row_h * len(rows) + 40

    def x(v):
        v = lo if v is None or v == -math.inf else hi if v == math.inf else v
        return left + (v - lo) / (hi - lo) * (width - left - right)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Confidence intervals" style="font:12px sans-serif">',
        f'<line x1="{x(0):.1f}" y1="5" x2="{x(0):.1f}" y2="{height - 25}" stroke="#888" stroke-dasharray="4 3"/>',
    ]
    for i, r in enumerate(rows):
        y = 20 + i * row_h
        color = "#16a34a" if r["low"] is not None and r["low"] > 0 else "#dc2626" if (r["high"] or 0) < 0 else "#2563eb"
        parts += [
            f'<text x="5" y="{y + 4}">{escape(str(r["label"]))}</text>',
            f'<line x1="{x(r["low"]):.1f}" y1="{y}" x2="{x(r["high"]):.1f}" y2="{y}" stroke="{color}" stroke-width="3"/>',
            f'<circle cx="{x(r["expected"]):.1f}" cy="{y}" r="5" fill="{color}"/>',
            f'<text x="{x(r["expected"]):.1f}" y="{y - 8}" text-anchor="middle">{_fmt(r["expected"], relative)}</text>',
        ]
    for v in (lo, 0.0, hi):
        parts.append(
            f'<text x="{x(v):.1f}" y="{height - 8}" text-anchor="middle" fill="#555">{_fmt(v, relative)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def history_chart(history: list[dict], *, relative: bool = True, width: int = 560, height: int = 220) -> str:
    """Estimate over time per treatment: a line for the estimate and a band for its interval."""
    series: dict[str, list[tuple[int, dict]]] = {}
    for i, point in enumerate(history):
        for key, est in point["variants"].items():
            if est and est.get("expected") is not None:
                series.setdefault(key, []).append((i, est))
    if not series or len(history) < 2:
        return ""
    values = [
        v for pts in series.values() for _, e in pts for v in (e["expected"], *(e.get("ci") or [])) if v is not None
    ]
    lo, hi = min(values + [0.0]), max(values + [0.0])
    pad = (hi - lo) * 0.1 or 0.01
    lo, hi = lo - pad, hi + pad
    left, bottom = 60, 20

    def px(i):
        return left + i / (len(history) - 1) * (width - left - 10)

    def py(v):
        return 10 + (hi - v) / (hi - lo) * (height - bottom - 10)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Estimate over time" style="font:12px sans-serif">',
        f'<line x1="{left}" y1="{py(0):.1f}" x2="{width - 10}" y2="{py(0):.1f}" stroke="#888" stroke-dasharray="4 3"/>',
        f'<text x="5" y="{py(hi) + 10:.1f}">{_fmt(hi, relative)}</text>',
        f'<text x="5" y="{py(lo):.1f}">{_fmt(lo, relative)}</text>',
    ]
    for i in (0, len(history) - 1):
        when = history[i].get("computed_at")
        if when is not None:
            anchor = "start" if i == 0 else "end"
            label = when.strftime("%b %d") if hasattr(when, "strftime") else str(when)[:10]
            parts.append(
                f'<text x="{px(i):.1f}" y="{height - 4}" text-anchor="{anchor}" fill="#555">{escape(label)}</text>'
            )
    for n, (key, pts) in enumerate(sorted(series.items())):
        color = COLORS[n % len(COLORS)]
        band = [(px(i), py(e["ci"][1])) for i, e in pts if e.get("ci") and e["ci"][1] is not None]
        band += [(px(i), py(e["ci"][0])) for i, e in reversed(pts) if e.get("ci") and e["ci"][0] is not None]
        if band:
            points = " ".join(f"{a:.1f},{b:.1f}" for a, b in band)
            parts.append(f'<polygon points="{points}" fill="{color}" fill-opacity="0.15"/>')
        line = " ".join(f"{px(i):.1f},{py(e['expected']):.1f}" for i, e in pts)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"/>')
        parts.append(f'<text x="{left + 70 + 80 * n}" y="{height - 4}" fill="{color}">{escape(key)}</text>')
    parts.append("</svg>")
    return "".join(parts)
