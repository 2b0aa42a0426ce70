"""The PDF read by a screen reader: its PDF/UA structure tree walked with pypdf.

What the Matterhorn protocol (PDF/UA-1) asks that a machine can check, for an assessment's report,
a workshop's report and a portfolio's PDF: the catalog's language, marking and title; every chart a
Figure with an /Alt that says what it shows; headings in order; tables of TR, TH and TD with each
header's /Scope; the running header, footer and page numbers as artifacts; links as Link elements
with a description; the reading order of the cover, the scorecard and the appendix; and no
decorative glyph read aloud.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field, replace

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject, NameObject

from assessment import portfolio_report
from assessment.answers import load_answers
from assessment.divergence import Summary as WorkshopSummary
from assessment.divergence import spread_of
from assessment.paths import EXAMPLES
from assessment.pdf import render_pdf
from assessment.portfolio_stats import summarize
from assessment.report import Report, report_date
from assessment.scoring import score

# The structure tree read back. pypdf reads the PDF; it does not know marked content, so the
# walk follows the content streams' BDC/BMC/EMC operators beside pypdf's text extraction.


@dataclass
class Element:
    """A structure element: its role (H1, P, Figure...), its dictionary, its kids and page."""

    role: str
    entry: DictionaryObject
    page: int | None
    kids: list[Element | str] = field(default_factory=list)  # elements and the text of their marked content
    annotations: list[DictionaryObject] = field(default_factory=list)  # link annotations (OBJR)

    def walk(self):
        """This element and every element under it, in reading order."""
        yield self
        for kid in self.kids:
            if isinstance(kid, Element):
                yield from kid.walk()

    def text(self) -> str:
        """Its text in structure order, as a screen reader that ignores /Alt would read it."""
        return "".join(kid if isinstance(kid, str) else kid.text() for kid in self.kids)

    def find(self, role: str) -> list[Element]:
        return [element for element in self.walk() if element.role == role]


@dataclass
class Tagged:
    """A PDF read back: its catalog, its structure tree, and its marked content page by page."""

    reader: PdfReader
    root: Element
    artifacts: list[list[str]]  # per page, the text drawn as /Artifact
    untagged: list[list[str]]  # per page, text drawn outside any marked content
    orphans: list[list[int]]  # per page, marked content that no element of the tree reaches

    @property
    def catalog(self) -> DictionaryObject:
        return self.reader.trailer["/Root"]

    def pages_of(self, element: Element) -> set[int]:
        return {e.page for e in element.walk() if e.page is not None}


def _marked_content(page) -> tuple[dict[int, str], list[str], list[str]]:
    """A page's text by MCID, its artifacts' text and its text outside marked content.

    pypdf extracts text without marked content, so the BDC/BMC/EMC operators are followed beside
    its extraction: WeasyPrint ends a text object (ET, where pypdf hands over its text) before
    the marked content around it.
    """
    stack: list[int | str] = []
    by_mcid: dict[int, str] = {}
    artifacts: list[str] = []
    untagged: list[str] = []

    def before(operator, operands, cm, tm):
        if operator == b"BDC":
            properties = operands[1]
            mcid = properties.get("/MCID") if isinstance(properties, dict) else None
            stack.append(mcid if mcid is not None else operands[0])
        elif operator == b"BMC":
            stack.append(operands[0])
        elif operator == b"EMC":
            stack.pop()

    def text(chunk, cm, tm, font, size):
        if not chunk:
            return
        if "/Artifact" in stack:
            artifacts.append(chunk)
        elif any(isinstance(mark, int) for mark in stack):
            mcid = [mark for mark in stack if isinstance(mark, int)][-1]
            by_mcid[mcid] = by_mcid.get(mcid, "") + chunk
        elif chunk.strip():
            untagged.append(chunk)

    page.extract_text(visitor_operand_before=before, visitor_text=text)
    return by_mcid, artifacts, untagged


def read_structure(pdf: bytes) -> Tagged:
    """The PDF's structure tree with each element's text, and what is drawn outside it."""
    reader = PdfReader(io.BytesIO(pdf))
    page_numbers = {page.indirect_reference.idnum: number for number, page in enumerate(reader.pages)}
    marked = [_marked_content(page) for page in reader.pages]
    reached: set[tuple[int, int]] = set()

    def page_of(entry) -> int | None:
        return page_numbers[entry.raw_get("/Pg").idnum] if "/Pg" in entry else None

    def element(entry: DictionaryObject, page: int | None) -> Element:
        page = page_of(entry) if "/Pg" in entry else page
        node = Element(str(entry["/S"])[1:], entry, page)
        kids = entry.get("/K", [])
        for kid in kids if isinstance(kids, list) else [kids]:
            if isinstance(kid, int):
                reached.add((page, kid))
                node.kids.append(marked[page][0].get(kid, ""))
                continue
            kid_entry = kid.get_object() if isinstance(kid, IndirectObject) else kid
            kind = kid_entry.get("/Type")
            if kind == NameObject("/OBJR"):
                node.annotations.append(kid_entry["/Obj"])
            elif kind == NameObject("/MCR"):
                mcr_page = page_of(kid_entry) if "/Pg" in kid_entry else page
                reached.add((mcr_page, kid_entry["/MCID"]))
                node.kids.append(marked[mcr_page][0].get(kid_entry["/MCID"], ""))
            else:
                node.kids.append(element(kid_entry, page))
        return node

    tree_root = reader.trailer["/Root"]["/StructTreeRoot"]
    root = Element("StructTreeRoot", tree_root, None)
    for kid in tree_root["/K"]:
        root.kids.append(element(kid.get_object(), None))
    orphans = [sorted(mcid for mcid in by_mcid if (number, mcid) not in reached)
               for number, (by_mcid, _, _) in enumerate(marked)]
    return Tagged(reader, root, [m[1] for m in marked], [m[2] for m in marked], orphans)


# The documents: an assessment's report, the same with a workshop, a portfolio of a few agencies
# (a heatmap row each) and one of more agencies than HEATMAP_AGENCIES (a heatmap of their types).

EPOCH = "1767225600"  # 2026-01-01
DOCUMENTS = ["report", "workshop", "portfolio", "portfolio by type"]


def _report(rubric, peers) -> Report:
    answers = load_answers(EXAMPLES / "mid-enterprise.yaml", rubric)
    return Report(rubric, answers, score(rubric, answers, peers), peers, report_date(EPOCH))


def _workshop(rubric) -> WorkshopSummary:
    """Five participants on six questions, the first two disputed, one answer "don't know"."""
    values = [["0", "1", "2", "4", "dont_know"], ["1", "3", "3", "2", "2"], ["2", "2", "2", "2", "3"]]
    spreads = tuple(spread_of(qid, values[min(n, 2)]) for n, qid in enumerate(list(rubric.questions)[:6]))
    return WorkshopSummary(5, spreads, {spreads[0].question_id: (2, "Agreed after the discussion")})


def _portfolio(rubric, agencies: int) -> bytes:
    rows = [{"id": n, "name": f"Agency {n:03d}", "type": ("ministry", "regulator")[n % 2], "size": "small",
             "overall": float(40 + n % 50), "finished": True,
             "dimensions": {d.id: float(30 + (n * 7 + i * 11) % 60) for i, d in enumerate(rubric.dimensions)}}
            for n in range(agencies)]
    summary = summarize(rows, [], [d.id for d in rubric.dimensions], [], [])
    portfolio = {"name": "National AI office", "rubric_id": rubric.id, "rubric_version": rubric.version, "peers": "lf"}
    return portfolio_report.render_pdf(portfolio, "2026", rubric, summary, portfolio_report.peer_reference(rubric))


@pytest.fixture(scope="module", params=DOCUMENTS)
def tagged(request, rubric, peers) -> tuple[str, Tagged]:
    name = request.param
    if name == "report":
        pdf = render_pdf(_report(rubric, peers))
    elif name == "workshop":
        pdf = render_pdf(replace(_report(rubric, peers), workshop=_workshop(rubric)))
    else:
        pdf = _portfolio(rubric, 12 if name == "portfolio" else portfolio_report.HEATMAP_AGENCIES + 1)
    return name, read_structure(pdf)


@pytest.fixture(scope="module")
def report(rubric, peers) -> Tagged:
    return read_structure(render_pdf(_report(rubric, peers)))


def _squash(text: str) -> str:
    return " ".join(text.split())


def _in_order(root: Element, roles: set[str]) -> list[Element]:
    return [element for element in root.walk() if element.role in roles]


def test_the_catalog_gives_the_language_the_title_and_the_pdfua_part(tagged):
    _, pdf = tagged
    catalog = pdf.catalog
    assert catalog["/Lang"] == "en"
    assert catalog["/MarkInfo"]["/Marked"].value is True
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"].value is True  # a reader shows the title, not the file name
    xmp = catalog["/Metadata"].get_data().decode()
    assert pdf.reader.xmp_metadata.dc_title["x-default"] == pdf.reader.metadata.title != ""
    assert re.search(r'pdfuaid:part(="|>)1\b', xmp)
    assert {page["/Tabs"] for page in pdf.reader.pages} == {"/S"}  # tabbing follows the structure


def test_the_running_header_footer_and_page_numbers_are_artifacts(tagged):
    # They were marked as content of elements the structure tree never reached.
    _, pdf = tagged
    pages = len(pdf.reader.pages)
    assert pdf.orphans == [[]] * pages and pdf.untagged == [[]] * pages
    for number in range(2, pages + 1):  # the cover has neither
        artifacts = _squash("".join(pdf.artifacts[number - 1]))
        assert f"sovready · Page {number} of {pages}" in artifacts and "· Sovereign AI readiness" in artifacts
    assert "sovready · Page" not in pdf.root.text()


# What each document's charts' /Alt must say, chart by chart: what is drawn, and where its figures
# are in text (or the figures themselves where no table gives them).
ALT = {
    "report": ["Readiness by dimension: Radar chart of 8 dimension scores from 0 to 100 with the modelled median survey peer",
               "Score per dimension: Bars of 8 dimension scores from 0 to 100 with a tick at the modelled median survey peer"],
    "workshop": ["Readiness by dimension: Radar chart", "Score per dimension: Bars",
                 "Answers per level and question: How many participants answered each of 6 questions at each level"],
    "portfolio": ["Distribution of scores per dimension: Box plots of the finished agencies' scores on 8 dimensions",
                  "Scores by dimension, agencies ranked 1 onwards: Each agency's score per dimension as a shade"],
    "portfolio by type": ["Distribution of scores per dimension: Box plots",
                          "Median score by dimension of each type and size of agency: Each row's shade is its median"],
}


def test_every_chart_is_a_figure_whose_alt_says_what_it_shows_and_where_its_figures_are(tagged, rubric):
    # The /Alt was the chart's title alone ("Score per dimension"): WeasyPrint reads no <desc>.
    name, pdf = tagged
    figures = pdf.root.find("Figure")
    alts = [str(figure.entry.get("/Alt", "")) for figure in figures]
    assert len(alts) == len(ALT[name]) and all(alt.startswith(start) for alt, start in zip(alts, ALT[name], strict=True))
    order = _in_order(pdf.root, {"Figure", "Table", "H1", "H2", "P"})
    for figure, alt in zip(figures, alts, strict=True):
        if alt.endswith("in the table that follows."):  # and it does, before the next heading
            following = [e.role for e in order[order.index(figure) + 1:] if e.role in {"Table", "H1", "H2"}]
            assert following[0] == "Table"
        elif "scorecards that follow" in alt:
            assert "Agency 011: " in pdf.root.text().split("Scorecards", 1)[1]
        elif name == "workshop":  # no table gives the heatmap's counts: the /Alt does
            question = list(rubric.questions.values())[0].title
            assert f"{question}: 1, 1, 1, 0, 1; other 1; spread 4." in alt
        else:
            assert "type ministry (37): Strategy and priority " in alt and "Governance and stakeholders " in alt


def test_headings_run_from_h1_and_never_skip_a_level(tagged):
    _, pdf = tagged
    levels = [int(e.role[1]) for e in _in_order(pdf.root, {"H1", "H2", "H3", "H4", "H5", "H6"})]
    assert levels[0] == 1 and [(a, b) for a, b in zip(levels, levels[1:], strict=False) if b > a + 1] == []
    assert all(_squash(e.text()) for e in _in_order(pdf.root, {"H1", "H2"}))


def _headers(table: Element) -> dict[str, str]:
    """A table's header cells by their ID, with their text."""
    return {str(th.entry["/ID"]): _squash(th.text()) for th in table.find("TH")}


