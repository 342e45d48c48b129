"""Server-side SVG pictures for the explorer: no script, readable in a screenshot, each with a
title and a description for screen readers (the page gives the same data as a table and a CSV).

Colours are SVG presentation attributes, not style attributes, so the CSP needs no
'unsafe-inline'."""

from __future__ import annotations

from markupsafe import Markup, escape

from kb.matching import EuropeMap, Heatmap
from search_app import i18n
from search_app.i18n import N_
from search_app.i18n import gettext as _

# From the ColorBrewer "Greens" scale: pale (weak match) to deep (strong match).
HEAT = ("#edf8e9", "#c7e9c0", "#a1d99b", "#74c476", "#41ab5d", "#238b45", "#005a32")
ROLE_COLOURS = {"pilot": "#0b6e4f", "twin": "#d95f02"}
ROLE_NAMES = {"pilot": N_("pilot city"), "twin": N_("twin city")}
# How strong a cell's match is, in words, by its shade (HEAT's index): the two palest, the three
# in the middle, the two deepest.
STRENGTHS = (N_("weak match"), N_("weak match"), N_("medium match"), N_("medium match"), N_("medium match"),
             N_("strong match"), N_("strong match"))


def _shade(value: float, high: float) -> int | None:
    """The index into HEAT of a score (None: no match)."""
    if value <= 0 or high <= 0:
        return None
    return min(len(HEAT) - 1, int(value / high * len(HEAT)))


def _heat_colour(value: float, high: float) -> str:
    shade = _shade(value, high)
    return "#ffffff" if shade is None else HEAT[shade]


def heatmap(data: Heatmap, cell: int = 16) -> Markup:
    """Twins (rows) against pilots (columns); a legend below. Each cell is focusable (one tab stop
    for the whole grid, arrow keys between cells: static/app.js) and names both cities and how
    strongly they match: as a tooltip, and in the status line above the picture (#heatmap-status)
    when it is tapped, clicked or selected with Enter."""
    if not data.twins or not data.pilots:
        nothing = _("No pilot's documented practice matches a twin's challenge yet.")
        return Markup(f"<p>{nothing}</p>")  # a translation is trusted markup, as in the templates
    left, top = 170, 150
    width, height = left + len(data.pilots) * cell + 20, top + len(data.twins) * cell + 60
    high = float(data.scores.max()) if data.scores.size else 0.0
    description = _("%(twins)s twin cities in rows, %(pilots)s pilot cities in columns; the darker a cell, the more "
                    "strongly the pilot's documented practice matches the twin's challenge. Tap or select a cell "
                    "for its names. The table above gives the same suggestions.") % {
        "twins": i18n.number(len(data.twins)), "pilots": i18n.number(len(data.pilots))}
    title = _("Which pilot cities match each twin city")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'class="heatmap" role="group" aria-labelledby="heatmap-title" aria-describedby="heatmap-desc" '
             f'font-size="12" font-family="sans-serif">'
             f'<title id="heatmap-title">{escape(title)}</title>'
             f'<desc id="heatmap-desc">{escape(description)}</desc>']
    for i, twin in enumerate(data.twins):
        parts.append(f'<text x="{left - 6}" y="{top + i * cell + cell - 4}" text-anchor="end" aria-hidden="true" '
                     f'translate="no">{escape(twin)}</text>')
    for j, pilot in enumerate(data.pilots):
        x = left + j * cell + cell - 4
        parts.append(f'<text x="{x}" y="{top - 6}" transform="rotate(-60 {x} {top - 6})" aria-hidden="true" '
                     f'translate="no">{escape(pilot)}</text>')
    for i, twin in enumerate(data.twins):
        for j, pilot in enumerate(data.pilots):
            value = float(data.scores[i, j])
            shade = _shade(value, high)
            words = _("%(pilot)s for %(twin)s: %(strength)s") % {
                "pilot": pilot, "twin": twin, "strength": _("no matching practice") if shade is None else _(STRENGTHS[shade])}
            parts.append(f'<rect x="{left + j * cell}" y="{top + i * cell}" width="{cell - 1}" height="{cell - 1}" '
                         f'fill="{_heat_colour(value, high)}" stroke="#e3e8eb" data-row="{i}" data-col="{j}" '
                         f'role="button" tabindex="{0 if i == j == 0 else -1}" aria-label="{escape(words)}">'
                         f'<title>{escape(words)}</title></rect>')
    y = top + len(data.twins) * cell + 24
    match, none, strong = _("Match:"), _("none"), _("strong")
    parts.append(f'<g aria-hidden="true"><text x="{left}" y="{y}">{escape(match)}</text>')
    for k, colour in enumerate(("#ffffff", *HEAT)):
        parts.append(f'<rect x="{left + 50 + k * 22}" y="{y - 12}" width="20" height="14" fill="{colour}" stroke="#999"/>')
    parts.append(f'<text x="{left + 50}" y="{y + 18}">{escape(none)}</text>'
                 f'<text x="{left + 50 + 7 * 22}" y="{y + 18}">{escape(strong)}</text></g></svg>')
    return Markup("".join(parts))


