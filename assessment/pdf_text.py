"""WeasyPrint 70's text, laid out and drawn with less work and the same PDF, byte for byte.

Imported by assessment.pdf, which it patches WeasyPrint for (docs/report.md, "Performance").
tests/test_pdf.py renders with and without these patches (``WEASYPRINTS_OWN``) and compares.
"""

from __future__ import annotations

import re
import struct

import weasyprint.draw.text
import weasyprint.layout.inline
import weasyprint.layout.preferred
import weasyprint.text.line_break
from weasyprint.text.ffi import FROM_UNITS, ffi, pango

line_break = weasyprint.text.line_break
Layout = line_break.Layout
# Modules that import split_first_line by name (SVG text imports it from line_break when it draws).
SPLIT_FIRST_LINE_IMPORTERS = (line_break, weasyprint.layout.inline, weasyprint.layout.preferred)

# WeasyPrint 70 lays out each line of text with Pango, then throws the Pango layout away
# (Layout.deactivate) and, to draw the line, makes a new one from the same style and text
# (Layout.reactivate): a second Pango context, font description and shaping of every line. The
# layout kept from line breaking is drawn instead where a new one would come out the same: the
# same style and no spacing that only drawing adds (justification, word or letter spacing). A new
# layout has no width; a kept one may have the width it was broken at, but then its text fits in
# one line (split_first_line takes the width away from any other), which comes out the same.
# Drawing sets Pango's single-paragraph mode, which would clear what Pango laid out, so text
# without a paragraph separator is laid out in that mode from the start: without one, the mode
# changes nothing. Kept layouts live as long as the boxes (3 MiB more at the peak of a report render).
PARAGRAPH_SEPARATORS = re.compile("[\n\r\u2029]")  # what Pango starts a paragraph after

# WeasyPrint's own functions, as the patches below find them.
WEASYPRINTS_OWN = {
    (Layout, "set_text"): Layout.set_text,
    (Layout, "deactivate"): Layout.deactivate,
    (Layout, "reactivate"): Layout.reactivate,
    (weasyprint.draw.text, "draw_first_line"): weasyprint.draw.text.draw_first_line,
    **{(module, "split_first_line"): line_break.split_first_line for module in SPLIT_FIRST_LINE_IMPORTERS},
}
_set_text, _reactivate = Layout.set_text, Layout.reactivate
_draw_first_line_by_glyph = weasyprint.draw.text.draw_first_line


def _set_text_one_paragraph(self, text, justify=False):
    """Layout.set_text, in single-paragraph mode where the text has no paragraph separator."""
    _set_text(self, text, justify)
    pango.pango_layout_set_single_paragraph_mode(self.layout, PARAGRAPH_SEPARATORS.search(self.text) is None)


def _keep(self):
    """Keep the Pango layout for drawing rather than deleting it (Layout.deactivate)."""


def _drawn_as_laid_out(self, style) -> bool:
    """Whether the layout kept from line breaking is the one Layout.reactivate would make for drawing."""
    return (style is self.style and not self.justification_spacing and not style["word_spacing"]
            and style["letter_spacing"] == "normal")


def _new_layout(self, style):
    """Layout.reactivate: a new Pango layout, no longer one a remembered line's drawing holds for."""
    self.__dict__.pop("drawn", None)
    _reactivate(self, style)


def _reactivate_unless_drawn_as_laid_out(self, style):
    """Layout.reactivate, unless the layout kept from line breaking is what it would make."""
    if not _drawn_as_laid_out(self, style):
        _new_layout(self, style)


# WeasyPrint 70 draws a line of text glyph by glyph in Python, reading each glyph's fields from
# Pango through cffi (a dozen lookups per glyph, 50,000 glyphs in a report). A line of plain
# glyphs (none missing or empty, no vertical offset, no colour or bitmap font), not ellipsized, is
# drawn here from its glyphs read in one go, with the same operators; any other line by
# WeasyPrint's own draw_first_line.
GLYPH_INFO = struct.Struct("=I3i4x")  # PangoGlyphInfo: glyph; geometry's width, x_offset, y_offset; attr
if GLYPH_INFO.size != ffi.sizeof("PangoGlyphInfo"):
    raise RuntimeError("Pango's PangoGlyphInfo has changed: review pdf_text.GLYPH_INFO")


