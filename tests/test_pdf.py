"""The PDF report: parsed back, metadata, reproducible, and safe against hostile input."""

import copy
import io
import logging
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pydyf
import pytest
import weasyprint.css
import weasyprint.draw.text
from click.testing import CliRunner
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.formatting_structure import boxes

from assessment import pdf_layout, pdf_objects, pdf_text, portfolio_report
from assessment.answers import Answer, AnswerSet, load_answers
from assessment.cli import cli
from assessment.divergence import Summary as WorkshopSummary
from assessment.divergence import spread_of
from assessment.paths import EXAMPLES
from assessment.pdf import (
    ASSET_BASE,
    PDF_OPTIONS,
    STATIC,
    AssetFetcher,
    ParsedHTML,
    RefusedURL,
    ReportHTML,
    parse_html,
    render_html,
    render_pdf,
    stylesheet,
    user_agent_stylesheet,
)
from assessment.portfolio_stats import summarize
from assessment.report import Report, report_date
from assessment.rubric import load_rubric
from assessment.scoring import score
from assessment.textreport import cannot_say

EPOCH = "1767225600"  # 2026-01-01T00:00:00Z


@pytest.fixture
def weasyprint_warnings(caplog):
    """Fail the test on any WeasyPrint warning (a refused fetch, a CSS problem, a missing font)."""
    caplog.set_level(logging.WARNING, logger="weasyprint")
    yield caplog
    problems = [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint") and r.levelno >= logging.WARNING]
    assert problems == []


def _report(rubric, peers, answers):
    return Report(rubric, answers, score(rubric, answers, peers), peers, report_date(EPOCH))


def _text(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture(scope="module")
def mid_pdf(rubric, peers):
    answers = load_answers(EXAMPLES / "mid-enterprise.yaml", rubric)
    report = _report(rubric, peers, answers)
    return report, render_pdf(report)


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_pdf_names_organization_index_dimensions_and_top_gaps(mid_pdf, weasyprint_warnings):
    report, pdf = mid_pdf
    reader, text = _text(pdf)
    flat = _squash(text)
    assert "Nordwind Insurance Group (example)" in flat
    assert "45.3" in flat and "Developing" in flat
    for dimension in report.rubric.dimensions:
        assert dimension.title in flat, dimension.title
    for gap in report.urgent():
        assert _squash(gap.title) in flat, gap.title
    assert "modelled from published aggregates (n = 233)" in flat
    assert 15 <= len(reader.pages) <= 40


def test_scorecard_sets_the_median_peer_beside_the_score_on_the_same_questions(mid_pdf):
    flat = _squash(_text(mid_pdf[1])[1])
    assert "“same questions”: its linked questions only" in flat and "You, same questions" in flat
    # Data sovereignty: 55 on all six questions, 50 against the median peer's 51.1 on the linked one.
    assert "Data sovereignty 55.0 6/6 50.0 51.1" in flat
    assert "while the blue scores cover all its questions" in flat


def test_the_scorecard_with_its_notes_fits_one_page(mid_pdf):
    # Its notes (percentile label, regional note) had spilled onto a page of their own.
    reader, _ = _text(mid_pdf[1])
    pages = [_squash(page.extract_text()) for page in reader.pages]
    (scorecard,) = [page for page in pages if "Readiness by dimension" in page]
    assert "Regional percentile: 31st" in scorecard and "Percentiles are modelled" in scorecard
    assert sum(page.split(" · ", 1)[-1].startswith("Sovereign AI readiness Scorecard") for page in pages) == 1


def test_a_table_stakes_gap_names_the_survey_figure_behind_it(mid_pdf):
    flat = _squash(_text(mid_pdf[1])[1])
    assert ("Engagement with national government table stakes (survey: Key stakeholders for shaping sovereign AI: "
            "National governments, 66% (A; S1, S2, S3))") in flat


def test_methodology_says_the_linked_figures_include_views_and_names_the_confidence_c_one(mid_pdf):
    flat = _squash(_text(mid_pdf[1])[1])
    assert "the percentile partly measures agreement with those views" in flat
    assert ("1 of the 15 linked figures is of confidence C, a third-party summary not checked against the report "
            "(Open source technologies used for custom AI: Kubernetes, 58% (C; S9))") in flat
    assert "linked practice" not in flat
    assert ("The model takes Focus of customized AI work: Controlling AI capabilities and intellectual property, "
            "57% (A; S1, S2; base not published) as a share of all respondents, though the report does not publish "
            "its base") in flat


def test_the_percentile_is_given_with_the_range_under_the_models_assumptions_and_what_it_cannot_say(mid_pdf, peers):
    flat = _squash(_text(mid_pdf[1])[1])
    assert "percentile (range under the model's assumptions" in flat and "plausible range" not in flat
    for sentence in cannot_say(peers):  # the same sentences as on the results page and the command line
        assert _squash(sentence) in flat


def test_the_regional_percentile_says_how_many_figures_are_regional_and_that_a_few_points_are_noise(mid_pdf):
    flat = _squash(_text(mid_pdf[1])[1])
    assert "Respondents in Europe: regional figures for 2 of 15 linked survey figures" in flat
    assert "A difference of a few points from the overall percentile is within the survey's noise" in flat


def test_methodology_states_the_sampling_error_and_the_dimensions_without_a_percentile(mid_pdf):
    flat = _squash(_text(mid_pdf[1])[1])
    assert "a survey of 233 (a share near one half has a standard error of about 3.3 points" in flat
    assert "and a 95% margin of about ±6.4 points" in flat
    assert "Security and resilience and Talent and capability have no linked figure and so no percentile." in flat


@pytest.mark.parametrize("name", ["early-public-agency", "mid-enterprise", "advanced-research-lab"])
def test_pdf_states_only_published_figures_each_with_its_sources(rubric, peers, name, published_only):
    answers = load_answers(EXAMPLES / f"{name}.yaml", rubric)
    flat = _squash(_text(render_pdf(_report(rubric, peers, answers)))[1])
    # The notes on figures quote the variants (94%, "the majority"), and the methodology a 95% margin.
    notes = flat[flat.index("Notes on figures:"):flat.index("How the readiness index is computed")]
    assert "The press release and several summaries say 94%" in notes and "A plurality, not a majority" in notes
    published_only(flat.replace(notes, "").replace("95% margin", ""))
    assert "do not yet" not in flat and "modelled percentile among survey peers" in flat
    for source_id, source in peers.sources.items():
        assert f"{source_id}: {source.title}" in flat
    unbroken = flat.replace("- ", "-").replace("/ ", "/")  # the address breaks after a hyphen or a slash
    assert "https://creativecommons.org/licenses/by-nd/4.0/" in unbroken and "(August 2025)" in flat


def test_pdf_metadata_bookmarks_and_tags(mid_pdf):
    _, pdf = mid_pdf
    reader = PdfReader(io.BytesIO(pdf))
    meta = reader.metadata
    assert meta.title == "Sovereign AI readiness report: Nordwind Insurance Group (example)"
    assert meta.author == "sovready"
    assert meta.subject.startswith("Sovereign AI readiness of Nordwind")
    assert meta.creation_date.isoformat().startswith("2026-01-01")
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert "Executive summary" in titles and "Appendix: every answer" in titles
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged for accessibility


@pytest.mark.parametrize("added", ["::footnote-call { color: red }\n", "::marker { color: red }\n",
                                   "@page {\n  @top-center { color: red }\n}\n"])
def test_a_changed_weasyprint_user_agent_stylesheet_is_refused_not_trimmed_blindly(monkeypatch, added):
    """The trimmed stylesheet gives the same PDF only for the rules it was written against: another
    rule of the kinds it removes or rewrites, in a later WeasyPrint, must stop the render."""
    import weasyprint.html

    monkeypatch.setattr(weasyprint.html, "UA", weasyprint.html.UA + added)
    user_agent_stylesheet.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="WeasyPrint's user-agent stylesheet has changed"):
            user_agent_stylesheet()
    finally:
        user_agent_stylesheet.cache_clear()  # the next render reads the real one again


def test_the_contents_give_each_chapters_first_page_and_are_laid_out_twice(rubric, peers, caplog):
    """Once without the page numbers, once with them: WeasyPrint 70 laid the contents out a third time
    (pdf._collect_missing_counters_by_anchor says why)."""
    caplog.set_level(logging.INFO, logger="weasyprint.progress")
    reader = PdfReader(io.BytesIO(render_pdf(_report(rubric, peers, load_answers(EXAMPLES / "mid-enterprise.yaml", rubric)))))
    assert [r.getMessage() for r in caplog.records].count("Step 5 - Creating layout - Page 2") == 2
    starts = {item.title: reader.get_destination_page_number(item) + 1 for item in reader.outline
              if not isinstance(item, list)}
    contents = reader.pages[1].extract_text().split("sovready · Page")[0]  # not the footer
    entries = dict(re.findall(r"^(.+) (\d+)$", contents, re.MULTILINE))
    assert len(entries) == 15 and {title: starts[title] for title in entries} == {
        title: int(number) for title, number in entries.items()}


def test_same_inputs_give_the_same_pdf(rubric, peers, mid_pdf):
    report, pdf = mid_pdf
    assert render_pdf(report) == pdf


def test_xml_parse_gives_the_pdf_of_weasyprints_html5_parse(mid_pdf):
    """Also the user-agent stylesheet: WeasyPrint's own here, pdf.user_agent_stylesheet() in mid_pdf."""
    report, pdf = mid_pdf
    html = render_html(report)
    assert isinstance(parse_html(html), ParsedHTML)  # the report template writes well-formed XML
    css, fonts = stylesheet()
    html5 = HTML(string=html, base_url=ASSET_BASE, url_fetcher=AssetFetcher())
    assert html5.write_pdf(stylesheets=[css], font_config=fonts, **PDF_OPTIONS) == pdf


def test_html_that_xml_refuses_goes_through_the_html5_parser():
    document = parse_html("<!DOCTYPE html><p>an unclosed<br> line break")
    assert not isinstance(document, ParsedHTML) and isinstance(document, ReportHTML)


def test_control_characters_typed_into_notes_print_as_spaces(rubric, peers, weasyprint_warnings):
    note = "Page one\fpage two\x00\x1b[0m end"  # a form feed, a NUL, an escape sequence
    answers = AnswerSet(answers={"data.residency": Answer(2, note=note, basis="evidenced")}, organization="Form\fFeed Ltd")
    report = _report(rubric, peers, answers)
    assert isinstance(parse_html(render_html(report)), ParsedHTML)
    _, text = _text(render_pdf(report))
    flat = _squash(text)
    assert "Page one page two" in flat and "Form Feed Ltd" in flat


HOSTILE = ('<link rel="attachment" href="file:///etc/passwd"><img src="file:///etc/hostname">'
           '<img src="https://example.com/tracker.png"><style>@import url(https://example.com/x.css)</style>')


def test_hostile_markup_in_names_and_notes_is_printed_as_text(rubric, peers, weasyprint_warnings, monkeypatch):
    fetched = []
    original = AssetFetcher.fetch
    monkeypatch.setattr(AssetFetcher, "fetch", lambda self, url, headers=None: fetched.append(url) or original(self, url, headers))
    answers = AnswerSet(answers={"data.residency": Answer(2, note=HOSTILE, basis="evidenced")},
                        organization=f"Evil Corp {HOSTILE}")
    pdf = render_pdf(_report(rubric, peers, answers))
    reader, text = _text(pdf)
    no_space = "".join(text.split())
    assert "".join(HOSTILE.split()) in no_space  # printed verbatim, on the cover and as the note
    assert "root:" not in text
    assert "/EmbeddedFiles" not in str(reader.trailer["/Root"].get("/Names", {}))
    assert all(url.startswith(ASSET_BASE) for url in fetched), fetched


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "https://example.com/x.png", "http://assets.sovready.invalid/report.css",
    f"{ASSET_BASE}../../pyproject.toml", f"{ASSET_BASE}fonts/../../../../etc/passwd", f"{ASSET_BASE}nothing.css",
    "ftp://example.com/x",
])
def test_fetcher_refuses_everything_but_the_apps_assets(url):
    with pytest.raises((RefusedURL, ValueError)):
        AssetFetcher().fetch(url)


