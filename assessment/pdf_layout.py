"""WeasyPrint 70's layout, with less work for the same boxes and so the same PDF, byte for byte.

Imported by assessment.pdf, which it patches WeasyPrint for (docs/report.md, "Performance").
tests/test_pdf.py renders with and without these patches (``WEASYPRINTS_OWN``) and compares.
"""

from __future__ import annotations

from functools import lru_cache
from math import inf

import weasyprint.css.computed_values
import weasyprint.css.units
import weasyprint.layout.absolute
import weasyprint.layout.block
import weasyprint.layout.column
import weasyprint.layout.float
import weasyprint.layout.grid
import weasyprint.layout.inline
import weasyprint.layout.page
import weasyprint.layout.percent
import weasyprint.layout.table
import weasyprint.text.line_break
from weasyprint.css.properties import Dimension
from weasyprint.formatting_structure import boxes

percent = weasyprint.layout.percent
line_break = weasyprint.text.line_break

# WeasyPrint 70 resolves a box's 14 margins, paddings, widths and heights with two function calls
# each (resolve_one_percentage, then percentage): 4,000 boxes laid out and 53,000 values per report.
# Nearly all are lengths already in px, whose used value is their number, or "auto": those are set
# here without a call, anything else (a percentage, a calc()) by WeasyPrint's own function. The
# box-sizing adjustment does nothing for content-box, the report's only box-sizing, so it is not
# called for it. Nine layout modules import the function by name: each name is replaced.
RESOLVED_AGAINST_WIDTH = ("margin_left", "margin_right", "padding_left", "padding_right",
                          "width", "min_width", "max_width")
RESOLVED_AGAINST_MAYBE_HEIGHT = ("margin_top", "margin_bottom", "padding_top", "padding_bottom")
RESOLVED_AGAINST_HEIGHT = ("height", "min_height", "max_height")
ZERO_WHEN_AUTO = {"min_width", "min_height"}  # as resolve_one_percentage sets them
BORDER_WIDTHS = ("border_top_width", "border_right_width", "border_bottom_width", "border_left_width")
RESOLVE_PERCENTAGES_IMPORTERS = (percent, weasyprint.layout.absolute, weasyprint.layout.block,
                                 weasyprint.layout.column, weasyprint.layout.float, weasyprint.layout.grid,
                                 weasyprint.layout.inline, weasyprint.layout.page, weasyprint.layout.table)
_resolve_one_percentage = percent.resolve_one_percentage
_adjust_box_sizing = percent.adjust_box_sizing


def _resolve(box, style, names, refer_to) -> None:
    """resolve_one_percentage for each name, a length in px or "auto" set without a call."""
    for name in names:
        value = style[name]
        if type(value) is Dimension and value.unit == "px":
            setattr(box, name, value.value)
        elif value == "auto":
            setattr(box, name, 0 if name in ZERO_WHEN_AUTO else "auto")
        else:
            _resolve_one_percentage(box, name, refer_to)


def _resolve_percentages(box, containing_block) -> None:
    """WeasyPrint's resolve_percentages (layout/percent.py), the common values set without a call."""
    if isinstance(containing_block, boxes.Box):
        cb_width, cb_height = containing_block.width, containing_block.height
    else:
        cb_width, cb_height = containing_block
    style = box.style
    _resolve(box, style, RESOLVED_AGAINST_WIDTH, cb_width)
    _resolve(box, style, RESOLVED_AGAINST_MAYBE_HEIGHT, cb_height if isinstance(box, boxes.PageBox) else cb_width)
    if cb_height == "auto":
        # A containing block whose height depends on its content: as WeasyPrint's own function.
        height = style["height"]
        if height == "auto" or percent.check_math(height) or height.unit == "%":
            box.height = "auto"
        else:
            box.height = height.value  # computed lengths are in px
        _resolve(box, style, ("min_height",), 0)
        _resolve(box, style, ("max_height",), inf)
    else:
        _resolve(box, style, RESOLVED_AGAINST_HEIGHT, cb_height)
    # Border widths: their computed value, unless collapsed table borders set them already.
    collapse = style["border_collapse"] == "collapse"
    for name in BORDER_WIDTHS:
        if not (collapse and hasattr(box, name)):
            setattr(box, name, style[name])
    if style["box_sizing"] != "content-box":
        _adjust_box_sizing(box, "width")
        _adjust_box_sizing(box, "height")


