"""Every page an IT leader can reach, in each of its states, checked in Chromium for what WCAG 2.1 AA
asks: axe-core's WCAG 2.1 A and AA rules, and the checks axe cannot make (reflow, text spacing,
zoom, visible focus, keyboard-only use, status messages, the charts' contrast and text)."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = pytest.mark.browser
PASSWORD = "a long browser test password"  # noqa: S105 (a test account's)
WCAG21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
# WCAG 1.4.12: the spacing a reader's own style sheet may set, which must lose no content.
TEXT_SPACING = ("* { line-height: 1.5 !important; letter-spacing: 0.12em !important;"
                " word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }")


@pytest.fixture(scope="module")
def site(browser, server, instance):
    """An administrator's workspace with a finished assessment and its second round, an unfinished
    one, an editor who joined by invitation and a used invitation: the addresses of their pages."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{server}/setup")
    page.get_by_label("Setup code").fill((instance / "setup_code").read_text())
    _account(page, "Ada Admin", "ada@example.org")
    page.get_by_label("Organization or workspace name").fill("Ministry of Examples")
    page.get_by_role("button", name="Create the administrator").click()
    page.get_by_role("heading", name="Ministry of Examples").wait_for()
    workspace = page.url
    finished = _new_assessment(page, workspace, "Finished review")
    _answer_all(page, finished)  # at level 3: the survey peers' ticks cross its bars
    page.goto(f"{finished}/results")
    page.get_by_role("button", name="Start a new round from these answers").click()
    second = page.url.removesuffix("/about")
    unfinished = _new_assessment(page, workspace, "Unfinished review")
    page.goto(f"{workspace}/members")
    page.get_by_role("button", name="Create invitation link").click()
    invitation = page.locator("#invite-link").input_value()
    owner = context.storage_state()
    other = browser.new_context()
    joining = other.new_page()
    joining.goto(invitation)
    _account(joining, "Eve Editor", "eve@example.org")
    joining.get_by_role("button", name="Create account and join").click()
    joining.get_by_role("heading", name="Ministry of Examples").wait_for()
    editor = other.storage_state()
    other.close()
    context.close()
    return {"server": server, "workspace": workspace, "finished": finished, "second": second,
            "unfinished": unfinished, "invitation": invitation, "owner": owner, "editor": editor}


