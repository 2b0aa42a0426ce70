"""A whole journey in headless Chromium against the production server, with axe-core on each page."""

import json
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from pypdf import PdfReader

from assessment import accounts, storage

pytestmark = pytest.mark.browser
PASSWORD = "a long browser test password"  # noqa: S105 (a test account's)
PHONE = {"width": 390, "height": 844}


def _check_accessibility(page, what: str) -> None:
    """axe-core finds no serious or critical violation on the page."""
    results = Axe().run(page)
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
           for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{what}: {bad}"


def _set_up(page, server, instance) -> None:
    page.goto(server)
    assert page.url == f"{server}/setup"
    _check_accessibility(page, "setup")
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    _fits_a_phone(page, "setup")
    page.get_by_role("button", name="Create the administrator").click()
    _fits_a_phone(page, "setup refused")
    page.set_viewport_size(size)
    page.get_by_label("Setup code").fill((instance / "setup_code").read_text())
    page.get_by_label("Your name").fill("Ada Admin")
    page.get_by_label("Email address").fill("ada@example.org")
    page.get_by_label("Password (at least 12 characters)").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_label("Organization or workspace name").fill("Ministry of Examples")
    page.get_by_role("button", name="Create the administrator").click()
    page.get_by_role("heading", name="Ministry of Examples").wait_for()


def _first_assessment(page, server, instance, title: str) -> str:
    """First-run set-up, then the first assessment, titled ``title``; returns its id."""
    _set_up(page, server, instance)
    page.get_by_role("link", name="Start the first assessment").click()
    page.get_by_label("Title").fill(title)
    page.get_by_role("button", name="Start").click()
    page.wait_for_url("**/about")
    return re.search(r"/a/([^/]+)/about", page.url).group(1)


def _answer_every_dimension(page) -> None:
    while "/dimensions/" in page.url:
        for radio in page.locator('input[type=radio][name$="-value"][value="2"]').all():
            radio.check()
        page.get_by_role("button", name="Save and continue").click()
        page.wait_for_load_state()


def test_first_run_to_results_and_export(page, server, instance, tmp_path):
    _set_up(page, server, instance)
    _check_accessibility(page, "empty dashboard")
    page.get_by_role("link", name="Start the first assessment").click()
    page.get_by_label("Title").fill("Browser review")
    page.get_by_role("button", name="Start").click()

    page.get_by_label("Region").select_option("europe")
    page.get_by_role("button", name="Save and continue").click()
    page.locator("#data_control-3").check()  # data control: critical
    _check_accessibility(page, "drivers")
    page.get_by_role("button", name="Save and continue").click()
    _check_accessibility(page, "dimension page")
    _answer_every_dimension(page)

    page.get_by_label("Vendor lock-in").check()
    _check_accessibility(page, "barriers")
    page.get_by_role("button", name="Save and continue").click()
    assert "Every question is answered." in page.content()
    _check_accessibility(page, "review")
    page.get_by_role("link", name="See the results").click()

    assert page.locator(".index .number").inner_text() == "50.0"
    assert page.locator("svg.radar title").text_content() == "Readiness by dimension"
    _check_accessibility(page, "results")
    with page.expect_download() as download:
        page.get_by_role("link", name="Answers (JSON)").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name.startswith("browser-review-") and len(json.loads(path.read_text())["answers"]) == 48
    _download_the_pdf_report(page, tmp_path)

    page.get_by_role("link", name="Ministry of Examples").click()
    assert "48/48" in page.content()
    _check_accessibility(page, "dashboard")
    page.get_by_role("link", name="Audit log").click()
    assert "answer.changed" in page.content()
    _check_accessibility(page, "audit log")


def _download_the_pdf_report(page, tmp_path) -> None:
    """The worker started by `sovready serve` renders the report; the page updates in place until it is ready."""
    page.get_by_role("link", name="PDF report").click()
    _check_accessibility(page, "report status")
    page.get_by_role("button", name="Prepare the PDF report").click()
    page.get_by_text("Rendering the report").or_(page.get_by_text("The report is queued")).wait_for()
    page.evaluate("window.sameDocument = true")
    _check_accessibility(page, "report rendering")  # no timed reload: app.js updates the status
    link = page.get_by_role("link", name="Download the PDF report")
    link.wait_for(timeout=60_000)
    assert page.evaluate("window.sameDocument") is True
    with page.expect_download() as download:
        link.click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    text = " ".join(PdfReader(path).pages[0].extract_text().split())
    assert path.name.endswith("-report.pdf") and "Browser review" not in text  # the cover names the organization
    assert "Stage: Developing" in text
    page.get_by_role("link", name="Back to the results").click()


