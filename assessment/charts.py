"""Geometry (and number formatting) for the SVG chart templates in templates/charts/, shared by
the pages and the PDF.

Charts are rendered on the server from Jinja macros; no chart library, no script.
"""

import math
import textwrap

from jinja2 import Environment

from .textreport import ordinal

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
# monospace) run about 0.6 em a letter; the charts size label room with this, not with a font.
CHAR_WIDTH = 0.62
COS_45 = math.sqrt(0.5)


def label_lines(text: str, width: int = 18, most: int | None = None) -> list[str]:
    """A chart label broken into lines of at most ``width`` characters (SVG text does not wrap by
    itself); with ``most``, at most that many lines, the last one ending in an ellipsis if cut."""
    return textwrap.wrap(text, width, max_lines=most, placeholder="…") or [""]


def text_width(text: str, font_size: float) -> float:
    """A generous estimate of how wide ``text`` is drawn, in the chart's units."""
    return len(text) * font_size * CHAR_WIDTH


def register(env: Environment) -> None:
    """Make the chart helpers available to templates rendered by ``env``."""
    env.globals.update(polar=polar, points=points, anchor=anchor, peer_series=peer_series,
                       label_lines=label_lines, text_width=text_width, char_width=CHAR_WIDTH, cos_45=COS_45,
                       radar_center=RADAR_CENTER, radar_radius=RADAR_RADIUS,
                       ordinal=ordinal)  # percentiles are written the same on charts, pages and the PDF