# Whether a box is in normal flow takes five method calls, each reading its style again: 18,600
# questions per report. One function reads the float and position once each, as they would.
FLOATED = {"left", "right", "inline-start", "inline-end", "footnote"}  # is_floated's and is_footnote's
POSITIONED = {"absolute", "fixed"}  # is_absolutely_positioned's
OUT_OF_FLOW_FUNCTIONS = {"running()", "note()"}  # is_running's and is_note's: ("running()", name)
_weasyprints_is_in_normal_flow = boxes.Box.is_in_normal_flow


def _is_in_normal_flow(self) -> bool:
    """WeasyPrint's Box.is_in_normal_flow, its five tests in one function."""
    if "is_floated" in self.__dict__:  # a flex item, which does not float (build.flex_children)
        return _weasyprints_is_in_normal_flow(self)
    if self.style["float"] in FLOATED:
        return False
    position = self.style["position"]
    return not (position in POSITIONED or position[0] in OUT_OF_FLOW_FUNCTIONS)


# strut (a line's height and baseline for a style) is cached per font and size, but each of its
# 2,600 calls per report first imports two functions inside the function (an import statement run
# again: about 10,000 instructions each on Python 3.11, which formats and drops two AttributeErrors for
# `from module import name`). A cached strut is returned here without that; the first one for a
# font and size is WeasyPrint's own. Three modules import strut by name: each name is replaced.
STRUT_IMPORTERS = (line_break, weasyprint.layout.inline, weasyprint.css.units, weasyprint.css.computed_values)
_strut = line_break.strut


def _cached_strut(style):
    """WeasyPrint's strut, a cached one returned before the imports it runs on each call."""
    if style["font_size"] != 0:
        cached = style.font_config.strut_layouts.get(line_break._font_style_cache_key(style, include_size=True))
        if cached is not None:
            return cached
    return _strut(style)


# Layout.setup makes a new Pango font description for each text layout (1,500 per report, ten cffi
# calls each) from seven properties of its style. Pango copies the description into the layout and
# reads it for the font's metrics, never changing it, so one is made per set of those values and
# shared. SVG text's font family is a list, which cannot be a key: its descriptions are made anew.
FONT_DESCRIPTION_PROPERTIES = ("font_family", "font_style", "font_stretch", "font_weight", "font_size",
                               "font_variant_caps", "font_variation_settings")  # what get_font_description reads
_get_font_description = line_break.get_font_description


@lru_cache(maxsize=256)
def _font_description(values: tuple):
    """WeasyPrint's font description for these values of FONT_DESCRIPTION_PROPERTIES, made once."""
    return _get_font_description(dict(zip(FONT_DESCRIPTION_PROPERTIES, values, strict=True)))


def _shared_font_description(style):
    """WeasyPrint's get_font_description, one description shared by the styles of the same font."""
    values = tuple(style[name] for name in FONT_DESCRIPTION_PROPERTIES)
    try:
        hash(values)
    except TypeError:
        return _get_font_description(style)
    return _font_description(values)


WEASYPRINTS_OWN = {
    **{(module, "resolve_percentages"): percent.resolve_percentages for module in RESOLVE_PERCENTAGES_IMPORTERS},
    (boxes.Box, "is_in_normal_flow"): _weasyprints_is_in_normal_flow,
    **{(module, "strut"): _strut for module in STRUT_IMPORTERS},
    (line_break, "get_font_description"): _get_font_description,
}
PATCHES = {
    **{(module, "resolve_percentages"): _resolve_percentages for module in RESOLVE_PERCENTAGES_IMPORTERS},
    (boxes.Box, "is_in_normal_flow"): _is_in_normal_flow,
    **{(module, "strut"): _cached_strut for module in STRUT_IMPORTERS},
    (line_break, "get_font_description"): _shared_font_description,
}
for (owner, name), patch in PATCHES.items():
    setattr(owner, name, patch)