def test_tables_are_rows_of_header_and_data_cells_each_header_with_its_scope(tagged):
    # Header cells had no /Scope, and the summary's gaps, the drivers, the barriers and the
    # workshop's disputed questions had no row header: "2 → 4" was read without its gap.
    _, pdf = tagged
    tables = pdf.root.find("Table")
    assert tables
    for table in tables:
        for row in table.find("TR"):
            assert [kid.role for kid in row.kids if isinstance(kid, Element)] and all(
                kid.role in ("TH", "TD") for kid in row.kids if isinstance(kid, Element))
        for part, scope in (("THead", "/Column"), ("TBody", "/Row")):  # a body row opens with its head
            for row in (row for section in table.find(part) for row in section.find("TR")):
                cells = [kid for kid in row.kids if isinstance(kid, Element)]
                heads = cells if part == "THead" else cells[:1]
                assert all(cell.role == "TH" and cell.entry["/A"]["/Scope"] == scope for cell in heads), row.text()
        names = _headers(table)
        for cell in table.find("TD"):
            headers = [names[str(id)] for id in cell.entry["/A"]["/Headers"]]
            assert len(headers) == (2 if table.find("THead") else 1), (headers, cell.text())


def test_a_figure_in_a_table_is_read_with_its_row_and_column(report):
    summary, scorecard = ([t for t in report.root.find("Table") if _squash(t.find("TH")[0].text()) == head][0]
                          for head in ("Gap", "Dimension"))
    def read(table, text):
        cell = next(cell for cell in table.find("TD") if _squash(cell.text()) == text)
        return [_headers(table)[str(id)] for id in cell.entry["/A"]["/Headers"]]
    assert read(summary, "2 → 4") == ["Data residency and jurisdiction critical", "Level"]
    assert read(scorecard, "51.8") == ["Strategy and priority", "Score"]


