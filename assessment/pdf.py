"""Rendering a report to PDF with WeasyPrint, fetching nothing beyond the app's own assets."""

from __future__ import annotations

import mimetypes
import re
import xml.etree.ElementTree as ElementTree
import zlib
from functools import lru_cache, partial
from pathlib import Path
from types import SimpleNamespace

import cssselect2
import pydyf
import weasyprint.css.targets
import weasyprint.draw
import weasyprint.html
import weasyprint.pdf.stream
import weasyprint.pdf.tags
import weasyprint.svg
from jinja2 import Environment, FileSystemLoader, select_autoescape
from weasyprint import CSS, HTML
from weasyprint.formatting_structure import boxes
from weasyprint.layout.absolute import AbsolutePlaceholder
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

# pdf_layout, pdf_objects and pdf_text patch WeasyPrint and pydyf on import: the same PDF with less work.
from . import charts, pdf_layout, pdf_objects, pdf_text  # noqa: F401
from .paths import ROOT, TEMPLATES
from .report import Report

STATIC = ROOT / "assessment" / "web" / "static"
# A host that cannot resolve (.invalid is reserved): relative URLs in the report join onto it, and
# the fetcher serves them from the static folder without any network access.
ASSET_BASE = "https://assets.sovready.invalid/"
PDF_OPTIONS = {"pdf_variant": "pdf/ua-1", "uncompressed_pdf": False}
# What no font draws and XML does not allow: control characters other than tab, line feed and
# carriage return. A form feed typed into a note drew a missing-glyph box, made WeasyPrint warn
# and garbled the PDF's text layer; each becomes a space.
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
# pydyf (WeasyPrint's PDF writer) deflates every stream at zlib's level 9: 90 ms of a report's
# render. zlib's default level 6 takes 20 ms for a PDF 3% larger.
DEFLATE_LEVEL = 6
SVG_ROOT = "{http://www.w3.org/2000/svg}svg"


def _compressobj(level: int = DEFLATE_LEVEL):
    """A deflate compressor at DEFLATE_LEVEL, whatever level pydyf asks for."""
    return zlib.compressobj(DEFLATE_LEVEL)


# Everything else of zlib as it is, should pydyf come to use more of it.
pydyf.zlib = SimpleNamespace(**{**vars(zlib), "compressobj": _compressobj})

_all_page_references = pydyf.PDF.page_references.fget


def _page_references(document: pydyf.PDF) -> tuple[bytes, ...]:
    """pydyf's references to the PDF's pages, made again only once a page has been added.

    WeasyPrint's PDF/UA tagging asks for one page's reference per tagged element, and pydyf makes
    the references to every page each time: 2,200 times 23 references per report (1.8% of a
    render's instructions).
    """
    count = len(document.pages["Kids"])
    cached = document.__dict__.get("_page_references")
    if cached is None or cached[0] != count:
        cached = document.__dict__["_page_references"] = (count, _all_page_references(document))
    return cached[1]


pydyf.PDF.page_references = property(_page_references)


# WeasyPrint lays out and draws SVG text one letter at a time (to honour per-letter positions and
# rotations): a Pango layout and a text object per letter of the charts' labels. Text that
# positions only its first letter is drawn as one run instead (2.6% of a render's instructions,
# about 8% of its CPU time), kerned like the rest of the report's text.
PER_LETTER_ATTRIBUTES = {"rotate", "letter-spacing", "textLength", "lengthAdjust"}
POSITION_ATTRIBUTES = ("x", "y", "dx", "dy")
_svg_text_by_letter = weasyprint.svg.text


class TextRun(str):
    """SVG text that iterates as one piece: WeasyPrint's SVG text loop then takes it as one letter."""

    def __iter__(self):
        yield self


def _positions_first_letter_only(node) -> bool:
    return (PER_LETTER_ATTRIBUTES.isdisjoint(node.attrib)
            and all(" " not in weasyprint.svg.normalize(node.attrib.get(name)) for name in POSITION_ATTRIBUTES))


def _svg_text(svg, node, font_size):
    """Draw an SVG text element, as one run where it positions only its first letter."""
    if node.text and _positions_first_letter_only(node):
        node._etree_node.text = TextRun(node.text)
    _svg_text_by_letter(svg, node, font_size)


# draw_node compares TAGS entries with the module's `text` to spot text elements: replace both.
weasyprint.svg.text = _svg_text
weasyprint.svg.TAGS.update({tag: _svg_text for tag, draw in weasyprint.svg.TAGS.items() if draw is _svg_text_by_letter})


