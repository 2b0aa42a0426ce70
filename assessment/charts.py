"""Geometry (and number formatting) for the SVG chart templates in templates/charts/, shared by
the pages and the PDF.

Charts are rendered on the server from Jinja macros; no chart library, no script.
"""

import math
import textwrap
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from fontTools.ttLib import TTFont
from jinja2 import Environment

from .paths import CHART_FONT
from .textreport import cannot_say, figure, in_words, ordinal, priority_figure

RADAR_CENTER = 260
RADAR_RADIUS = 150


def polar(index: int, count: int, value: float | None, radius: float = RADAR_RADIUS) -> tuple[float, float]:
    """The point of axis ``index`` of ``count`` at ``value`` (0 to 100), starting at the top."""
    angle = 2 * math.pi * index / count - math.pi / 2
    distance = radius * (value or 0) / 100
    return (round(RADAR_CENTER + distance * math.cos(angle), 1), round(RADAR_CENTER + distance * math.sin(angle), 1))


def points(values: list[float | None], radius: float = RADAR_RADIUS) -> str:
    """An SVG polygon's ``points`` for values on evenly spaced axes."""
    return " ".join("{},{}".format(*polar(i, len(values), v, radius)) for i, v in enumerate(values))


def peer_series(dimensions, peer: dict[str, float | None]) -> list[float | None]:
    """The peer reference's value for each dimension, in the chart's order (None where it has none)."""
    return [peer.get(d.id) for d in dimensions]


def anchor(index: int, count: int) -> str:
    """Text anchor for an axis label, so labels grow away from the chart."""
    x, _ = polar(index, count, 100)
    return "middle" if abs(x - RADAR_CENTER) < 1 else ("start" if x > RADAR_CENTER else "end")


# How wide a character is, in ems, at most on average: the widest common fonts (DejaVu Sans,
# monospace) run about 0.6 em a letter; the charts size label room with this. Chinese, Japanese and
# Korean characters (East Asian "wide" and "fullwidth") take a whole em. Wider letters (capitals, m,
# w, Cyrillic's Ш and Ж at 1.1 em) take their width in the bundled font (char_width): counted at
# 0.62, a name in capitals ran out of the agency heatmap's left edge.
CHAR_WIDTH = 0.62
WIDE_CHAR_WIDTH = 1.0
COS_45 = math.sqrt(0.5)


@lru_cache(maxsize=1)
def _wide_letters() -> dict[str, float]:
    """The characters the bundled font (the PDF's, DejaVu Sans) draws wider than CHAR_WIDTH, with their width in ems."""
    with TTFont(CHART_FONT) as font:
        widths, em = font["hmtx"].metrics, font["head"].unitsPerEm
        return {chr(code): widths[glyph][0] / em for code, glyph in font.getBestCmap().items()
                if widths[glyph][0] / em > CHAR_WIDTH}


def char_width(char: str) -> float:
    """How wide ``char`` is drawn, in ems, at most."""
    if wide := _wide_letters().get(char):
        return wide
    return WIDE_CHAR_WIDTH if unicodedata.east_asian_width(char) in ("W", "F") else CHAR_WIDTH


def label_lines(text: str, width: int = 18, most: int | None = None) -> list[str]:
    """A chart label broken into lines of at most ``width`` characters (SVG text does not wrap by
    itself); with ``most``, at most that many lines, the last one ending in an ellipsis if cut."""
    return textwrap.wrap(text, width, max_lines=most, placeholder="…") or [""]


def text_width(text: str, font_size: float) -> float:
    """A generous estimate of how wide ``text`` is drawn, in the chart's units."""
    return sum(map(char_width, text)) * font_size


@dataclass(frozen=True)
class RadarLabel:
    """An axis label of the radar: where its first and last lines are written, its anchor and its lines."""

    x: float
    y: float
    last_y: float
    anchor: str
    lines: list[str]