def test_back_keeps_what_was_chosen(page, server):
    page.goto(f"{server}/login")
    page.get_by_label("Email address").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="New assessment").click()
    page.get_by_label("Title").fill("Second")
    page.get_by_role("button", name="Start").click()
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("button", name="Save and continue").click()
    page.locator('input[name="strategy.mandate-value"][value="3"]').check()
    page.get_by_role("button", name="Save and go back").click()
    assert page.url.endswith("/drivers")
    page.get_by_role("link", name="Strategy").click()
    assert page.locator('input[name="strategy.mandate-value"][value="3"]').is_checked()
    assert page.locator("#progress").get_attribute("value") == "1"


def _log_in(page, server) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("Email address").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Ministry of Examples").wait_for()


def _fits(page, what: str) -> None:
    """No sideways scrolling of the whole page (WCAG 1.4.10 reflow)."""
    _styled(page)
    wide, viewport = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide <= viewport, f"{what}: {wide} px wide in a {viewport} px window"


def _styled(page) -> None:
    """Wait for the stylesheet: a click returns once the next page starts loading, and measured before
    app.css arrives the page is laid out unstyled (the audit log's table then made it 665 px wide in CI)."""
    page.wait_for_load_state("load")
    assert page.evaluate("getComputedStyle(document.body).marginTop") == "0px", "app.css is not applied"


def _fits_a_phone(page, what: str) -> None:
    """At PHONE's width: no sideways scrolling, and axe finds nothing serious."""
    assert page.viewport_size == PHONE
    _fits(page, f"{what} at {PHONE['width']} px")
    _check_accessibility(page, f"{what} at {PHONE['width']} px")


def _labels_beside_their_controls(page, form: str) -> None:
    """Each filter's label on its control's row, just left of it."""
    _styled(page)
    for label in page.locator(f"{form} label").all():
        control = page.locator(f"#{label.get_attribute('for')}")
        lb, cb = label.bounding_box(), control.bounding_box()
        assert lb["x"] + lb["width"] <= cb["x"] and cb["y"] <= lb["y"] + lb["height"] / 2 <= cb["y"] + cb["height"]


def test_pages_fit_a_phone_screen(page, browser, server):
    page.set_viewport_size(PHONE)
    _log_in(page, server)
    _fits(page, "dashboard")
    page.get_by_role("link", name="Browser review", exact=True).click()
    page.get_by_role("heading", name="Results", exact=True).wait_for()
    _fits(page, "results")
    _check_accessibility(page, "results at 390 px")  # the tables' scroll boxes are named and focusable
    assert 0 in _tab_stops_only_where_tables_scroll(page)
    _labels_beside_their_controls(page, "form.filters")
    assessment = page.url.removesuffix("/results")
    for what in ("delete", "review", "dimensions/talent"):
        page.goto(f"{assessment}/{what}")
        _fits(page, what)
    current = page.locator(".steps [aria-current]").bounding_box()  # the steps are one row: the current in view
    assert current["x"] >= 0 and current["x"] + current["width"] <= 390 and current["y"] < 300
    page.get_by_role("link", name="Ministry of Examples").first.click()
    page.get_by_role("link", name="Audit log").click()
    _fits(page, "audit log")
    page.go_back()
    page.get_by_role("link", name="Members").click()
    _fits(page, "members")
    page.get_by_role("button", name="Create invitation link").click()
    _anonymous_pages_fit_a_phone(browser, server, page.locator("#invite-link").input_value())
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="Ministry of Examples").first.click()
    page.get_by_role("link", name="Browser review", exact=True).click()
    _labels_beside_their_controls(page, "form.filters")
    assert -1 in _tab_stops_only_where_tables_scroll(page)  # at 1280 px tables fit: no Tab stop for their boxes


def _tab_stops_only_where_tables_scroll(page) -> set[int]:
    """A table's scroll box is in the Tab order only when it scrolls; the tab indexes seen."""
    _styled(page)
    boxes = page.evaluate("[...document.querySelectorAll('.table-scroll')]"
                          ".map(box => [box.scrollWidth > box.clientWidth, box.tabIndex])")
    assert boxes and all(index == (0 if scrolls else -1) for scrolls, index in boxes), boxes
    return {index for _, index in boxes}


def _anonymous_pages_fit_a_phone(browser, server, invitation: str) -> None:
    """Log in, an invitation and the workshop join code page, as someone not logged in (setup: see _set_up)."""
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        for url, what, button in ((f"{server}/login", "log in", "Log in"),
                                  (invitation, "invitation", "Create account and join"),
                                  (f"{server}/join", "join code", "Continue")):
            page.goto(url)
            _fits_a_phone(page, what)
            page.get_by_role("button", name=button).click()  # empty: refused, with the error summary
            page.locator(".error-summary").wait_for()
            _fits_a_phone(page, f"{what} refused")
    finally:
        context.close()