def _account(page, name: str, email: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password (at least 12 characters)").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)


def _new_assessment(page, workspace: str, title: str) -> str:
    page.goto(f"{workspace}/assessments/new")
    page.get_by_label("Title").fill(title)
    page.get_by_role("button", name="Start").click()
    page.wait_for_url("**/about")
    return page.url.removesuffix("/about")


def _answer_all(page, assessment: str) -> None:
    page.goto(f"{assessment}/about")
    page.get_by_label("Region").select_option("europe")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("button", name="Save and continue").click()
    while "/dimensions/" in page.url:
        for radio in page.locator('input[type=radio][name$="-value"][value="3"]').all():
            radio.check()
        page.get_by_role("button", name="Save and continue").click()
        page.wait_for_load_state()


def _open(browser, site, who="owner", **options):
    context = browser.new_context(storage_state=site[who] if who else None, **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


# Each page as (its name, who sees it, how to reach it from the site's addresses, what to do there).
def _submit(label):
    return lambda page: page.get_by_role("button", name=label, exact=True).click()


def _too_long_note(page):
    page.locator("textarea").first.evaluate("t => { t.removeAttribute('maxlength'); t.value = 'x'.repeat(2001) }")
    page.get_by_role("button", name="Save", exact=True).click()


def _upload_too_large(page):
    """Sent as a browser without scripts would send it: the server refuses it unread (413)."""
    page.route("**/import", lambda route: route.continue_(
        method="POST", post_data=b"x" * (2 * 1024 * 1024),
        headers={**route.request.headers, "content-type": "multipart/form-data; boundary=x"}))
    page.reload()


def _wrong_passwords(page):
    for _ in range(11):  # ratelimit.FAILURE_LIMIT and one more
        page.get_by_label("Email address").fill("nobody@example.org")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()


PAGES = [
    ("log in refused", None, "{server}/login", _submit("Log in")),
    ("workspaces", "owner", "{server}/", None),
    ("new workspace refused", "owner", "{server}/w/new", _submit("Create workspace")),
    ("new assessment refused", "owner", "{workspace}/assessments/new", _submit("Start")),
    ("organization", "owner", "{unfinished}/about", None),
    ("organization refused", "owner", "{unfinished}/about",
     lambda page: (page.get_by_label("Title").fill(""), _submit("Save")(page))),
    ("drivers", "owner", "{unfinished}/drivers", None),
    ("dimension refused", "owner", "{unfinished}/dimensions/data", _too_long_note),
    ("dimension saved", "owner", "{unfinished}/dimensions/data", _submit("Save")),
    ("barriers", "owner", "{unfinished}/barriers", None),
    ("review, nothing answered", "owner", "{unfinished}/review", None),
    ("results, nothing scored", "owner", "{unfinished}/results", None),
    ("report, nothing scored", "owner", "{unfinished}/report", None),
    ("compare rounds", "owner", "{second}/compare", None),
    ("results of a later round", "owner", "{second}/results", None),
    ("delete an assessment", "owner", "{finished}/delete", None),
    ("import", "owner", "{workspace}/import", None),
    ("import refused", "owner", "{workspace}/import", _submit("Import")),
    ("members", "owner", "{workspace}/members", None),
    ("members, as an editor", "editor", "{workspace}/members", None),
    ("leave", "editor", "{workspace}/leave", None),
    ("delete the workspace refused", "owner", "{workspace}/delete", _submit("Delete Ministry of Examples")),
    ("audit log", "owner", "{workspace}/audit", None),
    ("account refused", "owner", "{server}/account", _submit("Change password")),
    ("rubric", "owner", "{server}/rubric", None),
    ("administration: rubrics", "owner", "{server}/admin/rubrics", None),
    ("administration: rubric refused", "owner", "{server}/admin/rubrics", _submit("Validate and add")),
    ("administration: accounts", "owner", "{server}/admin/users", None),
    ("administration: log", "owner", "{server}/admin/audit", None),
    ("results, as an editor", "editor", "{finished}/results", None),
    ("403", "editor", "{workspace}/delete", None),
    ("404", "owner", "{server}/a/no-such-assessment/results", None),
    ("410", None, "{invitation}", None),
    ("413", "owner", "{workspace}/import", _upload_too_large),
    ("429", None, "{server}/login", _wrong_passwords),  # last: it locks this address's log-ins out
]


def _reach(page, site, address: str, action) -> None:
    page.goto(address.format(**site))
    if action:
        action(page)
    page.wait_for_load_state("load")


# Pages to lay out narrow: an assessment's every kind of page, the workspace's, the account's and
# the administration's (the error pages share error.html with the 404).
LAID_OUT = ["{server}/", "{workspace}", "{workspace}/assessments/new", "{finished}/about", "{finished}/drivers",
            "{finished}/dimensions/strategy", "{finished}/barriers", "{finished}/review", "{finished}/results",
            "{finished}/report", "{finished}/delete", "{second}/compare", "{workspace}/members", "{workspace}/import",
            "{workspace}/audit", "{workspace}/delete", "{server}/account", "{server}/rubric", "{server}/admin/rubrics",
            "{server}/admin/users", "{server}/admin/audit", "{server}/a/no-such-assessment/results"]
CLIPPED = """() => [...document.querySelectorAll('body *')].filter(e => {
  const style = getComputedStyle(e), cut = ['hidden', 'clip'];
  return !e.closest('.visually-hidden') && (cut.includes(style.overflowX) && e.scrollWidth > e.clientWidth + 1
    || cut.includes(style.overflowY) && e.scrollHeight > e.clientHeight + 1);
}).map(e => e.outerHTML.slice(0, 80))"""


@pytest.mark.parametrize("width, height, spacing", [(320, 640, False), (320, 640, True), (640, 450, False)],
                         ids=["320 px", "320 px with text spacing", "1280 px at 200% zoom"])
def test_pages_reflow_without_scrolling_sideways_or_losing_text(browser, site, width, height, spacing):
    """WCAG 1.4.10 at 320 CSS px, 1.4.4 at 200% zoom (a 1280 x 900 window zoomed is 640 x 450 CSS px)
    and 1.4.12: the whole page never scrolls sideways (a wide table scrolls in its own box) and no
    text is cut off. At 320 px with wider letter spacing the import page's file field and the
    administration's rubric table (its id is one long word) were wider than the window."""
    context, page = _open(browser, site, viewport={"width": width, "height": height}, bypass_csp=spacing)
    try:
        for address in LAID_OUT:
            _reach(page, site, address, None)
            if spacing:
                page.add_style_tag(content=TEXT_SPACING)
            assert page.evaluate("getComputedStyle(document.body).marginTop") == "0px", "app.css is not applied"
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{address}: {wide} px wide in a {width} px window"
            assert page.evaluate(CLIPPED) == [], address
    finally:
        context.close()


def test_a_phones_radios_and_checkboxes_are_big_enough_to_tap(browser, site):
    """A 13 px radio button was the target on a phone; WCAG 2.5.8 asks 24 by 24 CSS px."""
    context, page = _open(browser, site, viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    try:
        for step in ("about", "drivers", "dimensions/strategy", "barriers"):
            _reach(page, site, f"{{finished}}/{step}", None)
            sizes = page.evaluate("[...document.querySelectorAll('main input[type=radio], main input[type=checkbox]')]"
                                  ".map(box => { const r = box.getBoundingClientRect(); return [r.width, r.height]; })")
            assert sizes and min(min(size) for size in sizes) >= 24, (step, min(sizes))
    finally:
        context.close()


CONTRAST = """(mark) => {
  const rgb = (value, opacity) => { const c = document.createElement('canvas').getContext('2d'); c.fillStyle = value;
    return [1, 3, 5].map(i => parseInt(c.fillStyle.slice(i, i + 2), 16) * opacity + 255 * (1 - opacity)); };
  const fill = e => rgb(getComputedStyle(e).fill, parseFloat(getComputedStyle(e).fillOpacity));  // over the white page
  const luminance = colour => colour.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => { [a, b] = [luminance(a), luminance(b)]; return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
  // Bars and dots are filled; lines, outlines and markers are strokes.
  const stroked = ['line', 'path', 'polygon'].includes(mark.tagName);
  const ink = stroked ? rgb(getComputedStyle(mark).stroke, 1) : fill(mark);
  // What it is drawn on: the filled shape under its middle (grid lines aside), else the white page.
  mark.scrollIntoView({block: 'center'});  // elementsFromPoint sees only the window
  const box = mark.getBoundingClientRect();
  const under = document.elementsFromPoint(box.x + box.width / 2, box.y + box.height / 2)
    .find(e => e !== mark && e.closest('svg') && e.tagName !== 'svg' && !e.closest('g[fill=none]') && e.getAttribute('stroke') !== '#d0d7de');
  const grounds = [under ? (under.tagName === 'line' ? rgb(getComputedStyle(under).stroke, 1) : fill(under)) : [255, 255, 255]];
  if (mark.tagName === 'path') grounds.push(fill(mark));  // a marker's outline also borders its own inside
  return grounds.map(ground => [ratio(ink, ground), mark.outerHTML.slice(0, 50), under ? under.outerHTML.slice(0, 50) : 'page']);
}"""


def test_the_charts_marks_stand_out_from_what_they_are_drawn_on(browser, site):
    """WCAG 1.4.11: bars, lines and markers at 3:1 against what lies under them. The survey peer's tick
    (#6e4c00) crossed the score's bar (#0550ae) at 1.0:1, so that it vanished wherever it met the bar."""
    context, page = _open(browser, site)
    try:
        _reach(page, site, "{finished}/results", None)
        marks = page.locator("svg.bars rect, svg.bars line.peer, svg.radar polygon.ours, svg.radar circle, svg.radar path.peer")
        assert marks.count() > 8 + 1 + 8 and page.locator("svg.bars line.peer").count() > 0
        assert "75.0" in page.locator(".index .number").inner_text()
        low = [found for mark in marks.all() for found in mark.evaluate(CONTRAST) if found[0] < 3]
        assert low == []
    finally:
        context.close()


def test_the_charts_have_text_alternatives_and_their_data_as_tables(browser, site):
    context, page = _open(browser, site)
    try:
        _reach(page, site, "{finished}/results", None)
        for title in ("Readiness by dimension", "Score per dimension"):
            chart = page.get_by_role("img", name=title)
            assert "the same figures" in chart.evaluate("svg => svg.querySelector('desc').textContent")
            assert chart.evaluate("svg => svg.getAttribute('aria-labelledby').split(' ').every(id => document.getElementById(id))")
        table = page.get_by_role("table", name=re.compile("^Score and completeness per dimension"))
        assert table.locator("tbody tr").count() == 8
    finally:
        context.close()


def test_the_charts_labels_are_big_enough_to_read(browser, site):
    """Side by side in the main column the charts were 420 px wide, their labels 6 to 8 px high."""
    context, page = _open(browser, site, viewport={"width": 1280, "height": 900})
    try:
        _reach(page, site, "{finished}/results", None)
        smallest = page.evaluate("""[...document.querySelectorAll('svg.chart')].map(svg => {
          const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
          return Math.min(...[...svg.querySelectorAll('text')].map(t => parseFloat(t.getAttribute('font-size')) * scale)); })""")
        assert len(smallest) == 2 and min(smallest) >= 9, smallest  # in CSS px; the rings' 50 and 100 are the smallest
    finally:
        context.close()


def test_a_members_role_and_its_change_button_share_a_row(browser, site):
    """The role's list took the cell's whole width and pushed its Change button onto a line of its own."""
    context, page = _open(browser, site, viewport={"width": 1280, "height": 900})
    try:
        _reach(page, site, "{workspace}/members", None)
        for row in page.locator("main tbody tr").all():
            role, change = row.locator("select").bounding_box(), row.get_by_role("button").bounding_box()
            assert change["x"] > role["x"] + role["width"] and change["y"] < role["y"] + role["height"]
    finally:
        context.close()


FOCUSED = """() => { const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
  return {what: e.outerHTML.slice(0, 60), outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
          top: r.top + scrollY, left: r.left, inView: r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth}; }"""


def _tab_through(page) -> list[dict]:
    """Every Tab stop of the page in order, from the top."""
    stops = []
    page.locator("body").focus()
    for _ in range(300):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUSED)
        if stop["what"].startswith("<body") or stops and stop == stops[0]:
            return stops
        stops.append(stop)
    raise AssertionError("the Tab order never ends")


@pytest.mark.parametrize("step", ["dimensions/strategy", "results"])
def test_focus_is_visible_everywhere_and_follows_the_page(browser, site, step):
    """WCAG 2.4.7 and 2.4.3: each Tab stop shows a focus outline and is scrolled into view; the stops
    run down the page (the steps beside the main column first), never back up within a column."""
    context, page = _open(browser, site)
    try:
        _reach(page, site, f"{{finished}}/{step}", None)
        stops = _tab_through(page)
        assert len(stops) > 20
        assert [s["what"] for s in stops if not (s["outline"] and s["inView"])] == []
        assert stops[0]["what"].startswith('<a href="#main" class="skip-link"')
        main = [s for s in stops if s["left"] > 300 and s["top"] > 120]  # the main column, past the header
        tops = [s["top"] for s in main]
        assert tops == sorted(tops) or all(b >= a - 5 for a, b in zip(tops, tops[1:], strict=False)), tops
    finally:
        context.close()


def test_an_assessment_is_completed_with_the_keyboard_alone(browser, site):
    """No mouse: Tab to each question, Space and the arrow keys to choose a level, Enter on a button.
    The saved message is a status (WCAG 4.1.3), and a refused page's error summary an alert that
    takes the focus."""
    context, page = _open(browser, site)
    try:
        page.goto(site["workspace"])
        _press_on(page, "New assessment")
        page.wait_for_url("**/assessments/new")
        _tab_to_field(page, "title")
        page.keyboard.type("By keyboard")
        page.keyboard.press("Enter")
        page.wait_for_url("**/about")
        _press_on(page, "Save", key="Space")
        page.wait_for_url("**/about#main")
        assert page.get_by_role("status").inner_text() == "Your answers are saved."
        _press_on(page, "Save and continue")
        page.wait_for_url("**/drivers")
        _press_on(page, "Save and continue")
        page.wait_for_url("**/dimensions/**")
        while "/dimensions/" in page.url:
            _choose_every_level_by_keyboard(page)
            with page.expect_navigation():
                _press_on(page, "Save and continue")
        _press_on(page, "Save and continue")
        page.wait_for_url("**/review")
        assert "Every question is answered." in page.content()
        _press_on(page, "Organization")
        page.wait_for_url("**/about")
        _tab_to_field(page, "title")  # empty it, and save
        page.keyboard.press("Control+A")
        page.keyboard.press("Delete")
        page.keyboard.press("Enter")
        page.get_by_role("alert").wait_for()
        page.wait_for_load_state("load")
        assert page.evaluate("document.activeElement.getAttribute('role')") == "alert"
    finally:
        context.close()


def _press_on(page, name: str, key: str = "Enter") -> None:
    """Tab from the top of the page to the link or button named ``name``, and press ``key``."""
    page.locator("body").focus()
    for _ in range(300):
        page.keyboard.press("Tab")
        if page.evaluate("(document.activeElement.innerText || '').trim()") == name:
            page.keyboard.press(key)
            return
    raise AssertionError(f"no Tab stop named {name}")


def _tab_to_field(page, field_id: str) -> None:
    page.locator("body").focus()
    for _ in range(100):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == field_id:
            return
    raise AssertionError(f"no Tab stop #{field_id}")


def _choose_every_level_by_keyboard(page) -> None:
    """Tab into each question's levels, Space to choose its first, the arrow keys down to level 2."""
    page.locator("body").focus()
    for _ in range(300):
        page.keyboard.press("Tab")
        name = page.evaluate("document.activeElement.name || ''")
        if name.endswith("-value"):
            page.keyboard.press("Space")
            page.keyboard.press("ArrowDown")
            page.keyboard.press("ArrowDown")
        elif page.evaluate("document.activeElement.innerText") == "Save and continue":
            break
    levels = page.evaluate("[...document.querySelectorAll('input[type=radio][name$=\"-value\"]:checked')].map(r => r.value)")
    assert levels == ["2"] * 6


@pytest.mark.parametrize("name, who, address, action", PAGES, ids=[p[0] for p in PAGES])
def test_every_page_passes_axe_wcag21_aa(browser, site, name, who, address, action):
    context, page = _open(browser, site, who)
    try:
        _reach(page, site, address, action)
        if name[:1].isdigit():  # the error page it is meant to check
            assert page.title().startswith(name) or name == "410" and "no longer valid" in page.title(), page.title()
        results = Axe().run(page, options=WCAG21_AA)
        found = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]]
        assert found == [], f"{name}: {found}"
    finally:
        context.close()