def _plain_runs(stream, textbox) -> list | None:
    """The first line's runs as (glyph item, Pango font, font, font size, glyphs), or None where
    a glyph or a font needs WeasyPrint's own drawing."""
    pango.pango_layout_set_single_paragraph_mode(textbox.pango_layout.layout, True)
    first_line, _ = textbox.pango_layout.get_first_line()
    runs, run, previous_pango_font = [], first_line.runs[0], None
    while run != ffi.NULL:
        glyph_item, run = run.data, run.next
        pango_font = glyph_item.item.analysis.font
        if pango_font != previous_pango_font:
            previous_pango_font = pango_font
            font, font_size = stream.add_font(pango_font)
            if font.svg or font.png or font.colr or font.bitmap:
                return None
            if pango.pango_version() < 14802:  # WeasyPrint's workaround for Pango's issue 530
                font_size = textbox.style["font_size"]
        glyph_string = glyph_item.glyphs
        size = glyph_string.num_glyphs * GLYPH_INFO.size
        glyphs = list(GLYPH_INFO.iter_unpack(ffi.buffer(glyph_string.glyphs, size)))
        if any(glyph >= pango.PANGO_GLYPH_EMPTY or y_offset for glyph, _, _, y_offset in glyphs):
            return None  # an empty or missing glyph (PANGO_GLYPH_UNKNOWN_FLAG is above), a raised one
        runs.append((glyph_item, pango_font, font, font_size, glyphs))
    return runs


def _glyph_text(text: bytes, glyph_item, index: int) -> str:
    """The text a glyph draws, for its font's ToUnicode map (found as WeasyPrint's draw_first_line does)."""
    clusters, item = glyph_item.glyphs.log_clusters, glyph_item.item
    start = clusters[index]
    if item.analysis.level % 2:  # right to left
        end = item.length if index == 0 else clusters[index - 1]
    else:
        end = item.length if index == glyph_item.glyphs.num_glyphs - 1 else clusters[index + 1]
    return text[item.offset + start:item.offset + end].decode()


def _plain_line(stream, textbox) -> list | None:
    """The first line as runs of (Pango font, font size, each glyph's text and width, the run's
    operand for TJ), or None where a glyph or a font needs WeasyPrint's own drawing. The document's
    fonts are left alone: _draw_line records the glyphs in them."""
    if (runs := _plain_runs(stream, textbox)) is None:
        return None
    text, line = textbox.pango_layout.text.encode(), []
    for glyph_item, pango_font, font, font_size, glyphs in runs:
        operand, used = "<", {}
        for index, (glyph, width, x_offset, _) in enumerate(glyphs):
            if glyph not in used:
                logical_width = font.widths.get(glyph)
                if logical_width is None:
                    pango.pango_font_get_glyph_extents(pango_font, glyph, stream.ink_rect, stream.logical_rect)
                    logical_width = round(stream.logical_rect.width * 1000 * FROM_UNITS / font_size)
                used[glyph] = (_glyph_text(text, glyph_item, index), logical_width)
            offset = x_offset / font_size
            if offset:
                operand += f">{-offset}<"
            operand += f"{glyph:04x}"
            # WeasyPrint's expression, in its order: the same rounding, the same PDF.
            kerning = used[glyph][1] + offset - width * 1000 * FROM_UNITS / font_size
            if kerning:
                operand += f">{int(kerning)}<"
        line.append((pango_font, font_size, used, operand[:-1] if operand[-1] == "<" else operand + ">"))
    return line


def _draw_line(stream, line: list, matrix) -> None:
    """Draw a line of plain glyphs with WeasyPrint's operators, its glyphs recorded in the document's
    fonts (their text and width, where a glyph is new, in the order WeasyPrint records them)."""
    stream.set_text_matrix(*matrix.values)
    string, previous_pango_font = "", None
    for pango_font, font_size, used, operand in line:
        font, _ = stream.add_font(pango_font)
        for glyph, (text, width) in used.items():
            font.to_unicode.setdefault(glyph, text)
            font.widths.setdefault(glyph, width)
        if pango_font != previous_pango_font:
            previous_pango_font = pango_font
            if string:
                stream.show_text(string)
            string = ""
            stream.set_font_size(font.hash, font_size)
        string += operand
    stream.show_text(string)


def _draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix):
    """WeasyPrint's draw_first_line, with a line of plain glyphs drawn from its glyphs read in one
    go, or as drawn before where its line was remembered."""
    if text_overflow == "ellipsis" or block_ellipsis != "none":
        # The ellipsis changes the layout: it is drawn from a new one, as WeasyPrint draws every
        # line, never from one kept from line breaking, which a remembered line may share.
        _new_layout(textbox.pango_layout, textbox.style)
        return _draw_first_line_by_glyph(stream, textbox, text_overflow, block_ellipsis, matrix)
    if not textbox.text.strip() or textbox.style["font_size"] < 1e-6:
        return _draw_first_line_by_glyph(stream, textbox, text_overflow, block_ellipsis, matrix)
    drawn = textbox.pango_layout.__dict__.get("drawn")  # a remembered line's, see below
    line = drawn[0] if drawn else _plain_line(stream, textbox)
    if line is None:
        return _draw_first_line_by_glyph(stream, textbox, text_overflow, block_ellipsis, matrix)
    if drawn == []:
        drawn.append(line)
    _draw_line(stream, line, matrix)
    return []  # emojis come from colour fonts, which WeasyPrint's own function draws


