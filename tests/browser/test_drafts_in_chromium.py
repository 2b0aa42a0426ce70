"""Input typed on a journey page outlives a session that ended before it was sent (docs/web.md, *Drafts*)."""

import re
import sqlite3

import pytest

from assessment import accounts, storage

from .test_journey_in_chromium import PASSWORD, _check_accessibility, _first_assessment

pytestmark = pytest.mark.browser
RESIDENCY = 'input[name="data.residency-value"][value="3"]'
NOTE = 'textarea[name="data.residency-note"]'
AT_LOG_IN = re.compile(r"/login\?next=")


@pytest.fixture(scope="module")
def assessment(browser, server, instance):
    """The first assessment's URL, made by the first-run administrator."""
    context = browser.new_context()
    page = context.new_page()
    assessment_id = _first_assessment(page, server, instance, "Drafts")
    context.close()
    return f"{server}/a/{assessment_id}"


def _end_sessions(page, instance) -> None:
    with sqlite3.connect(instance / "sovready.db") as db:
        db.execute("UPDATE sessions SET expires_at = '2000-01-01T00:00:00Z'")


def _log_in(page) -> None:
    page.get_by_label("Email address").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _type_and_send_too_late(page, server, assessment, instance, note: str, end=_end_sessions) -> None:
    """Log in, answer a question with a note, and press Save once the session has ended (``end(page, instance)``)."""
    page.goto(f"{server}/login")
    _log_in(page)
    page.goto(f"{assessment}/dimensions/data")
    _answer(page, note)
    end(page, instance)
    page.get_by_role("button", name="Save", exact=True).click()


def _answer(page, note: str) -> None:
    page.locator(RESIDENCY).check()
    if not page.locator(NOTE).is_visible():  # open once a note is stored
        page.get_by_text("Evidence, basis and target").first.click()
    page.locator(NOTE).fill(note)


def _stored(instance, assessment) -> list[tuple]:
    with sqlite3.connect(instance / "sovready.db") as db:
        return db.execute("SELECT value, note FROM answers WHERE assessment_id = ? AND question_id = ?",
                          (assessment.rsplit("/", 1)[1], "data.residency")).fetchall()


def _drafts(page) -> list[str]:
    return page.evaluate("Object.keys(sessionStorage).filter((key) => key.startsWith('draft:'))")


def test_input_sent_after_the_session_ended_is_offered_back_after_logging_in(page, server, assessment, instance):
    _type_and_send_too_late(page, server, assessment, instance, "Register kept by the DPO")
    page.wait_for_url(AT_LOG_IN)
    assert "Your session has ended" in page.locator(".flash.error").inner_text()
    assert page.get_by_text("This browser tab has kept what you typed there").is_visible()
    _log_in(page)
    page.wait_for_url(f"{assessment}/dimensions/data")  # back where the input was typed
    restore = page.get_by_role("button", name=re.compile(r"^Restore what you typed on "))
    assert not page.locator(RESIDENCY).is_checked()  # never restored unasked
    _check_accessibility(page, "dimension page offering a draft")
    restore.click()
    assert page.locator(RESIDENCY).is_checked() and page.locator(NOTE).input_value() == "Register kept by the DPO"
    assert page.locator(":focus").inner_text().startswith("Restored what you typed on ")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/dimensions/data#main")
    assert _stored(instance, assessment) == [("3", "Register kept by the DPO")]
    assert _drafts(page) == []  # the save is confirmed: nothing is offered again
    page.reload()
    assert page.get_by_role("button", name=re.compile("^Restore")).count() == 0


def test_once_the_cookie_has_expired_too_the_error_page_leads_back_to_the_draft(page, server, assessment, instance):
    _type_and_send_too_late(page, server, assessment, instance, "Typed again",
                            end=lambda page, _: page.context.clear_cookies())  # the form's CSRF token then matches nothing
    assert "Your session has ended" in page.locator(".lead").inner_text()
    assert page.get_by_text("This browser tab has kept what you typed there").is_visible()
    _save_elsewhere(page.context.browser, server, assessment, "Saved by someone else")
    page.get_by_role("link", name="Log in").click()
    _log_in(page)
    page.wait_for_url(f"{assessment}/dimensions/data")
    page.get_by_role("button", name=re.compile("^Restore what you typed")).click()
    assert page.locator(NOTE).input_value() == "Typed again"
    # The draft was typed over what was stored before that save: it is held, not saved over it.
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("heading", name="Someone else saved this page after you opened it").wait_for()
    assert _stored(instance, assessment) == [("3", "Saved by someone else")]
    page.get_by_role("button", name="Save", exact=True).click()  # a second save keeps it
    page.wait_for_url("**/dimensions/data#main")
    assert _stored(instance, assessment) == [("3", "Typed again")]