def test_enter_continues_and_tab_follows_the_buttons_as_shown(page, server):
    _log_in(page, server)
    page.get_by_role("link", name="Continue Browser review").click()
    page.wait_for_url("**/results")  # every question is answered: Continue goes on to the results
    page.get_by_role("link", name="Organization", exact=True).click()
    page.get_by_label("Title").press("Enter")  # the form's default button
    page.wait_for_url("**/drivers")
    page.get_by_role("link", name="Data sovereignty").click()
    back = page.get_by_role("button", name="Save and go back")
    back.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Save"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Save and continue"
    _styled(page)
    buttons = [page.get_by_role("button", name=name, exact=True).bounding_box()["x"]
               for name in ("Save and go back", "Save", "Save and continue")]
    assert buttons == sorted(buttons)  # shown in the order they are reached
    page.get_by_role("button", name="Save", exact=True).click()
    assert page.url.endswith("/dimensions/data#main")
    assert page.get_by_role("status").inner_text() == "Your answers are saved."
    _refused_after_save_focuses_the_error_summary(page)


def _refused_after_save_focuses_the_error_summary(page) -> None:
    """Save leaves the page at #main; a refused save after it must still focus the error summary
    (posted to the URL with #main, the page came back there and Chrome focused <main>)."""
    page.get_by_role("link", name="Organization", exact=True).click()
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/about#main")
    page.get_by_label("Title").fill("")
    page.get_by_role("button", name="Save", exact=True).click()
    page.locator(".error-summary").wait_for()
    page.wait_for_load_state("load")
    assert page.evaluate("document.activeElement.className") == "error-summary"


def test_a_file_over_the_limit_is_named_before_it_is_sent(page, server):
    """Over the limit the server refuses the request unread and cannot say which file it was: the page does."""
    _log_in(page, server)
    page.get_by_role("link", name="Import answers").click()
    upload = page.get_by_label("Answers file (JSON export, or YAML answers file)")
    upload.set_input_files({"name": "huge.json", "mimeType": "application/json", "buffer": b" " * (3 * 1024 * 1024)})
    alert = page.get_by_role("alert")
    assert alert.text_content() == "Error: huge.json is 3 MiB; this server accepts files of at most 1 MiB."
    assert upload.get_attribute("aria-invalid") == "true"
    page.get_by_role("button", name="Import").click()
    assert page.get_by_role("heading", name="Import answers").is_visible()  # not sent: no 413 page
    assert page.evaluate("document.activeElement.type") == "file"
    _check_accessibility(page, "import refused in the browser")
    upload.set_input_files({"name": "small.json", "mimeType": "application/json", "buffer": b"{}"})
    assert page.get_by_role("alert").count() == 0 and upload.get_attribute("aria-invalid") is None
    page.get_by_role("button", name="Import").click()
    assert "small.json" in page.content()  # the server's own refusal names the file it could read


# Each e-mail address in the audit log's cells, and on how many lines it is shown.
EMAIL_LINES = """() => {
  const found = [];
  for (const cell of document.querySelectorAll("table.audit td")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/[^\\s<>]+@[^\\s<>]+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
        found.push([match[0], tops.size]);
      }
    }
  }
  return found;
}"""


def test_the_audit_log_breaks_addresses_only_on_a_narrow_screen(page, server, instance):
    """The rule that keeps long ids from widening a phone's page broke every address mid-word at
    1280 px too: allowed to break anywhere, the Who column was given next to no width."""
    db = storage.connect(instance / "sovready.db")
    try:
        admin, workspace = db.execute("SELECT user_id, workspace_id FROM memberships ORDER BY rowid").fetchone()
        token = accounts.create_invite(db, workspace, "editor", admin, 1)
        accounts.register_with_invite(db, token, "bartholomew.longsurname@ministry-of-examples.example.org",
                                      "Bartholomew Longsurname", PASSWORD)
    finally:
        db.close()
    page.set_viewport_size({"width": 1280, "height": 900})
    _log_in(page, server)
    page.get_by_role("link", name="Audit log").click()
    _styled(page)
    addresses = page.evaluate(EMAIL_LINES)
    assert "bartholomew.longsurname@ministry-of-examples.example.org" in dict(addresses)
    assert [line for line in addresses if line[1] != 1] == []
    page.set_viewport_size({"width": 320, "height": 640})
    _fits(page, "audit log at 320 px")  # the page does not scroll sideways
    # There the address wraps rather than widen the table (which scrolls in its own box, as wide tables do).
    assert dict(page.evaluate(EMAIL_LINES))["bartholomew.longsurname@ministry-of-examples.example.org"] > 1
