"""A participant's choices outlive a save that never reached the server, and stay theirs (docs/workshop.md)."""

import re
import sqlite3

import pytest

from .test_journey_in_chromium import PASSWORD, PHONE, _check_accessibility, _fits_a_phone
from .test_workshop_in_chromium import _open_workshop

pytestmark = pytest.mark.browser
RESIDENCY = 'input[name="data.residency-value"][value="{}"]'
RESTORE = re.compile(r"^Restore what you typed on ")


@pytest.fixture(scope="module")
def workshop(browser, server, instance):
    """The join code and the dimension page's path of a workshop on Data sovereignty, and the path of
    that dimension's journey page in the assessment it is on."""
    context = browser.new_context()
    try:
        assessment_id, dashboard, code = _open_workshop(context.new_page(), server, instance)
    finally:
        context.close()
    return code, f"/p/{dashboard.rsplit('/', 1)[1]}/data", f"/a/{assessment_id}/dimensions/data"


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _join(page, server, code: str, name: str) -> None:
    page.goto(f"{server}/join/{code}")
    page.get_by_label("Your name, as the facilitator will see it").fill(name)
    page.get_by_role("button", name="Join").click()
    page.get_by_text(f"Welcome, {name}.").wait_for()


def _save_without_signal(page, server, path: str, level: str) -> None:
    """Choose ``level`` for the first question and press Save while the phone has no signal."""
    page.goto(f"{server}{path}")
    page.locator(RESIDENCY.format(level)).check()
    page.context.set_offline(True)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(lambda url: not url.startswith(server))  # the browser's own error page
    page.context.set_offline(False)


def _stored(instance, name: str) -> list[str]:
    with sqlite3.connect(instance / "sovready.db") as db:
        return [row[0] for row in db.execute(
            "SELECT a.value FROM participant_answers a JOIN participants p ON p.id = a.participant_id "
            "WHERE p.display_name = ? AND a.question_id = 'data.residency'", [name])]


def _drafts(page) -> list[str]:
    return page.evaluate("Object.keys(sessionStorage).filter((key) => key.startsWith('draft:'))")


def test_a_save_lost_for_want_of_signal_is_offered_back(phone, server, instance, workshop):
    code, path, _ = workshop
    _join(phone, server, code, "Ana")
    _save_without_signal(phone, server, path, "3")
    assert _stored(instance, "Ana") == []
    phone.goto(f"{server}{path}")
    restore = phone.get_by_role("button", name=RESTORE)
    assert not phone.locator(RESIDENCY.format("3")).is_checked()  # never restored unasked
    _fits_a_phone(phone, "participant's page offering a draft")
    restore.click()
    assert phone.locator(RESIDENCY.format("3")).is_checked()
    assert phone.locator(":focus").inner_text().startswith("Restored what you typed on ")
    phone.get_by_role("button", name="Save").click()
    phone.get_by_text("Your answers are saved.").wait_for()
    assert _stored(instance, "Ana") == ["3"] and _drafts(phone) == []
    phone.goto(f"{server}{path}")
    assert phone.get_by_role("button", name=RESTORE).count() == 0


def test_on_a_shared_phone_the_next_participant_never_sees_the_last_ones_draft(phone, server, instance, workshop):
    code, path, _ = workshop
    _join(phone, server, code, "Bea")
    _save_without_signal(phone, server, path, "1")
    phone.goto(f"{server}{path}")
    assert phone.get_by_role("button", name=RESTORE).count() == 1 and len(_drafts(phone)) == 1  # hers, offered
    phone.context.clear_cookies()  # Bea's session is gone; Cy joins in the same browser tab
    _join(phone, server, code, "Cy")
    assert _drafts(phone) == []  # forgotten as soon as a page names another participant
    phone.goto(f"{server}{path}")
    assert phone.get_by_role("button", name=RESTORE).count() == 0
    assert not phone.locator(RESIDENCY.format("1")).is_checked()
    _check_accessibility(phone, "another participant's page")


def test_a_participants_draft_and_an_accounts_in_one_tab_keep_each_other(page, server, instance, workshop):
    """The facilitator tries the participant's page in the tab of their journey: neither forgets the other's."""
    code, path, journey = workshop
    page.goto(f"{server}/login")
    page.get_by_label("Email address").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    _save_without_signal(page, server, journey, "3")  # the account's draft
    _join(page, server, code, "Dee")
    _save_without_signal(page, server, path, "1")  # the participant's, in the same tab
    for where, level in ((journey, "3"), (path, "1"), (journey, "3")):
        page.goto(f"{server}{where}")
        page.get_by_role("button", name=RESTORE).click()  # each page offers its own typist's draft
        assert page.locator(RESIDENCY.format(level)).is_checked()
        assert len(_drafts(page)) == 2
