"""The facilitator's session ends during a long workshop day (SESSION_HOURS after logging in): a consensus
typed and sent after that is offered back once they log in again, and the dashboard updating in place says
that they must log in again (docs/workshop.md, *Facilitating*)."""

import re
import sqlite3

import pytest
from playwright.sync_api import expect

from .test_drafts_in_chromium import AT_LOG_IN, _drafts, _end_sessions, _log_in
from .test_journey_in_chromium import _check_accessibility
from .test_workshop_in_chromium import _open_workshop

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def dashboard(browser, server, instance):
    """The URL of a workshop on Data sovereignty, opened by the first-run administrator."""
    context = browser.new_context()
    url = _open_workshop(context.new_page(), server, instance)[1]
    context.close()
    return url


def _consensus(instance, question: str) -> list[tuple]:
    with sqlite3.connect(instance / "sovready.db") as db:
        return db.execute("SELECT level, rationale FROM consensus WHERE question_id = ?", [question]).fetchall()


def _send_consensus_too_late(page, server, dashboard, instance, rationale: str, nth: int, end=_end_sessions) -> str:
    """Log in, type a consensus for the ``nth`` question, and send it once the session has ended
    (``end(page, instance)``); returns the question's id."""
    page.goto(f"{server}/login")
    _log_in(page)
    page.goto(dashboard)
    section = page.locator("section.question").nth(nth)
    question = section.get_attribute("id").removeprefix("q-")
    section.locator("select").select_option("3")
    section.get_by_label("Rationale").fill(rationale)
    end(page, instance)
    section.get_by_role("button", name=re.compile("^Record the consensus")).click()
    return question


def _restore_and_record(page, dashboard, instance, question: str, rationale: str) -> None:
    page.wait_for_url(f"{dashboard}#q-{question}")  # back at the question, not at an address taking only POST
    section = page.locator(f'section[id="q-{question}"]')
    assert section.locator("select").input_value() != "3"  # never restored unasked
    section.get_by_role("button", name=re.compile("^Restore what you typed on ")).click()
    assert section.locator("select").input_value() == "3"
    assert section.get_by_label("Rationale").input_value() == rationale
    assert page.locator(":focus").inner_text().startswith("Restored what you typed on ")
    section.get_by_role("button", name=re.compile("^Record the consensus")).click()
    page.wait_for_url(f"{dashboard}#q-{question}")
    assert _consensus(instance, question) == [(3, rationale)]
    assert _drafts(page) == []  # recorded: nothing is offered again
    page.reload()
    assert page.get_by_role("button", name=re.compile("^Restore")).count() == 0


def test_a_consensus_sent_after_the_session_ended_is_offered_back_after_logging_in(page, server, dashboard, instance):
    question = _send_consensus_too_late(page, server, dashboard, instance, "Agreed after the coffee break", 0)
    page.wait_for_url(AT_LOG_IN)
    assert "Your session has ended" in page.locator(".flash.error").inner_text()
    assert page.get_by_text("This browser tab has kept what you typed there").is_visible()
    _log_in(page)
    page.get_by_role("button", name=re.compile("^Restore what you typed on ")).wait_for()
    _check_accessibility(page, "workshop dashboard offering a draft")
    _restore_and_record(page, dashboard, instance, question, "Agreed after the coffee break")


def test_once_the_cookie_has_expired_too_the_error_page_leads_back_to_the_consensus(page, server, dashboard, instance):
    question = _send_consensus_too_late(page, server, dashboard, instance, "Agreed before lunch", 1,
                                        end=lambda page, _: page.context.clear_cookies())
    assert "Your session has ended" in page.locator(".lead").inner_text()
    assert page.get_by_text("This browser tab has kept what you typed there").is_visible()
    page.get_by_role("link", name="Log in").click()
    _log_in(page)
    _restore_and_record(page, dashboard, instance, question, "Agreed before lunch")


def test_drafts_offered_at_once_are_each_named_by_their_question(page, server, dashboard, instance):
    """Each Restore button was "Restore what you typed on …" alike: a screen reader's list of buttons
    told two drafts apart only by their order."""
    questions = []
    for nth, rationale in ((2, "Agreed on the first day"), (3, "Agreed on the second day")):
        questions.append(_send_consensus_too_late(page, server, dashboard, instance, rationale, nth))
        page.wait_for_url(AT_LOG_IN)
        _log_in(page)
        page.wait_for_url(f"{dashboard}#q-{questions[-1]}")
    restore = page.get_by_role("button", name=re.compile("^Restore what you typed on "))
    expect(restore).to_have_count(2)
    for question in questions:
        section = page.locator(f'section[id="q-{question}"]')
        title = re.escape(section.locator("h3").inner_text())
        for name in (rf"^Restore what you typed on .+ for {title}$", rf"^Discard it for {title}$"):
            expect(page.get_by_role("button", name=re.compile(name))).to_have_count(1)
            expect(section.get_by_role("button", name=re.compile(name))).to_be_visible()
    hidden = section.locator(".draft-offer button .visually-hidden")  # the buttons look as they did
    assert hidden.count() == 2 and all(hidden.nth(i).bounding_box()["width"] <= 1 for i in range(2))


def test_updates_in_place_say_when_the_session_has_ended(page, server, dashboard, instance):
    page.goto(f"{server}/login")
    _log_in(page)
    page.goto(dashboard)
    page.evaluate("window.sameDocument = true")
    participants = page.locator('[data-live="participants"]').inner_html()
    page.get_by_role("button", name="Update every 5 seconds").click()
    _end_sessions(page, instance)
    status = page.get_by_role("status")
    expect(status).to_contain_text("Your session has ended", timeout=15_000)
    assert page.get_by_role("button", name="Update every 5 seconds").get_attribute("aria-pressed") == "false"
    assert page.evaluate("window.sameDocument") is True
    assert page.locator('[data-live="participants"]').inner_html() == participants  # no log-in page inside
    _check_accessibility(page, "dashboard whose session ended")
    status.get_by_role("link", name="Log in again").click()
    _log_in(page)
    page.wait_for_url(dashboard)
    # Updates were on when the session ended: back on the page they go on.
    assert page.get_by_role("button", name="Update every 5 seconds").get_attribute("aria-pressed") == "true"