# What WeasyPrint 70's PDF/UA tagging leaves out (docs/report.md; tests/test_pdf_tags.py reads the
# structure tree back):
# - the running header, footer and page numbers were marked as content of structure elements that
#   the tree never reaches, rather than as artifacts: they are drawn as pagination artifacts;
# - text marked aria-hidden="true" (the scorecard's key glyphs) was read aloud: it is an artifact;
# - a chart's /Alt was its <title> alone ("Score per dimension"): it is the chart's accessible name
#   as on the web page, the text of the elements its aria-labelledby names (its title and desc);
# - an internal link's /Contents was its anchor ("dim-open_stack"): it is the link's text;
# - header cells had no /Scope: it is the cell's scope attribute (a column where it has none);
# - an element running over a page break was one structure element per page (a chapter, a list):
#   the parts are joined into one.
_draw_stacking_context = weasyprint.draw.draw_stacking_context
_build_box_tree = weasyprint.pdf.tags._build_box_tree
_marked = weasyprint.pdf.stream.Stream.marked
_add_tags = weasyprint.pdf.add_tags


def _draw_margin_as_artifact(stream, stacking_context):
    """Draw a page's margin box (running header, footer) as a pagination artifact, untagged."""
    box = stacking_context.box
    if stream._tags is None or not isinstance(box, boxes.MarginBox):
        return _draw_stacking_context(stream, stacking_context)
    place = "/Header" if box.at_keyword.startswith("@top") else "/Footer"
    pydyf.Stream.begin_marked_content(stream, "Artifact", pydyf.Dictionary({"Type": "/Pagination", "Subtype": place}))
    tags, stream._tags = stream._tags, None  # nothing inside is marked as content
    try:
        _draw_stacking_context(stream, stacking_context)
    finally:
        stream._tags = tags
        stream.end_marked_content()


def _hidden(box) -> bool:
    """Whether a box's element is aria-hidden. Only an element of text alone may be (the key glyphs):
    the text of an element inside a hidden one would be marked as content no element reaches, and
    WeasyPrint would stop on its assertion that every marked content has its element."""
    return box.element is not None and box.element.get("aria-hidden") == "true"


def _marked_unless_hidden(stream, box, tag):
    """Mark a box's content for the structure tree, or as an artifact where it is aria-hidden."""
    return stream.artifact() if _hidden(box) else _marked(stream, box, tag)


def _accessible_name(svg) -> str | None:
    """An SVG's accessible name as a browser computes it from aria-labelledby, or None."""
    ids = (svg.get("aria-labelledby") or "").split()
    parts = {node.get("id"): " ".join("".join(node.itertext()).split()) for node in svg.iter() if node.get("id") in ids}
    return ": ".join(parts[id] for id in ids if parts.get(id)) or None


def _complete(element: pydyf.Dictionary, box) -> None:
    """Give a box's structure element what WeasyPrint leaves out: a chart's /Alt, a header's
    /Scope, an internal link's description."""
    role = element["S"]
    if role == "/Figure" and box.element.tag == SVG_ROOT and (name := _accessible_name(box.element)):
        element["Alt"] = pydyf.String(name)
    elif role == "/TH":
        element["A"]["Scope"] = "/Row" if box.element.get("scope") == "row" else "/Column"
    if box.link_annotation and "Dest" in box.link_annotation:
        box.link_annotation["Contents"] = pydyf.String(" ".join("".join(box.element.itertext()).split()))


def _tag_box(box, parent, pdf, page_number, nums, annotations, tags):
    """WeasyPrint's structure elements for a box, completed; none for margin boxes and hidden boxes.

    Each element's HTML element is kept (``tagged_elements``) to join the parts of one that ran
    over a page break."""
    own = box._box if isinstance(box, AbsolutePlaceholder) else box
    if isinstance(own, boxes.MarginBox) or _hidden(own):
        return
    made = pdf.__dict__.setdefault("tagged_elements", {})
    for element in _build_box_tree(box, parent, pdf, page_number, nums, annotations, tags):
        if element.number not in made:  # made for this box, not passed on from a child (by html, body)
            made[element.number] = own.element
            _complete(element, own)
        yield element


def _structure_element(pdf, reference) -> pydyf.Dictionary | None:
    """The structure element a reference names, or None for a marked-content id."""
    return pdf.objects[int(reference.split()[0])] if isinstance(reference, bytes) else None