def test_links_are_link_elements_described_by_their_text(tagged):
    # A contents entry's link was described by its anchor ("dim-open_stack", "summary").
    _, pdf = tagged
    links = pdf.root.find("Link")
    tagged_annotations = {annotation.indirect_reference.idnum for link in links for annotation in link.annotations}
    for page in pdf.reader.pages:
        for annotation in page.get("/Annots", []):
            assert annotation.get_object()["/Subtype"] != "/Link" or annotation.idnum in tagged_annotations
    assert links
    for link in links:
        (annotation,) = link.annotations
        own = [kid for kid in link.kids if not (isinstance(kid, Element) and kid.role == "Link")]  # not its page number's
        text, description = _squash(Element("Link", link.entry, link.page, own).text()), str(annotation["/Contents"])
        assert text in description or text.isdigit(), (text, description)  # a contents entry's page number


def test_the_contents_entries_are_described_by_the_chapters_titles(report, rubric):
    entries = [str(link.annotations[0]["/Contents"]) for link in report.root.find("Link")
               if "/Dest" in link.annotations[0]][::2]  # each entry's title and page number link to it
    assert entries[:3] == ["Executive summary", "Scorecard", rubric.dimensions[0].title]
    assert entries[-1] == "Appendix: every answer"


def test_the_cover_scorecard_and_appendix_read_in_the_order_they_are_seen(report, rubric):
    cover = report.root.kids[0].kids[0]
    assert [(e.role, _squash(e.text())) for e in cover.kids[:4]] == [
        ("P", "SOVREADY · SOVEREIGN AI READINESS REPORT"), ("H1", "Nordwind Insurance Group (example)"),
        ("P", "45.3 / 100"), ("P", "Stage: Developing")]
    # The date, rubric and peers were a definition list, each term and value read as an item of its own.
    meta = cover.kids[4]
    assert meta.role == "Table" and _squash(meta.text()).startswith("Date 01 January 2026 Rubric Sovereign AI Readiness")
    assert [(_headers(meta)[str(id)], _squash(td.text())) for td in meta.find("TD")[:1] for id in td.entry["/A"]["/Headers"]] == [
        ("Date", "01 January 2026")]
    order = _in_order(report.root, {"H1", "H2", "Figure", "P", "Table", "L"})
    opening = next(n for n, e in enumerate(order) if e.role == "H1" and e.text() == "Scorecard")
    roles = [(e.role, _squash(e.text())) for e in order[opening:opening + 6]]
    assert [role for role, _ in roles] == ["H1", "Figure", "P", "Figure", "Table", "P"]  # radar, its key, bars, table, note
    assert "Blue: the organization's scores." in roles[2][1]
    appendix = next(n for n, e in enumerate(order) if e.role == "H1" and e.text() == "Appendix: every answer")
    rest = [(e.role, _squash(e.text())) for e in order[appendix + 1:]]
    assert [text for role, text in rest if role == "H2"] == [d.title for d in rubric.dimensions]
    assert [role for role, _ in rest] == ["H2", "L"] * len(rubric.dimensions)