# A worker renders many reports of one rubric, and WeasyPrint 70 breaks every line of each anew
# with Pango (shaping its text up to three times): the questions, the levels, the methodology, the
# sources, the headings and the contents are the same in every report. After a render of the
# mid-maturity example, 62 to 71% of the line-breaking time of another example's render is for a
# line already broken: the same text, width and style. split_first_line's result depends on its
# text, width, justification spacing, is_line_start and minimum, the font configuration and the
# style properties it reads (LINE_STYLE_PROPERTIES: tests/test_pdf.py records what it reads), so
# it is remembered under those. A line met again gets the numbers and a Layout of its own sharing
# the Pango layout, which drawing only reads: an ellipsis, which would change it, is drawn from a
# new layout, as WeasyPrint draws every line. How a remembered line is drawn (its glyphs' operands,
# texts and widths: `drawn`) is kept too, the first time it is drawn from that layout, and drawn so
# again, its glyphs recorded in the document's fonts. The worker renders the bundled examples
# before it forks its render children (jobs.warm_up), which inherit what it remembered; what a
# child adds dies with it.
# Text with a paragraph separator (whose single-paragraph mode drawing changes) and SVG text
# (whose font family is a list) are broken anew each time.
LINE_STYLE_PROPERTIES = (  # what split_first_line, Layout.setup and Layout.set_text read
    "white_space", "font_size", "hyphens", "lang", "hyphenate_limit_chars", "hyphenate_limit_zone",
    "hyphenate_character", "overflow_wrap", "word_break", "letter_spacing", "word_spacing", "tab_size",
    "direction", "font_language_override", "font_family", "font_style", "font_stretch", "font_weight",
    "font_kerning", "font_variant_ligatures", "font_variant_position", "font_variant_caps",
    "font_variant_numeric", "font_variant_alternates", "font_variant_east_asian", "font_feature_settings",
    "font_variation_settings", "text_decoration_line")
REMEMBERED_LINES = 4096  # the warm-up's three examples leave some 2,000; the oldest is forgotten first
_split_first_line = line_break.split_first_line
_remembered_lines: dict[tuple, tuple] = {}


def _line_key(text, style, max_width, justification_spacing, is_line_start, minimum) -> tuple | None:
    """What split_first_line's result depends on, or None where that cannot be a key."""
    if PARAGRAPH_SEPARATORS.search(text):
        return None
    values = tuple(frozenset(value) if type(value) is set else value  # text_decoration_line
                   for value in map(style.__getitem__, LINE_STYLE_PROPERTIES))
    key = (text, max_width, justification_spacing, is_line_start, minimum, style.font_config, values)
    try:
        hash(key)
    except TypeError:  # a list: SVG text's font family
        return None
    return key


def _remembered_split_first_line(text, style, context, max_width, justification_spacing,
                                 is_line_start=True, minimum=False):
    """WeasyPrint's split_first_line, a line broken before (in this process or its parent) not broken again."""
    key = _line_key(text, style, max_width, justification_spacing, is_line_start, minimum)
    remembered = None if key is None else _remembered_lines.get(key)
    if remembered is None:
        result = _split_first_line(text, style, context, max_width, justification_spacing, is_line_start, minimum)
        if key is not None:
            if len(_remembered_lines) >= REMEMBERED_LINES:
                del _remembered_lines[next(iter(_remembered_lines))]
            result[0].drawn = []  # how the line is drawn, once it is: shared with each Layout copied
            _remembered_lines[key] = (_layout_copy(result[0], None), *result[1:])
        return result
    return (_layout_copy(remembered[0], style), *remembered[1:])


def _layout_copy(layout, style):
    """A Layout of its own for ``style``, sharing ``layout``'s Pango layout (a remembered one keeps no style)."""
    copy = Layout.__new__(Layout)
    copy.__dict__.update(layout.__dict__)
    copy.style = style
    return copy


PATCHES = {
    **{(module, "split_first_line"): _remembered_split_first_line for module in SPLIT_FIRST_LINE_IMPORTERS},
    (Layout, "set_text"): _set_text_one_paragraph,
    (Layout, "deactivate"): _keep,
    (Layout, "reactivate"): _reactivate_unless_drawn_as_laid_out,
    (weasyprint.draw.text, "draw_first_line"): _draw_first_line,
}
for (owner, name), patch in PATCHES.items():
    setattr(owner, name, patch)