_drawn: dict[tuple, Markup] = {}


def europe(data: EuropeMap, key: tuple) -> Markup:
    """The map of `data`, drawn once per state of the knowledge base (`key`) and language: its
    outlines alone are 14,000 points."""
    if any(state != key for state, _locale in _drawn):
        _drawn.clear()
    drawn = (key, i18n.current())
    if drawn not in _drawn:
        _drawn[drawn] = _europe(data)
    return _drawn[drawn]


MARGIN_KM = 300  # around the outermost cities: the map shows the part of Europe where they are


def _europe(data: EuropeMap, width: int = 900) -> Markup:
    """Country outlines, pilots and twins as dots, pairings as lines. The picture is cut to the
    cities (plus MARGIN_KM) so that it opens on them, on a phone too, where it is drawn to the
    screen's width (app.css)."""
    low_x, low_y, high_x, high_y = data.extent
    scale = width / (high_x - low_x)
    full_height = round((high_y - low_y) * scale)

    def at(x: float, y: float) -> str:
        return f"{(x - low_x) * scale:.0f},{(high_y - y) * scale:.0f}"

    if data.places:  # the part of the drawing that holds the cities, in its units
        xs, ys = [p.x for p in data.places], [p.y for p in data.places]
        view_x = max(0, round((min(xs) - MARGIN_KM - low_x) * scale))
        view_y = max(0, round((high_y - max(ys) - MARGIN_KM) * scale))
        view_w = min(width, round((max(xs) + MARGIN_KM - low_x) * scale)) - view_x
        view_h = min(full_height, round((high_y - min(ys) + MARGIN_KM) * scale)) - view_y
    else:
        view_x, view_y, view_w, view_h = 0, 0, width, full_height
    height = round(view_h * width / view_w)
    title = _("Pilot and twin cities of the programme, and their pairings")
    description = _("A map of Europe: green dots are pilot cities, orange dots twin cities, lines join paired "
                    "cities. The list below the map gives every city and pairing.")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="{view_x} {view_y} {view_w} {view_h}" class="europe" '
             f'role="img" aria-labelledby="map-title map-desc" font-family="sans-serif" font-size="11">'
             f'<title id="map-title">{escape(title)}</title><desc id="map-desc">{escape(description)}</desc>'
             f'<rect width="{width}" height="{full_height}" fill="#eaf2f8"/>']
    for outline in data.outlines:
        path = "".join("M" + "L".join(at(x, y) for x, y in ring) + "Z" for ring in outline.rings)
        parts.append(f'<path d="{path}" fill="#f7f7f2" stroke="#a9b4bb" stroke-width="0.6"/>')
    where = {p.city: p for p in data.places}
    for pairing in data.pairings:
        if pairing.twin in where and pairing.pilot in where:
            a, b = where[pairing.twin], where[pairing.pilot]
            (x1, y1), (x2, y2) = (at(a.x, a.y).split(","), at(b.x, b.y).split(","))
            words = _("%(twin)s paired with %(pilot)s") % {"twin": pairing.twin, "pilot": pairing.pilot}
            parts.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#6a3d9a" stroke-width="2">'
                         f'<title>{escape(words)}</title></line>')
    for place in data.places:
        x, y = at(place.x, place.y).split(",")
        role = _(ROLE_NAMES[place.role]) if place.role in ROLE_NAMES else place.role
        parts.append(f'<circle cx="{x}" cy="{y}" r="{5 if place.role == "twin" else 4}" '
                     f'fill="{ROLE_COLOURS[place.role]}" stroke="#fff" stroke-width="1">'
                     f'<title>{escape(place.city)}, {escape(place.country)} ({escape(role)})</title></circle>')
    legend_x, legend_y = view_x, view_y + view_h - 52
    parts.append(f'<rect x="{legend_x + 10}" y="{legend_y - 14}" width="150" height="62" fill="#ffffff" stroke="#a9b4bb"/>')
    for k, (role, colour) in enumerate(ROLE_COLOURS.items()):
        parts.append(f'<circle cx="{legend_x + 24}" cy="{legend_y + k * 18}" r="5" fill="{colour}"/>'
                     f'<text x="{legend_x + 36}" y="{legend_y + 4 + k * 18}">{escape(_(ROLE_NAMES[role]))}</text>')
    paired = _("pairing")
    parts.append(f'<line x1="{legend_x + 18}" y1="{legend_y + 36}" x2="{legend_x + 30}" y2="{legend_y + 36}" '
                 f'stroke="#6a3d9a" stroke-width="2"/>'
                 f'<text x="{legend_x + 36}" y="{legend_y + 40}">{escape(paired)}</text></svg>')
    return Markup("".join(parts))