def radar_labels(titles: list[str], scores: list[float | None], size: float, width: int) -> list[RadarLabel]:
    """The radar's axis labels: beyond the outer ring, growing away from the chart (upwards above
    the centre, downwards below it, both ways beside it), an unscored axis saying so. A label above
    or below the chart wider than the gap between the slanted labels beside it moves out by half a
    line, clear of them: the PDF's larger labels touched "Talent and capability"."""
    count, step = len(titles), line_step(size)
    reach = RADAR_RADIUS + 18 + (size - 14) * 1.5
    labels = []
    for i, (title, score) in enumerate(zip(titles, scores, strict=True)):
        lines = label_lines(title, width) + (["(not scored)"] if score is None else [])
        wide = max(text_width(line, size) for line in lines) / 2 > reach * COS_45
        x, y = polar(i, count, 100, reach + (step / 2 if anchor(i, count) == "middle" and wide else 0))
        shift = step * (len(lines) - 1)
        y -= shift if y < RADAR_CENTER - 1 else 0 if y > RADAR_CENTER + 1 else shift / 2
        labels.append(RadarLabel(x, y, y + shift, anchor(i, count), lines))
    return labels


def line_step(size: float) -> int:
    """The distance between the lines of a radar label of font size ``size``."""
    return round(size * 8 / 7)


HEATMAP_CELL, HEATMAP_ROW = 44, 18  # a cell's width and a row's height
HEATMAP_BANDS = ("0 to 19", "20 to 39", "40 to 59", "60 to 79", "80 to 100")  # 20 points each
HEATMAP_KEY_X, HEATMAP_KEY_STEP = 50, 80  # where the colour key's entries start, and their spacing


HEAD_EMS, NAME_EMS = 40 * CHAR_WIDTH, 34 * CHAR_WIDTH  # the longest head and agency label: 40 and 34 letters


@dataclass(frozen=True)
class HeatmapLayout:
    """Where the agency heatmap puts things: its dimension heads (slanted 45°) and agency labels
    (the agency's rank, as in the ranking and the scorecards, and its name), cut with an ellipsis
    past HEAD_EMS and NAME_EMS, the room they take, and the colour key's row."""

    heads: list[str]
    names: list[str]
    cut: list[bool]  # whether each agency's name is cut (its row then carries the name in full)
    left: int  # where the cells start: the agency names' room
    top: int  # where the rows start: the slanted heads' room
    key_y: int
    width: int
    height: int


def heatmap_layout(names: list[str], heads: list[str], ranks: Iterable[int] | None = None) -> HeatmapLayout:
    """The heatmap's geometry for these agency names (with their ``ranks``, or none for rows that are
    not agencies) and dimension titles, measured from the labels (``text_width``) so that none runs
    out of the drawing.

    Each agency's label starts with its rank: names sharing a long beginning were cut to the same
    label, and the rank tells their rows apart and leads to the agency's row in the dashboard's table
    or its line in the PDF's scorecards."""
    labels = names if ranks is None else [f"{rank}. {name}" for rank, name in zip(ranks, names, strict=True)]
    cut_labels, heads = [cut(label, NAME_EMS) for label in labels], [cut(head, HEAD_EMS) for head in heads]
    left = math.ceil(max(max((text_width(label, 11) for label in cut_labels), default=0) + 14, 60))
    top = math.ceil(max((text_width(head, 10) for head in heads), default=0) * COS_45 + 20)
    key_y = top + len(names) * HEATMAP_ROW + 14
    # A slanted head reaches right of its column by its own length.
    reach = [left + i * HEATMAP_CELL + HEATMAP_CELL / 2 + text_width(head, 10) * COS_45 + 10
             for i, head in enumerate(heads)]
    right = max([left + len(heads) * HEATMAP_CELL + 10, *reach])
    width = math.ceil(max(right, HEATMAP_KEY_X + len(HEATMAP_BANDS) * HEATMAP_KEY_STEP + 90))
    return HeatmapLayout(heads, cut_labels, [c != label for c, label in zip(cut_labels, labels, strict=True)],
                         left, top, key_y, width, key_y + 22)


