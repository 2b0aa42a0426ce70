"""What a page's markup must hold for it to read well on a phone and by keyboard: wide tables scroll
in boxes of their own, and the long results page says what it holds at its top. (How wide pages
really are at 390 px is measured in Chromium: tests/browser.)"""

import io
import re
from itertools import pairwise

import pytest

from .conftest import text
from .test_portfolios import two_agencies  # noqa: F401 (a fixture)

SCROLL_BOX = re.compile(r'<div class="table-scroll" tabindex="0" role="region" aria-label="[^"]+">\s*<table\b')


def _tables_in_scroll_boxes(page: str) -> None:
    tables = len(re.findall(r"<table\b", page))
    assert tables and len(SCROLL_BOX.findall(page)) == tables


@pytest.mark.parametrize("path", ["/w/{workspace}", "/w/{workspace}/members", "/w/{workspace}/audit",
                                  "/a/{finished}/review", "/a/{finished}/results", "/admin/users",
                                  "/admin/rubrics"])
def test_every_table_scrolls_in_a_named_focusable_box(owner, people, finished, path):
    _tables_in_scroll_boxes(text(owner.get(path.format(workspace=people["workspace"], finished=finished))))


@pytest.mark.parametrize("path, data", [
    ("/a/{empty}/about", {"title": ""}),
    ("/w/{workspace}/import", {"file": (io.BytesIO(b"{not json"), "answers.json")}),
    ("/account", {"current": "", "password": "", "confirm": ""}),
    ("/w/new", {"name": ""}),
])
def test_a_refused_form_says_so_in_the_pages_title(owner, people, empty, path, data):
    """The title is the first thing a screen reader reads of a page: a refused form's page had the
    same title as the page before it was sent (WCAG 2.4.2, 3.3.1)."""
    path = path.format(workspace=people["workspace"], empty=empty)
    refused = text(owner.post(path, data=data, content_type="multipart/form-data"))
    assert re.search(r"<title>Error: [^<]+ · sovready</title>", refused), re.search(r"<title>.*</title>", refused)
    assert "<title>Error:" not in text(owner.get(path))


def test_the_portfolio_and_workshop_tables_too(owner, editor, portfolio, two_agencies, workshop):  # noqa: F811
    _tables_in_scroll_boxes(text(owner.get(f"/portfolios/{portfolio}")))
    _tables_in_scroll_boxes(text(owner.get(f"/portfolios/{portfolio}/agencies")))
    _tables_in_scroll_boxes(text(editor.get(f"/workshops/{workshop}")))


def test_results_list_their_sections_and_offer_the_exports_first(owner, finished):
    page = text(owner.get(f"/a/{finished}/results"))
    contents = re.search(r'<nav aria-labelledby="contents-title".*?</nav>', page, re.S).group(0)
    targets = re.findall(r'href="#([^"]+)"', contents)
    assert len(targets) >= 8 and all(f'id="{target}"' in page for target in targets)
    first_section = page.index('id="overall-title"')
    assert page.index("Answers (JSON)") < first_section and page.index("PDF report") < first_section
    assert page.index('id="contents-title"') < first_section
    levels = [int(level) for level in re.findall(r"<h([1-6])\b", page[page.index("<main"):])]
    assert levels[0] == 1 and levels.count(1) == 1 and all(b - a <= 1 for a, b in pairwise(levels))