def _join_continued(pdf, element: pydyf.Dictionary) -> None:
    """Join the parts of each of an element's kids that ran over a page break, and so down the tree.

    Parts are the same HTML element's structure elements side by side. A part that holds marked
    content itself (a link's text, a chart) stays as it is: its marked content names its page."""
    sources = pdf.__dict__.get("tagged_elements", {})
    kids, last, last_source = [], None, None
    for reference in element["K"]:
        kid = _structure_element(pdf, reference)
        source = None if kid is None else sources.get(kid.number)
        if source is None or source is not last_source or not all(isinstance(part, bytes) for part in kid["K"]):
            kids.append(reference)
            last, last_source = kid, source
            continue
        for part in map(partial(_structure_element, pdf), kid["K"]):
            if part.get("Type") == "/StructElem":  # not a link's annotation
                part["P"] = last.reference
        last["K"].extend(kid["K"])
        kid["K"] = pydyf.Array()  # left out of the tree
    element["K"] = pydyf.Array(kids)
    for kid in map(partial(_structure_element, pdf), kids):
        if kid is not None and kid.get("Type") == "/StructElem" and any(isinstance(part, bytes) for part in kid["K"]):
            _join_continued(pdf, kid)


def _add_joined_tags(pdf, document, pdf_version, page_streams):
    """WeasyPrint's structure tree, with the parts of elements that ran over a page break joined."""
    _add_tags(pdf, document, pdf_version, page_streams)
    tree_root = _structure_element(pdf, pdf.catalog["StructTreeRoot"])
    _join_continued(pdf, _structure_element(pdf, tree_root["K"][0]))


weasyprint.draw.draw_stacking_context = _draw_margin_as_artifact
weasyprint.pdf.tags._build_box_tree = _tag_box
weasyprint.pdf.stream.Stream.marked = _marked_unless_hidden
weasyprint.pdf.add_tags = _add_joined_tags


# The contents' page numbers are `target-counter(attr(href), page)`. WeasyPrint 70 files what such a
# number waits for under no anchor (it names the anchor before reading the attribute), so the anchor's
# page being known never updates it; and it takes the target's `page` for a counter of the contents
# page itself, which is what updates it, by chance: once the page count is known, a loop after the
# target pages were laid out. The contents page was laid out three times, the second time still
# without its numbers. Filed under its anchor, a number is updated when that anchor's page is known,
# and the contents page is laid out twice (1.1% of a render's instructions), with the same numbers.
_collect_missing_counters = weasyprint.css.targets.TargetCollector.collect_missing_counters


def _attr_target(box) -> str | None:
    """The anchor named by a box's `content: target-counter(attr(NAME), ...)`, where that is all its content."""
    content = box.style["content"]
    if not (isinstance(content, tuple) and len(content) == 1 and content[0][0] == "target-counter()"):
        return None
    (function, (name, kind, fallback)), *_ = content[0][1]
    if function != "attr()" or kind != "string":
        return None
    return weasyprint.css.targets.anchor_name_from_token(("string", box.element.get(name, fallback)))


def _collect_missing_counters_by_anchor(self, parent_box, source, parse_again, missing_counters,
                                        missing_target_counters):
    """WeasyPrint's collect_missing_counters, with a lone `target-counter(attr(...))` filed under its anchor."""
    anchor = _attr_target(parent_box) if source == "content" and missing_target_counters.keys() == {None} else None
    if anchor is not None:
        missing_counters, missing_target_counters = [], {anchor: missing_target_counters[None]}
    _collect_missing_counters(self, parent_box, source, parse_again, missing_counters, missing_target_counters)


weasyprint.css.targets.TargetCollector.collect_missing_counters = _collect_missing_counters_by_anchor


class RefusedURL(ValueError):
    """A URL the report renderer will not fetch."""


class AssetFetcher(URLFetcher):
    """Serves the app's static files and data: URLs; refuses files, networks and redirects."""

    def __init__(self):
        super().__init__(timeout=1, allowed_protocols={"data", "https"}, allow_redirects=False)

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        return URLFetcherResponse(url, asset_path(url).read_bytes(),
                                  {"Content-Type": mimetypes.guess_type(url)[0] or "application/octet-stream"})