# The workshop's heatmap (templates/charts/_heatmap.svg): a row per question, a cell for each level 0 to 4
# and one for the other answers, then the spread. Its rows are a third taller than its text, not twice as
# tall as before: the 48 questions' rows then fit an A4 page (report.css allows 200 mm) with text at 8 pt
# and more, where they had printed at 5.8 pt.
DIVERGENCE_FONT, DIVERGENCE_ROW, DIVERGENCE_CELL, DIVERGENCE_TOP = 12, 16, 48, 20  # DIVERGENCE_TOP: the heads' room
DIVERGENCE_TITLE_EMS = 48 * CHAR_WIDTH  # a question's title is cut past 48 letters or so
# The rows a page holds at 8 pt: a rubric of more questions (a custom one) gets a heatmap per page's worth of
# them, rather than one scaled down to a page (80 questions printed at 5 pt).
DIVERGENCE_PAGE_ROWS = 48


@dataclass(frozen=True)
class DivergenceLayout:
    """Where the workshop heatmap puts things: its rows' question titles, cut with an ellipsis past
    DIVERGENCE_TITLE_EMS, where the cells start (the titles' room), and the drawing's size."""

    titles: list[str]
    left: int
    width: int
    height: int


def divergence_layout(spreads: Iterable, questions: dict) -> DivergenceLayout:
    """The workshop heatmap's geometry for these rows (divergence.Spread, of the ``questions`` their ids
    map to), measured from the titles (``text_width``) so that none runs out of the drawing."""
    cut_titles = [cut(questions[spread.question_id].title, DIVERGENCE_TITLE_EMS) for spread in spreads]
    left = math.ceil(max((text_width(title, DIVERGENCE_FONT) for title in cut_titles), default=0) + 10)
    width = left + 6 * DIVERGENCE_CELL + math.ceil(text_width("spread", DIVERGENCE_FONT)) + 10
    return DivergenceLayout(cut_titles, left, width, DIVERGENCE_TOP + len(cut_titles) * DIVERGENCE_ROW + 2)


def cut(text: str, ems: float) -> str:
    """``text``, or as much of it as fits in ``ems`` (estimated) with an ellipsis."""
    if sum(map(char_width, text)) <= ems:
        return text
    width, kept = char_width("…"), []
    for char in text:
        width += char_width(char)
        if width > ems:
            break
        kept.append(char)
    return "".join(kept).rstrip() + "…"


def register(env: Environment) -> None:
    """Make the chart helpers available to templates rendered by ``env``."""
    env.globals.update(polar=polar, points=points, anchor=anchor, peer_series=peer_series,
                       label_lines=label_lines, text_width=text_width,
                       radar_labels=radar_labels, line_step=line_step, heatmap_layout=heatmap_layout,
                       divergence_layout=divergence_layout, divergence_font=DIVERGENCE_FONT,
                       divergence_row=DIVERGENCE_ROW, divergence_cell=DIVERGENCE_CELL, divergence_top=DIVERGENCE_TOP,
                       divergence_page_rows=DIVERGENCE_PAGE_ROWS,
                       heatmap_cell=HEATMAP_CELL, heatmap_row=HEATMAP_ROW, heatmap_bands=HEATMAP_BANDS,
                       heatmap_key_x=HEATMAP_KEY_X, heatmap_key_step=HEATMAP_KEY_STEP,
                       radar_center=RADAR_CENTER, radar_radius=RADAR_RADIUS,
                       ordinal=ordinal,  # percentiles are written the same on charts, pages and the PDF
                       in_words=in_words, cannot_say=cannot_say, cut=cut)
    # Scores and priorities are written the same on charts, pages and the PDF.
    env.filters.update(figure=figure, priority_figure=priority_figure)