def test_the_scorecards_key_glyphs_are_not_read_aloud(report):
    # A screen reader read "black square" and "white diamond, left one quarter block".
    scorecard = next(n for n, text in enumerate(report.artifacts) if "■" in "".join(text))
    assert {"■", "◇ ▎"} <= {text.strip() for text in report.artifacts[scorecard]}
    assert not set("■◇▎") & set(report.root.text())


def test_a_chapter_or_list_running_over_a_page_break_is_one_element(tagged):
    # Each page's part was an element of its own: the roadmap's list of next steps was three lists.
    name, pdf = tagged
    chapters = pdf.root.kids[0].kids
    assert [len(chapter.find("H1")) for chapter in chapters if chapter.role == "Sect"] == [1] * (len(chapters) - (name in ("report", "workshop")))
    for element in pdf.root.kids[0].walk():  # each kid names its parent
        for kid in element.kids:
            if isinstance(kid, Element):
                assert kid.entry.raw_get("/P").idnum == element.entry.indirect_reference.idnum


def test_the_roadmap_has_one_list_per_horizon(report, rubric, peers):
    roadmap = next(chapter for chapter in report.root.kids[0].kids if [_squash(h.text()) for h in chapter.find("H1")] == ["Roadmap"])
    steps = _report(rubric, peers).result.roadmap()
    assert [len(items.find("LI")) for items in roadmap.find("L")] == [len(gaps) for gaps in steps.values()]