def _save_elsewhere(browser, server, assessment, note: str) -> None:
    """The note saved on the dimension page from another browser."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{server}/login")
        _log_in(page)
        page.goto(f"{assessment}/dimensions/data")
        _answer(page, note)
        page.get_by_role("button", name="Save", exact=True).click()
        page.wait_for_url("**/dimensions/data#main")
    finally:
        context.close()


def test_logging_out_forgets_what_was_kept(page, server, assessment, instance):
    _type_and_send_too_late(page, server, assessment, instance, "Not for the next person")
    page.wait_for_url(AT_LOG_IN)
    _log_in(page)
    page.wait_for_url(f"{assessment}/dimensions/data")
    assert len(_drafts(page)) == 1
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    assert _drafts(page) == []
    _log_in(page)
    page.goto(f"{assessment}/dimensions/data")
    assert page.get_by_role("button", name=re.compile("^Restore")).count() == 0


def test_without_javascript_the_log_in_page_still_says_what_happened(browser, server, assessment, instance):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        _type_and_send_too_late(page, server, assessment, instance, "Typed without scripts")
        page.wait_for_url(AT_LOG_IN)
        assert "so this was not saved. Go back with your browser's Back button" in page.locator(".flash").inner_text()
        assert not page.get_by_text("This browser tab has kept what you typed there").is_visible()
        _log_in(page)
        page.wait_for_url(f"{assessment}/dimensions/data")  # back on the page, to type it again
    finally:
        context.close()


def test_the_new_assessment_form_offers_back_what_was_typed_after_the_session_ended(page, server, assessment,
                                                                                     instance):
    """It kept no draft: the title and organization typed were lost, unlike any journey page's input."""
    page.goto(f"{server}/login")
    _log_in(page)
    page.get_by_role("link", name="New assessment").click()
    new = page.url
    page.get_by_label("Title").fill("Typed too late")
    page.get_by_label("Organization name").fill("Agency of Drafts")
    _end_sessions(page, instance)
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(AT_LOG_IN)
    assert page.get_by_text("This browser tab has kept what you typed there").is_visible()
    _log_in(page)
    page.wait_for_url(new)
    assert page.get_by_label("Title").input_value() == ""  # never restored unasked
    _check_accessibility(page, "new assessment page offering a draft")
    page.get_by_role("button", name=re.compile(r"^Restore what you typed on ")).click()
    assert page.get_by_label("Title").input_value() == "Typed too late"
    assert page.get_by_label("Organization name").input_value() == "Agency of Drafts"
    page.get_by_role("button", name="Start").click()
    page.wait_for_url("**/about")
    assert page.get_by_label("Title").input_value() == "Typed too late"
    assert _drafts(page) == []  # started: nothing is offered again
    page.goto(new)
    assert page.get_by_role("button", name=re.compile("^Restore")).count() == 0


def test_another_account_on_the_tab_is_never_offered_the_new_assessment_draft(page, server, assessment, instance):
    """Drafts are their typist's: the administrator's, kept in the tab, is forgotten when the next
    account's page loads, as on the journey's pages."""
    page.goto(f"{server}/login")
    _log_in(page)
    page.get_by_role("link", name="New assessment").click()
    new = page.url
    page.get_by_label("Title").fill("Not for Bea")
    _end_sessions(page, instance)
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(AT_LOG_IN)
    assert len(_drafts(page)) == 1
    _invite_editor_and_log_in_as_her(page, server, instance)
    page.goto(new)
    assert page.get_by_role("heading", name="New assessment").is_visible()
    assert _drafts(page) == [] and page.get_by_role("button", name=re.compile("^Restore")).count() == 0


def _invite_editor_and_log_in_as_her(page, server, instance) -> None:
    """Bea, an editor of the administrator's workspace, logs in on this tab (the log-in page it is on)."""
    db = storage.connect(instance / "sovready.db")
    try:
        admin, workspace = db.execute("SELECT user_id, workspace_id FROM memberships ORDER BY rowid").fetchone()
        token = accounts.create_invite(db, workspace, "editor", admin, 1)
        accounts.register_with_invite(db, token, "bea@example.org", "Bea Editor", PASSWORD)
    finally:
        db.close()
    page.get_by_label("Email address").fill("bea@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
