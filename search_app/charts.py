"""Server-side SVG pictures for the explorer: no script, readable in a screenshot.

Colours are SVG presentation attributes, not style attributes, so the CSP needs no
'unsafe-inline'."""

from __future__ import annotations

from markupsafe import Markup, escape

DOMAIN_COLOURS = {
    "energy": "#d95f02", "buildings": "#7570b3", "mobility": "#1b9e77", "waste-circular": "#a6761d",
    "industry": "#666666", "green-infrastructure": "#66a61e", "none": "#bbbbbb",
}


def _heat_colour(value: float, low: float, high: float) -> str:
    """White (least similar) to deep green (most similar)."""
    t = 0.0 if high <= low else max(0.0, min(1.0, (value - low) / (high - low)))
    r, g, b = (round(255 + (c - 255) * t) for c in (11, 110, 79))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(names: list[str], matrix, cell: int = 11) -> Markup:
    """A city x city similarity matrix; each cell has a tooltip with both names and the value."""
    n = len(names)
    if n == 0:
        return Markup("<p>No city has documents yet.</p>")
    label = 150
    size = label + n * cell
    off_diagonal = [matrix[i][j] for i in range(n) for j in range(n) if i != j] or [0.0, 1.0]
    low, high = min(off_diagonal), max(off_diagonal)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size + 10}" height="{size + 10}" '
             f'viewBox="0 0 {size + 10} {size + 10}" role="img" aria-labelledby="heatmap-title" font-size="9" '
             f'font-family="sans-serif"><title id="heatmap-title">Similarity between cities</title>']
    for i, name in enumerate(names):
        y = label + i * cell + cell - 2
        parts.append(f'<text x="{label - 4}" y="{y}" text-anchor="end">{escape(name)}</text>')
        x = label + i * cell + cell - 2
        parts.append(f'<text x="{x}" y="{label - 4}" transform="rotate(-60 {x} {label - 4})">{escape(name)}</text>')
    for i in range(n):
        for j in range(n):
            value = float(matrix[i][j])
            colour = _heat_colour(value, low, high) if i != j else "#0b3b2c"
            parts.append(f'<rect x="{label + j * cell}" y="{label + i * cell}" width="{cell}" height="{cell}" '
                         f'fill="{colour}"><title>{escape(names[i])} – {escape(names[j])}: {value:.2f}</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))


def scatter(points, width: int = 900, height: int = 620) -> Markup:
    """Practices in 2-D, one dot each, coloured by domain, with a legend."""
    if not points:
        return Markup("<p>Not enough documents to draw a map.</p>")
    pad, legend = 20, 180
    xs, ys = [p.x for p in points], [p.y for p in points]
    sx = (width - legend - 2 * pad) / ((max(xs) - min(xs)) or 1)
    sy = (height - 2 * pad) / ((max(ys) - min(ys)) or 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'role="img" aria-labelledby="map-title" font-family="sans-serif" font-size="12">'
             f'<title id="map-title">Map of practices, coloured by domain</title>'
             f'<rect width="{width}" height="{height}" fill="#ffffff" stroke="#d8e0e5"/>']
    for p in points:
        cx, cy = pad + (p.x - min(xs)) * sx, pad + (max(ys) - p.y) * sy
        where = f" ({escape(p.city)})" if p.city else ""
        parts.append(f'<a href="/doc/{escape(p.doc_id)}"><circle cx="{cx:.1f}" cy="{cy:.1f}" r="4.5" '
                     f'fill="{DOMAIN_COLOURS.get(p.domain, "#bbbbbb")}" fill-opacity="0.8">'
                     f'<title>{escape(p.title)}{where}</title></circle></a>')
    for i, (domain, colour) in enumerate(d for d in DOMAIN_COLOURS.items() if d[0] != "none"):
        y = pad + 10 + i * 22
        parts.append(f'<circle cx="{width - legend + 10}" cy="{y}" r="6" fill="{colour}"/>'
                     f'<text x="{width - legend + 22}" y="{y + 4}">{escape(domain.replace("-", " "))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