SERIES_COLOURS = ("#1f5f8b", "#d95f02", "#0b6e4f")


def bars(title: str, labels: list[str], series: dict[str, list[int]], height: int = 180) -> Markup:
    """Grouped bars, one group per label (a week, a month), one bar per series, each with a
    tooltip; a legend above, in HTML, so that the series' names wrap on a narrow screen instead of
    being cut off where the bars end (one week is two bars wide). The page gives the same figures
    as a table."""
    if not labels:
        nothing = _("Nothing to draw for this period.")
        return Markup(f"<p>{nothing}</p>")  # a translation is trusted markup
    names = list(series)
    bar, gap, left, top = 10, 12, 40, 16
    group = bar * len(names) + gap
    width = left + group * len(labels) + 10
    high = max((max(values, default=0) for values in series.values()), default=0) or 1
    slug = "".join(c if c.isalnum() else "-" for c in title.lower())
    legend = "".join(f'<li><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" '
                     f'fill="{SERIES_COLOURS[k % 3]}"/></svg> {escape(name)}</li>' for k, name in enumerate(names))
    parts = [f'<ul class="legend">{legend}</ul>',
             f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + top + 40}" '
             f'viewBox="0 0 {width} {height + top + 40}" role="img" aria-labelledby="{slug}-title" '
             f'font-size="11" font-family="sans-serif"><title id="{slug}-title">{escape(title)}</title>']
    parts.append(f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{escape(i18n.number(high))}</text>'
                 f'<text x="{left - 4}" y="{top + height}" text-anchor="end">0</text>'
                 f'<line x1="{left}" y1="{top + height}" x2="{width - 10}" y2="{top + height}" stroke="#999"/>')
    for i, label in enumerate(labels):
        x0 = left + i * group
        for k, name in enumerate(names):
            value = series[name][i]
            h = round(value / high * height)
            parts.append(f'<rect x="{x0 + k * bar}" y="{top + height - h}" width="{bar - 1}" height="{h}" '
                         f'fill="{SERIES_COLOURS[k % 3]}"><title>{escape(label)}: {value} {escape(name)}</title></rect>')
        if len(labels) <= 16 or i % max(1, len(labels) // 8) == 0:
            short = label.rpartition("-")[2] if "-W" in label else label  # a week ("W50") or a month: a code
            parts.append(f'<text x="{x0}" y="{top + height + 14}" translate="no">{escape(short)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