def test_fetcher_serves_assets_and_data_urls():
    assert AssetFetcher().fetch(f"{ASSET_BASE}report.css").read().startswith(b"/*")
    assert AssetFetcher().fetch("data:text/plain,hello").read() == b"hello"


def test_report_command_writes_a_pdf(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    out = tmp_path / "report.pdf"
    result = CliRunner().invoke(cli, ["report", str(EXAMPLES / "early-public-agency.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    _, text = _text(out.read_bytes())
    assert "Regional Benefits Agency (example)" in _squash(text)
    assert "01 January 2026" in _squash(text)


def test_report_command_refuses_bad_answers_plainly(tmp_path):
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "none.yaml"), "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 2 and "none.yaml: no such file" in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_svg_text_is_drawn_as_one_run_unless_it_places_letters_one_by_one():
    """assessment.pdf draws chart labels as one run; per-letter rotation keeps WeasyPrint's path."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60">'
           '<text x="5" y="20" font-size="10">Readiness</text>'
           '<text x="5" y="40" font-size="10" rotate="10">Readiness</text></svg>')
    css, fonts = stylesheet()
    pdf = HTML(string=svg, base_url=ASSET_BASE, url_fetcher=AssetFetcher()).write_pdf(
        stylesheets=[css], font_config=fonts, uncompressed_pdf=True)
    content = PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data()
    assert content.count(b" Tm") == 1 + len("Readiness")


def test_page_references_follow_the_pages_added():
    """assessment.pdf keeps pydyf's page references until a page is added."""
    document = pydyf.PDF()
    document.add_page(pydyf.Dictionary({"Type": "/Page"}))
    first = document.page_references
    assert document.page_references is first and len(first) == 1
    document.add_page(pydyf.Dictionary({"Type": "/Page"}))
    assert document.page_references == (*first, f"{document.objects[-1].number} 0 R".encode())


@pytest.fixture
def weasyprints_own_text(monkeypatch):
    """WeasyPrint's own text layout and drawing, without assessment.pdf_text's patches."""
    for (owner, name), function in pdf_text.WEASYPRINTS_OWN.items():
        monkeypatch.setattr(owner, name, function)


# Text that WeasyPrint draws from a new layout or glyph by glyph: justified, spaced, preserved and
# separated lines, a word broken to fit, an ellipsis, a raised glyph, right to left, a chart label.
TEXT_CASES = """<style>p { width: 60mm; font-family: "Report Sans" }</style>
<p style="text-align: justify">Sovereignty over models, data and compute, each weighed against the
survey's peers, is written here long enough to be justified over three lines or more.</p>
<p style="letter-spacing: 1pt">Spaced letters</p><p style="word-spacing: 4pt">Spaced words here</p>
<p style="white-space: pre-line">First line
second line</p><p>One paragraph\u2029another after a separator</p>
<p style="overflow-wrap: break-word">Averyveryverylongwordthatcannotfitinthiswidthatall end</p>
<p style="white-space: nowrap; overflow: hidden; text-overflow: ellipsis">A line too long for its box, cut
with an ellipsis at its end</p><p>x<sup>2</sup> and <u>underlined</u> and <span dir="rtl">שלום</span></p>
<svg xmlns="http://www.w3.org/2000/svg" width="200" height="30"><text x="5" y="20">Readiness</text></svg>
"""


def _write(html: str) -> bytes:
    css, fonts = stylesheet()
    return HTML(string=html, base_url=ASSET_BASE, url_fetcher=AssetFetcher()).write_pdf(
        stylesheets=[css], font_config=fonts, **PDF_OPTIONS)


@pytest.fixture(scope="module")
def text_cases_pdf():
    return _write(TEXT_CASES)


def test_text_drawn_from_kept_layouts_is_weasyprints_own(text_cases_pdf, weasyprints_own_text):
    """assessment.pdf_text changes no byte of text that WeasyPrint draws otherwise."""
    assert _write(TEXT_CASES) == text_cases_pdf


def test_the_report_is_weasyprints_own_pdf_without_the_text_patches(mid_pdf, weasyprints_own_text):
    report, pdf = mid_pdf
    assert render_pdf(report) == pdf


def test_the_reports_lines_are_drawn_from_kept_layouts_and_their_glyphs_read_in_one_go(mid_pdf, monkeypatch):
    """What assessment.pdf_text saves: a new layout per line drawn, a glyph read per cffi lookup.
    A WeasyPrint that lays out differently would draw correctly but through its own functions."""
    new_layouts, by_glyph = [], []
    reactivate = pdf_text._reactivate
    monkeypatch.setattr(pdf_text, "_reactivate", lambda layout, style: new_layouts.append(layout.text) or reactivate(layout, style))
    own = pdf_text._draw_first_line_by_glyph
    monkeypatch.setattr(pdf_text, "_draw_first_line_by_glyph", lambda stream, box, *rest: by_glyph.append(box.text) or own(stream, box, *rest))
    drawn = []
    monkeypatch.setattr(weasyprint.draw.text, "draw_first_line", lambda stream, box, *rest: drawn.append(box.text) or pdf_text._draw_first_line(stream, box, *rest))
    render_pdf(mid_pdf[0])
    assert len(drawn) > 1000 and len(new_layouts) < 5
    assert all(not text.strip() for text in by_glyph)  # only blank lines, which draw nothing


# A fresh process renders an example with WeasyPrint's and pydyf's own functions: nothing remembered, nothing patched.
OWN_PDF_SCRIPT = """
import sys
from assessment import pdf_layout, pdf_objects, pdf_text
from assessment.answers import load_answers
from assessment.paths import DEFAULT_RUBRIC, EXAMPLES
from assessment.pdf import render_pdf
from assessment.peers import load_peers
from assessment.report import Report, report_date
from assessment.rubric import load_rubric, peers_path
from assessment.scoring import score
for own in (pdf_text.WEASYPRINTS_OWN, pdf_layout.WEASYPRINTS_OWN, pdf_objects.PYDYFS_OWN):
    for (owner, name), function in own.items():
        setattr(owner, name, function)
rubric = load_rubric(DEFAULT_RUBRIC)
peers = load_peers(peers_path(DEFAULT_RUBRIC, rubric.peers))
answers = load_answers(EXAMPLES / (sys.argv[1] + ".yaml"), rubric)
sys.stdout.buffer.write(render_pdf(Report(rubric, answers, score(rubric, answers, peers), peers, report_date(sys.argv[2]))))
"""


def _broken_anew(monkeypatch) -> list[str]:
    """The texts whose lines are broken by WeasyPrint's split_first_line, not taken from those remembered."""
    texts, split = [], pdf_text._split_first_line
    monkeypatch.setattr(pdf_text, "_split_first_line", lambda text, *rest: texts.append(text) or split(text, *rest))
    return texts


def test_a_report_after_another_is_weasyprints_own_pdf_with_most_of_its_lines_remembered(rubric, peers, monkeypatch):
    """The worker's render children inherit the lines of the example it rendered: another report's
    PDF is byte for byte what WeasyPrint makes of it in a process that never rendered before."""
    pdf_text._remembered_lines.clear()
    render_pdf(_report(rubric, peers, load_answers(EXAMPLES / "mid-enterprise.yaml", rubric)))
    broken, lines, key = _broken_anew(monkeypatch), [], pdf_text._line_key
    monkeypatch.setattr(pdf_text, "_line_key", lambda text, *rest: lines.append(text) or key(text, *rest))
    planned, plan = [], pdf_text._plain_line
    monkeypatch.setattr(pdf_text, "_plain_line", lambda stream, box: planned.append(box.text) or plan(stream, box))
    drawn, draw = [], pdf_text._draw_line
    monkeypatch.setattr(pdf_text, "_draw_line", lambda stream, line, matrix: drawn.append(line) or draw(stream, line, matrix))
    answers = load_answers(EXAMPLES / "early-public-agency.yaml", rubric)
    with_remembered_lines = render_pdf(_report(rubric, peers, answers))
    own = subprocess.run([sys.executable, "-c", OWN_PDF_SCRIPT, "early-public-agency", EPOCH], check=True,
                         capture_output=True, cwd=Path(__file__).parents[1]).stdout
    assert with_remembered_lines == own
    assert len(lines) > 1000 and 0 < len(broken) < len(lines) / 2
    assert len(drawn) > 1000 and 0 < len(planned) < len(drawn) / 2  # the others drawn as they were before
    assert len(pdf_text._remembered_lines) < pdf_text.REMEMBERED_LINES  # the two reports' lines, none forgotten


# The same words as a line already broken, in every other respect that breaking reads changed; and
# justified, which breaking does not read: the same line, drawn from a new layout with its spacing.
LINE = "Sovereignty over models, data and compute, weighed against the survey's peers"
SAME_WORDS = f"""<style>p {{ width: 60mm; font-family: "Report Sans" }}</style><p>{LINE}</p>"""
SAME_WORDS_CHANGED = f"""<style>p {{ width: 60mm; font-family: "Report Sans" }}</style><p>{LINE}</p>
<p style="width: 50mm">{LINE}</p><p style="font-weight: bold">{LINE}</p><p style="font-size: 11pt">{LINE}</p>
<p style="letter-spacing: 0.5pt">{LINE}</p><p style="word-spacing: 2pt">{LINE}</p><p style="white-space: nowrap">{LINE}</p>
<p style="text-decoration: underline">{LINE}</p><p lang="de" style="hyphens: auto">{LINE}</p>
<p style="font-variant: small-caps">{LINE}</p><p style="font-kerning: none">{LINE}</p><p dir="rtl">{LINE}</p>
<p style="overflow-wrap: anywhere">{LINE}</p><p style="text-align: justify">{LINE}</p>
"""


def test_a_line_is_remembered_for_its_text_width_and_style_only(monkeypatch):
    pdf_text._remembered_lines.clear()
    _write(SAME_WORDS)
    broken = _broken_anew(monkeypatch)
    changed = _write(SAME_WORDS_CHANGED)
    assert broken.count(LINE) == 12  # each paragraph's first line but the first and the justified one's
    for (owner, name), function in pdf_text.WEASYPRINTS_OWN.items():
        monkeypatch.setattr(owner, name, function)
    assert _write(SAME_WORDS_CHANGED) == changed


def test_a_lines_key_holds_every_style_property_that_breaking_it_reads(mid_pdf, text_cases_pdf, monkeypatch):
    """What split_first_line reads of a style (Layout.setup and set_text included) is in LINE_STYLE_PROPERTIES."""
    read, breaking = set(), []
    get = dict.__getitem__
    monkeypatch.setattr(weasyprint.css.Style, "__getitem__", lambda style, name: (breaking and read.add(name)) or get(style, name),
                        raising=False)
    split = pdf_text._split_first_line

    def recorded(*args):
        breaking.append(True)
        try:
            return split(*args)
        finally:
            breaking.pop()

    monkeypatch.setattr(pdf_text, "_split_first_line", recorded)
    pdf_text._remembered_lines.clear()
    render_pdf(mid_pdf[0])
    _write(TEXT_CASES + SAME_WORDS_CHANGED)
    assert {"font_size", "white_space", "lang"} <= read <= set(pdf_text.LINE_STYLE_PROPERTIES)


def test_remembered_lines_are_bounded_and_the_oldest_forgotten(text_cases_pdf, monkeypatch):
    monkeypatch.setattr(pdf_text, "REMEMBERED_LINES", 5)
    pdf_text._remembered_lines.clear()
    _write(SAME_WORDS)
    first = next(iter(pdf_text._remembered_lines))
    assert _write(TEXT_CASES) == text_cases_pdf
    assert len(pdf_text._remembered_lines) == 5 and first not in pdf_text._remembered_lines


@pytest.fixture
def weasyprints_own_layout(monkeypatch):
    """WeasyPrint's own layout functions, without assessment.pdf_layout's patches."""
    for (owner, name), function in pdf_layout.WEASYPRINTS_OWN.items():
        monkeypatch.setattr(owner, name, function)


# Boxes whose margins, paddings, sizes and flow take WeasyPrint's own paths: percentages against a
# containing block of fixed and of automatic height, calc(), border- and padding-box sizing,
# floats, absolute and fixed positions, a running element, collapsed table borders, an inline block,
# a floated flex item (which does not float: WeasyPrint overrides its is_floated).
LAYOUT_CASES = """<style>
@page { margin: 10% 5%; @top-center { content: element(header) } }
body { font-family: "Report Sans" } header { position: running(header) }
.fixed { height: 80mm; width: 50% } .fixed > p { height: 25%; min-height: 10%; max-height: 50%; margin: 2% auto }
.calc { width: calc(50% - 10mm); padding: calc(1% + 2pt) 3%; min-width: 20mm; max-width: 90% }
.border-box { box-sizing: border-box; width: 40%; padding: 5mm; border: 2mm solid; height: 30mm }
.padding-box { box-sizing: padding-box; width: 30%; padding: 2%; min-height: 5mm }
.left { float: left; width: 20% } .right { float: right; margin: 1em 5% }
.absolute { position: absolute; top: 10%; left: 20mm; width: 25% } .fixedpos { position: fixed; bottom: 5mm; right: 5% }
table { border-collapse: collapse; width: 100% } td { border: 1pt solid; padding: 1%; width: 30% }
.inline { display: inline-block; width: 15%; margin: 0 2% }
</style>
<header>Running header</header>
<div class="fixed"><p>A quarter of the height</p></div>
<div class="calc">calc() widths and paddings</div><div class="border-box">Border box</div>
<div class="padding-box">Padding box</div><p class="left">Floated left</p><p class="right">Floated right</p>
<p style="clear: both">Cleared, with <span class="inline">an inline block</span> in its line.</p>
<div class="absolute">Absolutely positioned</div><div class="fixedpos">Fixed</div>
<table><tr><td>Collapsed</td><td style="border-width: 3pt">borders</td></tr></table>
<div style="display: flex"><p style="float: right; width: 30%">A floated flex item</p><p>stays in its row</p></div>
"""


@pytest.fixture(scope="module")
def layout_cases_pdf():
    return _write(LAYOUT_CASES)


def test_boxes_laid_out_with_less_work_are_weasyprints_own(layout_cases_pdf, text_cases_pdf, weasyprints_own_layout):
    """assessment.pdf_layout changes no byte of boxes, or of text in their fonts, that WeasyPrint lays out otherwise."""
    assert _write(LAYOUT_CASES) == layout_cases_pdf
    assert _write(TEXT_CASES) == text_cases_pdf


def test_the_report_is_weasyprints_own_pdf_without_the_layout_patches(mid_pdf, weasyprints_own_layout):
    report, pdf = mid_pdf
    assert render_pdf(report) == pdf


def test_the_reports_lengths_and_struts_take_the_short_paths(mid_pdf, monkeypatch):
    """What assessment.pdf_layout saves: a call per length in px or auto, the imports of each cached strut,
    a font description per text layout.
    A WeasyPrint that computes otherwise would lay out correctly but through its own functions."""
    values, by_weasyprint, struts = [], [], []
    resolve, resolve_one, strut = pdf_layout._resolve, pdf_layout._resolve_one_percentage, pdf_layout._strut
    monkeypatch.setattr(pdf_layout, "_resolve", lambda box, style, names, refer_to: values.extend(names)
                        or resolve(box, style, names, refer_to))
    monkeypatch.setattr(pdf_layout, "_resolve_one_percentage", lambda box, name, refer_to: by_weasyprint.append(name)
                        or resolve_one(box, name, refer_to))
    monkeypatch.setattr(pdf_layout, "_strut", lambda style: struts.append(style) or strut(style))
    descriptions, describe = [], pdf_layout._get_font_description
    monkeypatch.setattr(pdf_layout, "_get_font_description", lambda style: descriptions.append(style) or describe(style))
    pdf_layout._font_description.cache_clear()
    render_pdf(mid_pdf[0])
    assert len(values) > 40_000 and len(by_weasyprint) < len(values) / 10
    assert len(struts) < 50  # of some 2,600
    assert len(descriptions) < 150  # of some 1,500 text layouts: 19 fonts, and 92 labels of SVG text


@pytest.fixture
def pydyfs_own_writing(monkeypatch):
    """pydyf's own serializer, without assessment.pdf_objects' patch."""
    for (owner, name), function in pdf_objects.PYDYFS_OWN.items():
        monkeypatch.setattr(owner, name, function)


def test_the_report_is_pydyfs_own_pdf_without_the_faster_serializer(mid_pdf, pydyfs_own_writing):
    report, pdf = mid_pdf
    assert render_pdf(report) == pdf


VALUES = [b"0 0 R", "Name", "", 0, -7, 10**20, True, 2.0, -0.125, 1e-7,
          pydyf.Dictionary({"Type": "/Page", "Count": 3, "Kids": pydyf.Array([1, 0, "R"])}),
          pydyf.String("parentheses (and) a backslash \\"), pydyf.String("Élan: not ASCII")]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_pydyfs_values_are_written_as_pydyf_writes_them(value):
    assert pydyf._to_bytes is pdf_objects._to_bytes
    assert pdf_objects._to_bytes(value) == pdf_objects.PYDYFS_OWN[pydyf, "_to_bytes"](value)


def test_text_that_is_not_ascii_fails_as_in_pydyf_so_that_strings_write_it_in_utf_16():
    """pydyf.String catches the UnicodeEncodeError of a str that is not ASCII and writes it in UTF-16."""
    with pytest.raises(UnicodeEncodeError):
        pdf_objects._to_bytes("Élan")
    assert pydyf.String("Élan").data == b"<" + (b"\xfe\xff" + "Élan".encode("utf-16-be")).hex().encode() + b">"


# What a reader checks: one number format, headings that count what they list, nothing past the
# margins, and the edge cases of an answers file (don't know and not applicable, a long name).

def _layout(report):
    """The report laid out by WeasyPrint (pages of boxes), without writing the PDF."""
    css, fonts = stylesheet()
    return parse_html(render_html(report)).render(stylesheets=[css], font_config=fonts)


def _overflowing(box, right=None):
    """Text that runs past the right edge of the block or cell holding it, and by how much."""
    box = getattr(box, "_box", box)  # an absolutely positioned box sits in a placeholder
    if isinstance(box, boxes.BlockContainerBox):
        right = box.padding_box_x() + box.padding_width()
    if isinstance(box, boxes.TextBox) and box.position_x + box.width > right + 0.5:
        yield box.text, round(box.position_x + box.width - right, 1)
    for child in getattr(box, "children", ()):
        yield from _overflowing(child, right)


def _margin_lines(page, at_keyword: str) -> list[str]:
    """The lines of one margin box of a laid-out page (its running header or footer), if it has one."""
    return ["".join(t.text for t in line.descendants() if isinstance(t, boxes.TextBox))
            for margin in page._page_box.children if getattr(margin, "at_keyword", None) == at_keyword
            for line in margin.children]


LONG_NAME = ("Bundesanstalt für Informationssicherheitsdienstleistungen und Digitalverwaltungsmodernisierung "
             "der Länder Nordrhein-Westfalen, Rheinland-Pfalz und Saarland (Gemeinsame Geschäftsstelle)")


@pytest.fixture(scope="module")
def unsure_report(rubric, peers):
    """Every third answer don't know, every third not applicable, a dimension all not applicable,
    another left unanswered."""
    answers = load_answers(EXAMPLES / "mid-enterprise.yaml", rubric)
    values = {}
    for i, (qid, answer) in enumerate(answers.answers.items()):
        dimension = rubric.dimension_id[qid]
        if dimension == "governance":
            continue
        value = ("not_applicable" if dimension == "talent" or i % 3 == 1
                 else "dont_know" if i % 3 == 0 else answer.value)
        values[qid] = Answer(value)
    return _report(rubric, peers, replace(answers, answers=values, organization="Unsure Municipality"))


@pytest.fixture(scope="module")
def unsure_text(unsure_report):
    return _squash(_text(render_pdf(unsure_report))[1])


def test_scores_are_written_with_one_decimal_everywhere_as_on_the_command_line(mid_pdf):
    reader, text = _text(mid_pdf[1])
    flat = _squash(text)
    assert "index of 45.3 out of 100" in flat and "Score 55.0 / 100" in flat and "Score 40.0 / 100" in flat
    scorecard = _squash(reader.pages[3].extract_text())
    chart = scorecard[scorecard.index("Governance and stakeholders 50 100"):]  # the charts' text comes last
    # The bars' values as in the table (51.8, not 52), and the table's 55 as 55.0.
    assert all(f" {value} " in chart for value in ("51.8", "55.0", "21.2")) and " 52 " not in chart
    assert "Data sovereignty 55.0 6/6 50.0 51.1" in scorecard


def test_a_priority_is_written_exactly_not_rounded_to_one_decimal(mid_pdf):
    report, _ = mid_pdf
    gaps = tuple(gap._replace(priority=priority) for gap, priority in zip(report.result.gaps, (6.75, 2.25), strict=False))
    result = replace(report.result, gaps=gaps + report.result.gaps[2:])
    flat = _squash(re.sub("<[^>]+>", " ", render_html(replace(report, result=result))))
    assert "priority 6.75" in flat and "priority 2.25" in flat  # as `sovready score` writes them
    assert "6.8" not in flat and "2.2 " not in flat


def test_a_gaps_horizon_is_not_put_in_brackets_within_brackets(mid_pdf):
    flat = _squash(_text(mid_pdf[1])[1])
    assert "(next, 3 to 12 months)" in flat and "(now, within 3 months)" in flat
    assert "(next (" not in flat and "(now (" not in flat


@pytest.mark.parametrize(("name", "strengths", "gaps"), [
    ("early-public-agency", "Strengths No practice reaches level 3 yet.", "Five most urgent gaps"),
    ("advanced-research-lab", "Three strengths", "One remaining gap"),
])
def test_the_summarys_headings_count_what_they_list(rubric, peers, name, strengths, gaps):
    answers = load_answers(EXAMPLES / f"{name}.yaml", rubric)
    flat = _squash(_text(render_pdf(_report(rubric, peers, answers)))[1])
    assert strengths in flat and gaps in flat
    assert "Three strengths No practice" not in flat and "Five most urgent gaps Gap Level Priority Next step Cross" not in flat


def test_no_text_runs_past_its_cell_or_the_margin(rubric, peers, weasyprint_warnings):
    # The scorecard's overall percentile, in bold, ran past the table; a long name off the cover.
    answers = load_answers(EXAMPLES / "advanced-research-lab.yaml", rubric)
    for report in (_report(rubric, peers, answers), _report(rubric, peers, replace(answers, organization=LONG_NAME))):
        overflowing = [(number, text) for number, page in enumerate(_layout(report).pages, 1)
                       for text in _overflowing(page._page_box)]
        assert overflowing == []


def test_an_agency_name_without_spaces_stays_within_the_portfolio_pdfs_margins(rubric, weasyprint_warnings):
    # A name, a type (and so a filter) are up to 200 characters (portfolios.NAME_MAX): a name
    # without a space ran off the page in its scorecard line.
    name = "MinistryOfDigitalAffairs" * 8 + "X" * 8
    scores = {d.id: 50.0 for d in rubric.dimensions}
    row = {"id": 1, "name": name, "type": name, "size": "", "overall": 50.0, "dimensions": scores, "finished": True}
    summary = summarize([row], [], list(scores), [], [])
    portfolio = {"name": "National AI office", "rubric_id": rubric.id, "rubric_version": rubric.version, "peers": None}
    html = portfolio_report.render_html(portfolio=portfolio, round_name="2026", rubric=rubric, summary=summary,
                                        reference={}, peers=None, sources=(), filters={"type": name}, round_agencies=2,
                                        deleted_after_closing=0)
    css, fonts = stylesheet()
    pages = parse_html(html).render(stylesheets=[css], font_config=fonts).pages
    assert [text for page in pages for text in _overflowing(page._page_box)] == []


def test_a_long_name_keeps_the_running_header_short_and_the_scorecard_on_one_page(rubric, peers):
    answers = load_answers(EXAMPLES / "mid-enterprise.yaml", rubric)
    pages = _layout(_report(rubric, peers, replace(answers, organization=LONG_NAME))).pages
    headers = [_margin_lines(page, "@top-left") for page in pages[1:]]
    assert all(len(lines) <= 2 for lines in headers), max(headers, key=len)
    assert headers[0][0].startswith("Bundesanstalt für") and "…" in "".join(headers[0])
    chapters = [_margin_lines(page, "@top-right") for page in pages]
    assert chapters[1] == ["Contents"] and chapters.count(["Scorecard"]) == 1
    flat = _squash(_text(render_pdf(_report(rubric, peers, replace(answers, organization=LONG_NAME))))[1])
    assert "Importance to the organization" in flat  # a column head, not the name over six lines


def test_the_summary_counts_dont_know_and_not_applicable_answers(unsure_report, unsure_text):
    result = unsure_report.result
    assert len(result.evidence_gaps) == 12 and len(result.unanswered) == 6
    assert ("12 answers are “don't know”: scored as level 0 and listed as evidence gaps. 18 questions are not "
            "applicable and left out of the scores. 6 of 48 questions are unanswered and not scored.") in unsure_text


def test_an_unscored_dimension_says_so_and_why(unsure_text):
    assert "n/a / 100" not in unsure_text
    assert "Talent and capability Not scored · 6 of 6 answered, 6 not applicable" in unsure_text
    assert "Governance and stakeholders Not scored · 0 of 6 answered" in unsure_text
    assert "Data sovereignty Score 20.0 / 100 · 6 of 6 answered, 2 not applicable" in unsure_text


def test_the_scorecard_says_none_answered_where_the_survey_has_a_figure(unsure_report, unsure_text):
    peers = unsure_report.result.peers
    # Data and Governance have linked figures (a median peer) but none answered; Talent has none.
    assert peers.reference["data"] is not None and peers.dimensions["data"].value is None
    assert "Data sovereignty 20.0 6/6 n/a 51.1 none answered" in unsure_text
    assert "Governance and stakeholders n/a 0/6 n/a 42.3 none answered" in unsure_text
    assert "Talent and capability n/a 6/6 n/a n/a no survey figure" in unsure_text


def test_without_peers_no_table_has_an_empty_survey_column(rubric):
    answers = load_answers(EXAMPLES / "mid-enterprise.yaml", rubric)
    reader, text = _text(render_pdf(_report(rubric, None, answers)))
    flat = _squash(text)
    assert "Survey respondents citing it" not in flat and "What the survey measured" not in flat
    assert "Data control Critical National security" in flat
    assert "survey" not in reader.metadata.subject


# Page layout as a reader sees it before the report goes to a board: no page left near empty in
# the middle of a chapter, no heading or table header at the foot of a page, no table row cut in
# two, nothing below the bottom margin. Checked on the examples, a workshop and long notes.

NEAR_EMPTY = 0.25  # of the content area's height
HEADINGS = {"h1", "h2", "h3", "caption", "thead"}


def _content(box, holders=()):
    """The lines, table rows and images of a laid-out box in reading order, each with its holders."""
    box = getattr(box, "_box", box)
    if isinstance(box, (boxes.LineBox, boxes.TableRowBox, boxes.ReplacedBox)):
        yield box, holders
        return
    for child in getattr(box, "children", ()):
        yield from _content(child, (*holders, box))


def _names(holders) -> set[str]:
    """The tags and classes of the elements holding a line or row ("h2", "question", "thead")."""
    return {name for box in holders if box.element is not None
            for name in (box.element_tag, *(box.element.get("class") or "").split())}


def _page_content(page) -> list:
    page_box = page._page_box
    return [item for child in page_box.children if not isinstance(child, boxes.MarginBox)
            for item in _content(child)]


def _fill(page) -> float:
    """How much of the page's content area is used, from its top to the bottom of its last box."""
    page_box = page._page_box
    bottom = max(box.position_y + box.margin_height() for box, _ in _page_content(page))
    return (bottom - page_box.content_box_y()) / page_box.height


def _workshop(rubric):
    """Seven participants on every question, the first five agreed: the heatmap's 48 rows."""
    spreads = tuple(spread_of(qid, [str(i % 5), str(i * 3 % 5), "2", "1", "3", "2", "0"])
                    for i, qid in enumerate(rubric.questions))
    spreads = tuple(sorted(spreads, key=lambda s: -s.spread))
    consensus = {s.question_id: (2, "Agreed after discussing the evidence and the budget") for s in spreads[:5]}
    return WorkshopSummary(7, spreads, consensus)


def _long_notes(answers):
    note = "The evidence is in the register and reviewed quarterly by the risk committee. " * 4
    return replace(answers, answers={qid: replace(a, note=note) for qid, a in answers.answers.items()})


def _one_long_note(answers):
    """A note that brings the governance dimension's opening to the foot of a page."""
    mandate = answers.answers["strategy.mandate"]
    return replace(answers, answers={**answers.answers, "strategy.mandate": replace(mandate, note="word " * 144)})


LAYOUTS = ["early-public-agency", "mid-enterprise", "advanced-research-lab", "workshop", "long notes"]


@pytest.fixture(scope="module", params=LAYOUTS)
def laid_out(request, rubric, peers):
    name = request.param
    answers = load_answers(EXAMPLES / f"{name if name in LAYOUTS[:3] else 'mid-enterprise'}.yaml", rubric)
    if name == "long notes":
        answers = _long_notes(answers)
    report = _report(rubric, peers, answers)
    if name == "workshop":
        report = replace(report, workshop=_workshop(rubric))
    return _layout(report).pages


def test_no_page_is_left_near_empty_but_the_last(laid_out):
    # A dimension's last question had a page of its own, and the workshop's heading and
    # introduction one before its heatmap; a short chapter took a page of its own (the research
    # lab's two mitigations filled a fifth of one).
    near_empty = [(number, f"{_fill(page):.0%}") for number, page in enumerate(laid_out[:-1], 1)
                  if _fill(page) < NEAR_EMPTY]
    assert near_empty == []


def _opens_a_dimension(holders) -> bool:
    """A line of a dimension's score or description, between its heading and its first question."""
    return holders[-1].element_tag == "p" and "dimension" in _names(holders[-2:-1])


def _ending_on_a_heading(pages) -> list:
    return [(number, sorted(_names(holders) & HEADINGS) or "a dimension's opening")
            for number, page in enumerate(pages, 1) for _, holders in _page_content(page)[-1:]
            if _names(holders) & HEADINGS or _opens_a_dimension(holders)]


def test_no_page_ends_on_a_heading_or_a_tables_header(laid_out):
    assert _ending_on_a_heading(laid_out) == []


def test_a_dimensions_opening_at_the_foot_of_a_page_goes_over_with_its_first_question(rubric, peers):
    # Its description was cut after two lines, its first question on the next page.
    answers = _one_long_note(load_answers(EXAMPLES / "mid-enterprise.yaml", rubric))
    assert _ending_on_a_heading(_layout(_report(rubric, peers, answers)).pages) == []


# How far apart a chapter that runs on is set from the one before it (report.css).
RUN_ON_GAP = 20 * 96 / 72


def _opening_height(page) -> float:
    """The height a page's opening chapter needs before it may break: its heading down to the end
    of its first table or list item, which keep their heading with them."""
    for _, holders in _page_content(page):
        unit = next((holder for holder in holders if holder.element_tag in ("table", "li")), None)
        if unit is not None:
            return unit.position_y + unit.margin_height() - page._page_box.content_box_y()
    raise AssertionError("no table or list item on the page")


def _short_before_running_on(pages, chapters=("Drivers and barriers", "Roadmap")) -> list:
    """Pages left short although the chapter that runs on after them would have fitted its opening."""
    short = []
    for number, (before, page) in enumerate(zip(pages, pages[1:], strict=False), 2):
        first, holders = _page_content(page)[0]
        if "h1" in _names(holders) and _line_text(first) in chapters:
            room = page._page_box.height * (1 - _fill(before)) - RUN_ON_GAP
            if _opening_height(page) < room:
                short.append((number - 1, f"{_fill(before):.0%}", _line_text(first)))
    return short


def _note_on(answers, question_id: str, words: int):
    return replace(answers, answers={**answers.answers, question_id: replace(answers.answers[question_id], note="word " * words)})


def test_the_last_dimension_does_not_end_a_short_page_before_the_drivers_and_barriers(laid_out):
    # Kept whole, the drivers and barriers did not fit after the early agency's last dimension and
    # left it on a page 58% filled; the roadmap then started a page after a page half filled.
    assert _short_before_running_on(laid_out) == []


@pytest.mark.parametrize(("name", "question_id", "words"), [
    ("early-public-agency", "governance.suppliers", 60), ("mid-enterprise", "governance.suppliers", 120),
    ("mid-enterprise", "collaboration.standards", 90), ("advanced-research-lab", "governance.localization", 180),
])
def test_wherever_the_last_dimension_ends_the_drivers_and_roadmap_run_on_after_it(rubric, peers, name, question_id, words):
    # A note in the last dimensions moves its end down the page: each of these left a page half
    # filled before the drivers and barriers, and another before the roadmap.
    answers = _note_on(load_answers(EXAMPLES / f"{name}.yaml", rubric), question_id, words)
    pages = _layout(_report(rubric, peers, answers)).pages
    assert _short_before_running_on(pages) == []
    assert [number for number, page in enumerate(pages[:-1], 1) if _fill(page) < NEAR_EMPTY] == []


def _workshop_of(rubric, disputed: int):
    """Two participants, ``disputed`` questions two levels apart and agreed with a long rationale."""
    spreads = tuple(spread_of(qid, ["0", "2"] if i < disputed else ["2", "3"]) for i, qid in enumerate(rubric.questions))
    rationale = "Agreed after a long discussion of the evidence, the budget and the risks. " * 3
    return WorkshopSummary(2, spreads, {s.question_id: (2, rationale) for s in spreads[:disputed]})


@pytest.mark.parametrize("disputed", [0, 1, 5])
def test_the_most_disputed_questions_are_not_left_alone_on_a_page(rubric, peers, disputed):
    # Below the heatmap, the most disputed questions (or the sentence saying there were none) were
    # left alone on the next page, a third of it filled or less.
    answers = load_answers(EXAMPLES / "mid-enterprise.yaml", rubric)
    pages = _layout(replace(_report(rubric, peers, answers), workshop=_workshop_of(rubric, disputed))).pages
    headings = {_line_text(line): number for number, page in enumerate(pages, 1)
                for line, holders in _page_content(page) if _names(holders) & {"h1", "h2"}}
    assert headings["Most disputed questions"] == headings["Workshop"]
    workshop = [page for number, page in enumerate(pages, 1) if headings["Workshop"] <= number <= headings["Answers per level and question"]]
    assert [f"{_fill(page):.0%}" for page in workshop if _fill(page) < NEAR_EMPTY] == []
    assert _ending_on_a_heading(workshop) == []


def _cut_across_pages(pages, unit) -> list:
    """The elements that ``unit(box, holders)`` names (or None) found on more than one page."""
    pages_of = {}
    for number, page in enumerate(pages, 1):
        for box, holders in _page_content(page):
            element = unit(box, holders)
            if element is not None:
                pages_of.setdefault(element, set()).add(number)
    return [sorted(numbers) for numbers in pages_of.values() if len(numbers) > 1]


def _body_row(box, holders):
    # Header rows are repeated on each page a table runs onto; a row of the body is on one page only.
    is_body_row = isinstance(box, boxes.TableRowBox) and not _names(holders) & {"thead", "tfoot"}
    return box.element if is_body_row else None


def _appendix_list(box, holders):
    return next((holder.element for holder in holders if "appendix" in _names([holder])), None)


def test_no_table_row_is_cut_across_pages(laid_out):
    assert _cut_across_pages(laid_out, _body_row) == []


def test_no_dimensions_answers_in_the_appendix_are_split_across_pages(laid_out):
    # Two of a dimension's six answers were left at the foot of a page, the other four overleaf.
    assert _cut_across_pages(laid_out, _appendix_list) == []


def test_nothing_runs_past_the_bottom_margin(laid_out):
    # The workshop's heatmap, as wide as the page, ran into the footer.
    assert [(number, f"{_fill(page):.0%}") for number, page in enumerate(laid_out, 1) if _fill(page) > 1.001] == []


def _line_text(line) -> str:
    return "".join(t.text for t in line.descendants() if isinstance(t, boxes.TextBox))


def test_the_running_header_names_the_chapter_the_page_opens_with(laid_out):
    # With the dimensions running on, a page opening on one dimension's last questions named the
    # dimension that started lower down.
    expected, wrong = None, []
    for number, page in enumerate(laid_out, 1):
        chapters = [(index, _line_text(line)) for index, (line, holders) in enumerate(_page_content(page))
                    if _names(holders) & {"h1", "toc-title"}]
        if chapters and chapters[0][0] == 0:
            expected = chapters[0][1]
        header = _margin_lines(page, "@top-right")  # the cover and the contents have none
        if header and header != [expected]:
            wrong.append((number, header, expected))
        expected = chapters[-1][1] if chapters else expected
    assert wrong == []


def _portfolio_pdf(rubric, count: int) -> tuple[PdfReader, str]:
    """The PDF of ``count`` finished agencies, of two types and three sizes, scored 0 to 99 alike on every dimension."""
    rows = [{"id": n, "name": f"Agency {n:03d}", "type": ("ministry", "regulator")[n % 2],
             "size": ("small", "medium", "large")[n % 3], "overall": float(n % 100), "finished": True,
             "dimensions": {d.id: float(n % 100) for d in rubric.dimensions}} for n in range(count)]
    summary = summarize(rows, [], [d.id for d in rubric.dimensions], [], [])
    portfolio = {"name": "National AI office", "rubric_id": rubric.id, "rubric_version": rubric.version, "peers": None}
    return _text(portfolio_report.render_pdf(portfolio, "2026", rubric, summary, {}))


def test_a_portfolio_of_a_few_agencies_has_a_heatmap_row_for_each(rubric, weasyprint_warnings):
    _, text = _portfolio_pdf(rubric, portfolio_report.HEATMAP_AGENCIES)
    heatmaps = text.split("Scorecards")[0]  # the heatmap's labels are text in the PDF
    assert "1. Agency 071" in heatmaps and "37. Agency 035" in heatmaps and "72. Agency 000" in heatmaps
    assert "type ministry" not in text


def test_a_large_portfolios_heatmap_is_of_its_agency_types_and_sizes_not_pages_of_rows(rubric, weasyprint_warnings):
    """At 1,000 agencies the heatmap took 28 pages and half of a render that came near the worker's 30 s."""
    reader, text = _portfolio_pdf(rubric, portfolio_report.HEATMAP_AGENCIES + 1)
    assert "agencies ranked" not in text and "73. Agency" not in text.split("Scorecards")[0]
    for group in ("type ministry (37)", "type regulator (36)", "size small (25)", "size medium (24)", "size large (24)"):
        assert group in text
    heatmap = [n for n, page in enumerate(reader.pages) if "Heatmap of agencies" in page.extract_text()]
    assert len(heatmap) == 1 and "1. Agency 072: 72.0" in text and "73. Agency 000: 0.0" in text  # every agency still has its scorecard line


def _cells(pages):
    """The table cells laid out on the pages, each with the lines of its text and its row's holders."""
    for page in pages:
        for row, holders in _page_content(page):
            if isinstance(row, boxes.TableRowBox):
                for cell in row.children:
                    yield cell, [line for line in cell.descendants() if isinstance(line, boxes.LineBox)], holders


def _cell_lines(pages, cell_class: str):
    """Each line of the table cells of a class, with the right edge of its text and of its cell."""
    for cell, lines, _ in _cells(pages):
        for line in lines if cell_class in _names([cell]) else ():
            text = [t for t in line.descendants() if isinstance(t, boxes.TextBox)]
            yield _line_text(line), max(t.position_x + t.width for t in text), cell.content_box_x() + cell.width


def test_figures_in_tables_are_right_aligned_under_their_heads(laid_out):
    # Scores, counts and priorities were left-aligned: 5.9 beside 48.3 put the tenths out of line.
    lines = list(_cell_lines(laid_out, "num"))
    assert {"Score", "Priority", "Answered"} <= {text for text, _, _ in lines}
    assert [(text, round(right - end, 1)) for text, end, right in lines if abs(right - end) > 0.5] == []


def test_a_tables_head_does_not_break_before_a_lone_figure(laid_out):
    # The workshop's "Answers 0 to 4" broke as "Answers 0 to" over a lone "4".
    heads = [_line_text(line) for _, lines, holders in _cells(laid_out) if "thead" in _names(holders) for line in lines]
    assert "Priority" in heads and [text for text in heads if text.strip().isdigit()] == []


def test_the_appendix_does_not_print_the_evidence_notes_again(rubric, peers):
    # The dimensions' chapters print each note; the appendix printed every one a second time.
    answers = _long_notes(load_answers(EXAMPLES / "mid-enterprise.yaml", rubric))
    html = render_html(_report(rubric, peers, answers))
    note = "The evidence is in the register and reviewed quarterly by the risk committee."
    assert html.count(note) == 4 * len(answers.answers)  # four times in each answer's one note
    assert "(self-assessed; evidence note in its chapter)" in html


def _portfolio_pages(rubric, peers, agencies: int, long_name: str = "Agency"):
    """A first round of the portfolio PDF with this many finished agencies, laid out; the last
    agency is named ``long_name``."""
    rows = [{"id": i, "name": f"Agency {i:04d}" if i < agencies - 1 else long_name, "type": "agency", "size": "", "overall": 50.0 + i % 7,
             "dimensions": {d.id: 40.0 + (i * 7 + n * 11) % 50 for n, d in enumerate(rubric.dimensions)},
             "finished": True} for i in range(agencies)]
    summary = summarize(rows, [], [d.id for d in rubric.dimensions], [], [])
    portfolio = {"name": "National AI office", "rubric_id": rubric.id, "rubric_version": rubric.version,
                 "peers": peers.id}
    html = portfolio_report.render_html(portfolio=portfolio, round_name="2026", rubric=rubric, summary=summary,
                                        reference=portfolio_report.peer_reference(rubric), peers=peers, sources=(),
                                        filters={}, round_agencies=agencies, deleted_after_closing=0)
    css, fonts = stylesheet()
    return parse_html(html).render(stylesheets=[css], font_config=fonts).pages


def test_the_portfolio_pdfs_running_header_names_the_portfolio(rubric, peers, weasyprint_warnings):
    # It began with a lone " · ": the portfolio's cover set no name for it.
    pages = _portfolio_pages(rubric, peers, 12)
    assert {" ".join(_margin_lines(page, "@top-left")) for page in pages[1:]} == {"National AI office · Sovereign AI readiness"}
    figures = list(_cell_lines(pages, "num"))
    assert "Median" in {text for text, _, _ in figures}
    assert [text for text, end, right in figures if abs(right - end) > 0.5] == []


def test_a_first_rounds_scorecard_lines_say_no_change_and_hang_where_they_wrap(rubric, peers):
    # "· change –" on every line, with no previous round to change from, took a line of its own;
    # a wrapped line began at the rank's edge, and could part a dimension from its figure.
    pages = _portfolio_pages(rubric, peers, 12, long_name="Ministry of Digital Affairs and Public Administration Reform")
    lines = [(_line_text(line), min(t.position_x for t in line.descendants() if isinstance(t, boxes.TextBox)))
             for page in pages for line, holders in _page_content(page) if "scorecard-line" in _names(holders)]
    starts = [x for text, x in lines if re.match(r"\d+\. (Agency|Ministry)", text)]
    wrapped = [(text, x) for text, x in lines if not re.match(r"\d+\. (Agency|Ministry)", text)]
    assert len(starts) == 12 and not any("change" in text for text, _ in lines)
    assert len(wrapped) == 1 and all(x > max(starts) + 10 and re.match(r"\w+\xa0\d+", text) for text, x in wrapped)


def test_the_running_header_and_footer_line_up_with_the_text(laid_out):
    # The body's user-agent margin set the text 6 pt inside the header's left and the footer's right edge.
    misaligned = []
    for number, page in enumerate(laid_out[1:], 2):
        body = page._page_box.children[0].children[0]
        header, footer = ([t for margin in page._page_box.children if getattr(margin, "at_keyword", None) == keyword
                           for t in margin.descendants() if isinstance(t, boxes.TextBox)]
                          for keyword in ("@top-left", "@bottom-right"))
        left, right = body.content_box_x(), body.content_box_x() + body.width
        if abs(header[0].position_x - left) > 0.5 or abs(footer[-1].position_x + footer[-1].width - right) > 0.5:
            misaligned.append(number)
    assert misaligned == []


def test_no_text_asks_for_a_face_the_bundled_fonts_lack(laid_out):
    # The questions were set in italic, which DejaVu Sans as bundled does not have: they printed
    # upright, like the answers beneath them.
    styles = {(t.style["font_style"], t.text) for page in laid_out for line, _ in _page_content(page)
              for t in line.descendants() if isinstance(t, boxes.TextBox) and t.style["font_style"] != "normal"}
    assert styles == set()


def test_the_survey_lines_do_not_repeat_that_a_figure_is_not_regional(mid_pdf):
    # "No figure for Europe: compared with all respondents." closed 13 of the 15 survey lines; the
    # scorecard says once which figures are regional, and a regional line names the region.
    flat = _squash(_text(mid_pdf[1])[1])
    assert "No figure for Europe" not in flat and "Respondents in Europe: regional figures for 2 of 15" in flat
    assert "of respondents in Europe who see sovereign AI as valuable" in flat


def test_the_scorecards_legend_keys_each_mark_in_its_charts_colour(laid_out):
    # The legend named "Blue" and "Brown marks" in grey text only, for a dot and two shapes of mark.
    keys = {t.text.strip(): t.style["color"] for page in laid_out for line, holders in _page_content(page)
            if "note" in _names(holders) for t in line.descendants()
            if isinstance(t, boxes.TextBox) and t.text.strip() in {"■", "◇ ▎"}}
    blue, brown = (tuple(round(c * 255) for c in colour[:3]) for colour in (keys["■"], keys["◇ ▎"]))
    assert (blue, brown) == ((0x05, 0x50, 0xAE), (0x6E, 0x4C, 0x00))  # the radar's and the bars' fills and strokes


def test_the_portfolios_heatmap_leaves_no_page_near_empty(rubric, peers, weasyprint_warnings):
    # 37 agencies made a chart of 36 and one of a single agency, alone on a page a fifth filled.
    pages = [page for page in _portfolio_pages(rubric, peers, 37)
             if any(holder.element is not None and holder.element.get("id") == "heatmap"
                    for _, holders in _page_content(page) for holder in holders)]
    assert pages and [f"{_fill(page):.0%}" for page in pages if _fill(page) < NEAR_EMPTY] == []


# Long agency names as a national portfolio has them: accented, Greek, Cyrillic, some in capitals.
LONG_NAMES = ("Ministère de l’Économie, des Finances et de la Souveraineté industrielle et numérique",
              "Wojewódzki Urząd Ochrony Danych Osobowych i Cyfryzacji w Łodzi",
              "Υπουργείο Ψηφιακής Διακυβέρνησης και Τεχνητής Νοημοσύνης",
              "МИНИСТЕРСТВО ЦИФРОВОГО РАЗВИТИЯ, СВЯЗИ И МАССОВЫХ КОММУНИКАЦИЙ",
              "Bundesamt für Sicherheit in der Informationstechnik – Außenstelle Süd")


def _portfolio_heatmap_labels(svg, advance):
    """The agency labels of a laid-out portfolio heatmap: (text, its left and right edge, in the chart's units)."""
    for text in svg.iter(f"{SVG}text"):
        if text.get("text-anchor") == "end":
            right = float(text.get("x"))
            yield text.text, right - sum(map(advance, text.text)) * float(text.get("font-size")), right


def test_a_portfolio_of_60_agencies_with_long_names_prints_every_heatmap_label_whole_and_legible(rubric, peers,
                                                                                                advance):
    rows = [{"id": i, "name": f"{LONG_NAMES[i % len(LONG_NAMES)]} {i:02d}", "type": "agency", "size": "",
             "overall": 40.0 + i % 50, "dimensions": {d.id: 40.0 + (i * 7 + n * 11) % 50 for n, d in
                                                      enumerate(rubric.dimensions)}, "finished": True}
            for i in range(60)]
    summary = summarize(rows, [], [d.id for d in rubric.dimensions], [], [])
    portfolio = {"name": "National AI office", "rubric_id": rubric.id, "rubric_version": rubric.version,
                 "peers": peers.id}
    html = portfolio_report.render_html(portfolio=portfolio, round_name="2026", rubric=rubric, summary=summary,
                                        reference=portfolio_report.peer_reference(rubric), peers=peers, sources=(),
                                        filters={}, round_agencies=60, deleted_after_closing=0)
    css, fonts = stylesheet()
    heatmaps = _heatmaps(parse_html(html).render(stylesheets=[css], font_config=fonts).pages)
    labels = []
    for svg, points, _, _ in heatmaps:
        left = float(svg.get("viewBox").split()[0])
        assert min(float(t.get("font-size")) for t in svg.iter(f"{SVG}text")) * points >= 6  # the heads, slanted, at 6.1 pt
        found = list(_portfolio_heatmap_labels(svg, advance))
        assert [text for text, start, _ in found if start < left] == []  # none runs out of the drawing's left edge
        labels += [text for text, _, _ in found]
    assert len(labels) == 60  # one row per agency, on pages of rows
    full = {f"{rank}. {row['name']}": row for rank, row in enumerate(summary.ranking, 1)}
    # Each label is its rank and name, or their beginning with an ellipsis (in full in the row's <title>).
    assert all(label in full or any(name.startswith(label[:-1]) for name in full) for label in labels)
    assert len({label.split(".")[0] for label in labels}) == 60  # the ranks tell apart names cut alike


def test_a_summary_gaps_row_is_no_taller_than_its_next_step(laid_out):
    # A table stake's survey figure in the narrow gap column made the row seven lines tall beside
    # a next step of three.
    rows = [row for page in laid_out for row, holders in _page_content(page)
            if isinstance(row, boxes.TableRowBox) and "gaps" in _names(holders) and "tbody" in _names(holders)]
    lines = [[len([b for b in cell.descendants() if isinstance(b, boxes.LineBox)]) for cell in row.children]
             for row in rows]
    assert lines and [counts for counts in lines if counts[0] > counts[-1]] == []


# The scorecard's charts as printed: the size of their text on the page, and where it is drawn, from
# the bundled font's own advance widths.

SVG = "{http://www.w3.org/2000/svg}"
ASCENT, DESCENT = 0.76, 0.24  # DejaVu Sans's capitals and descenders, in ems


@pytest.fixture(scope="module")
def advance():
    """The bundled font's advance width of a character, in ems."""
    font = TTFont(STATIC / "fonts" / "DejaVuSans.ttf")
    widths, cmap, em = font["hmtx"].metrics, font.getBestCmap(), font["head"].unitsPerEm
    return lambda char: widths[cmap[ord(char)]][0] / em


def _charts(pages):
    """The scorecard's laid-out SVG charts: (the svg element, points per unit of its viewBox)."""
    scorecard = next(page for page in pages if "Scorecard" in _margin_lines(page, "@top-right"))
    return [(box.element, box.width * 0.75 / float(box.element.get("viewBox").split()[2]))
            for line, _ in _page_content(scorecard) for box in line.descendants()
            if isinstance(box, boxes.ReplacedBox) and box.element_tag == f"{SVG}svg"]


def _text_boxes(svg, advance):
    """Each text element's font size and the boxes its lines take, in the chart's units."""
    for text in svg.iter(f"{SVG}text"):
        size = float(text.get("font-size"))
        lines = list(text.iter(f"{SVG}tspan")) or [text]
        x, y = float(text.get("x")), float(text.get("y"))
        if text.get("dominant-baseline") == "middle":
            y += 0.35 * size  # where WeasyPrint puts the baseline of middle-aligned text
        found = []
        for line in lines:
            y += float(line.get("dy", 0))
            width = sum(map(advance, line.text)) * size
            left = x - {"middle": width / 2, "end": width}.get(text.get("text-anchor"), 0)
            found.append((left, y - ASCENT * size, left + width, y + DESCENT * size))
        yield size, found


def _overlapping(boxes_of_texts):
    pairs = []
    for i, (_, first) in enumerate(boxes_of_texts):
        for _, second in boxes_of_texts[i + 1:]:
            pairs += [(a, b) for a in first for b in second
                      if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]
    return pairs


@pytest.mark.parametrize("organization", [None, LONG_NAME])
def test_the_scorecards_chart_labels_print_at_8_pt_or_more_inside_their_charts_without_overlapping(
        rubric, peers, advance, organization):
    # The radar's labels printed at 6.35 pt, its rings' at 4.5 pt, the bars' values at 6.5 pt and
    # their scale at 5.9 pt; long dimension titles must still clear each other.
    answers = load_answers(EXAMPLES / "mid-enterprise.yaml", rubric)
    if organization:
        answers = replace(answers, organization=organization)
    pages = _layout(_report(rubric, peers, answers)).pages
    charts = _charts(pages)
    assert [svg.get("class") for svg, _ in charts] == ["chart radar", "chart bars"]
    for svg, points in charts:
        texts = list(_text_boxes(svg, advance))
        left, top, width, height = map(float, svg.get("viewBox").split())
        assert min(size for size, _ in texts) * points >= 8
        outside = [box for _, found in texts for box in found
                   if box[0] < left or box[1] < top or box[2] > left + width or box[3] > top + height]
        assert outside == [] and _overlapping(texts) == []
    assert [_margin_lines(page, "@top-right") for page in pages].count(["Scorecard"]) == 1  # and on one page


def _workshop_of_size(rubric, participants: int):
    """``participants`` answering every question, spread over the levels, some of them Don't know."""
    spreads = tuple(spread_of(qid, [str(i * k % 5) if k % 9 else "dont_know" for k in range(1, participants + 1)])
                    for i, qid in enumerate(rubric.questions))
    return WorkshopSummary(participants, tuple(sorted(spreads, key=lambda s: -s.spread)), {})


def _heatmaps(pages):
    """The workshop heatmap's laid-out SVGs: (the svg element, points per unit of its viewBox, the page, its box)."""
    return [(box.element, box.width * 0.75 / float(box.element.get("viewBox").split()[2]), page, box)
            for page in pages for line, _ in _page_content(page) for box in line.descendants()
            if isinstance(box, boxes.ReplacedBox) and "heatmap" in (box.element.get("class") or "").split()]


def _eighty_questions(data):
    """Ten questions in each of the eight dimensions: the shipped six, and four copies of the first."""
    for dimension in data["dimensions"]:
        first = dimension["questions"][0]
        dimension["questions"] += [{**copy.deepcopy(first), "id": f"{first['id']}_{n}", "title": f"{first['title']} ({n})"}
                                   for n in range(2, 6)]


def test_a_workshop_on_80_questions_prints_its_heatmap_on_pages_of_legible_rows(peers, advance, write_rubric):
    """A custom rubric of more than 48 questions: one heatmap scaled to a page printed them at 4.8 pt."""
    rubric = load_rubric(write_rubric(_eighty_questions))
    assert len(rubric.questions) == 80
    answers = load_answers(EXAMPLES / "mid-enterprise.yaml", rubric)
    report = replace(_report(rubric, peers, answers), workshop=_workshop_of_size(rubric, 7))
    heatmaps = _heatmaps(_layout(report).pages)
    rows = []
    for svg, points, page, box in heatmaps:
        texts = list(_text_boxes(svg, advance))
        assert min(size for size, _ in texts) * points >= 7.5
        assert _overlapping(texts) == []
        content = page._page_box
        assert box.position_y + box.height <= content.content_box_y() + content.height + 0.5
        rows += [text.text for text in svg.iter(f"{SVG}text") if text.get("text-anchor") == "end"]
    assert len(rows) == 80 and len(heatmaps) == 2  # every question once, most divergent first, over two pages
    titles = [t.text for svg, *_ in heatmaps for t in svg.iter(f"{SVG}title")]
    assert "Answers per level and question, 1 to 40 of 80" in titles
    assert "Answers per level and question, 41 to 80 of 80" in titles
    ids = [element.get("id") for svg, *_ in heatmaps for element in svg.iter() if element.get("id")]
    assert len(ids) == len(set(ids))  # each chart's title and description its own


@pytest.mark.parametrize("participants", [3, 40])
def test_the_workshop_heatmaps_labels_print_at_7_5_pt_or_more_on_its_page_without_overlapping(
        rubric, peers, advance, participants):
    # Scaled down to fit the 48 questions' rows on a page, its labels printed at 5.8 pt.
    answers = load_answers(EXAMPLES / "mid-enterprise.yaml", rubric)
    report = replace(_report(rubric, peers, answers), workshop=_workshop_of_size(rubric, participants))
    heatmaps = _heatmaps(_layout(report).pages)
    assert len(heatmaps) == 1
    svg, points, page, box = heatmaps[0]
    texts = list(_text_boxes(svg, advance))
    left, top, width, height = map(float, svg.get("viewBox").split())
    assert len(texts) == 7 + 8 * len(rubric.questions)  # the heads, and each row's title and eight figures
    assert min(size for size, _ in texts) * points >= 7.5
    outside = [box for _, found in texts for box in found
               if box[0] < left or box[1] < top or box[2] > left + width or box[3] > top + height]
    assert outside == [] and _overlapping(texts) == []
    cut = [text.text for text in svg.iter(f"{SVG}text") if text.text.endswith("…")]
    assert cut == ["Cross-border partnerships under geopolitical c…"]  # in full in its <title>
    assert "Cross-border partnerships under geopolitical constraints" in [t.text for t in svg.iter(f"{SVG}title")]
    content = page._page_box
    assert content.content_box_y() <= box.position_y
    assert box.position_y + box.height <= content.content_box_y() + content.height + 0.5  # not into the footer