def asset_path(url: str) -> Path:
    """The static file a URL names, or RefusedURL for anything outside the static folder."""
    if not url.startswith(ASSET_BASE):
        raise RefusedURL(f"refused to fetch {url!r}: only the app's own assets are served")
    path = (STATIC / url.removeprefix(ASSET_BASE).split("?")[0].split("#")[0]).resolve()
    if not path.is_relative_to(STATIC.resolve()) or not path.is_file():
        raise RefusedURL(f"refused to fetch {url!r}: no such asset")
    return path


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja environment for reports, autoescaping everything the organization typed."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    charts.register(env)
    return env


def render_html(report: Report) -> str:
    return UNPRINTABLE.sub(" ", environment().get_template("report/report.html").render(report=report))


@lru_cache(maxsize=1)
def stylesheet() -> tuple[CSS, FontConfiguration]:
    """The print stylesheet and its fonts, parsed once per process (a warm worker reuses them)."""
    fonts = FontConfiguration()
    return CSS(url=ASSET_BASE + "report.css", url_fetcher=AssetFetcher(), font_config=fonts), fonts


# WeasyPrint's user-agent stylesheet gives every element a ::marker and five footnote and note
# pseudo-elements (::footnote-call, ::note-marker...), each cascaded and computed: 5,000 styles
# for a report of 900 elements. The report has no footnotes or notes and only its <li> are list
# items, so without those rules (and with ::marker on <li> only) the PDF is byte for byte the
# same (tests/test_pdf.py) for 5.5% fewer instructions per render.
FOOTNOTE_AND_NOTE_RULE = re.compile(r"^::(footnote|note)-[a-z]+ \{[^}]*\}\n", re.MULTILINE)
MARKER_RULE = re.compile(r"^::marker \{", re.MULTILINE)
# Its @page rule also aligns the text of all 16 margin boxes and styles the footnote and note areas.
# WeasyPrint makes every margin box on every page, and each page is its own page type, so those 18
# styles were cascaded and computed again for each page, though the report fills three margin boxes
# (report.css aligns them itself) and has no footnotes or notes. The boxes without a rule share the
# page's anonymous style: 2.7% fewer instructions per render, the same PDF.
PAGE_AREA_RULE = re.compile(r"^  @[a-z-]+ +\{[^}]*\}\n", re.MULTILINE)


@lru_cache(maxsize=1)
def user_agent_stylesheet() -> CSS:
    """WeasyPrint's HTML user-agent stylesheet without the pseudo-elements and page areas the report never shows."""
    css, footnote_and_note_rules = FOOTNOTE_AND_NOTE_RULE.subn("", weasyprint.html.UA)
    css, marker_rules = MARKER_RULE.subn("li::marker {", css)
    css, page_area_rules = PAGE_AREA_RULE.subn("", css)
    if (footnote_and_note_rules, marker_rules, page_area_rules) != (5, 1, 18):
        raise RuntimeError("WeasyPrint's user-agent stylesheet has changed: review pdf.user_agent_stylesheet")
    return CSS(string=css)


class ReportHTML(HTML):
    """A WeasyPrint document styled by user_agent_stylesheet() rather than WeasyPrint's own."""

    def _ua_stylesheets(self, forms=False):
        return [user_agent_stylesheet()]  # the report has no forms


class ParsedHTML(ReportHTML):
    """A WeasyPrint document from an element tree parsed beforehand.

    Sets what HTML.__init__ sets after its own parse (WeasyPrint 70); tests/test_pdf.py checks
    that both give the same PDF.
    """

    def __init__(self, root: ElementTree.Element):
        self.base_url = ASSET_BASE
        self.url_fetcher = AssetFetcher()
        self.media_type = "print"
        self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
        self.etree_element = self.wrapper_element.etree_element


def parse_html(html: str) -> HTML:
    """The report's HTML as a WeasyPrint document.

    The report template writes well-formed XML, which expat parses in a millisecond where
    WeasyPrint's pure-Python HTML5 parser takes 60 ms (4% of a render). Anything that is not
    well-formed (the control characters XML refuses are already spaces, see ``render_html``)
    goes through the HTML5 parser.
    """
    try:
        # Our template's output: what users typed is escaped, so it declares no entities.
        return ParsedHTML(ElementTree.fromstring(html))  # noqa: S314
    except ElementTree.ParseError:
        return ReportHTML(string=html, base_url=ASSET_BASE, url_fetcher=AssetFetcher())


def render_pdf(report: Report) -> bytes:
    """The report as PDF bytes (tagged PDF/UA-1, metadata from the HTML head)."""
    css, fonts = stylesheet()
    return parse_html(render_html(report)).write_pdf(stylesheets=[css], font_config=fonts, **PDF_OPTIONS)
