"""A workshop to consensus in headless Chromium: a facilitator and three participants, each in their own context."""


import pytest
from playwright.sync_api import expect

from .test_journey_in_chromium import PHONE, _check_accessibility, _first_assessment, _fits, _fits_a_phone, _styled

pytestmark = pytest.mark.browser
LEVELS = ("1", "3", "4")  # what the three participants answer to the first question: spread 3


def _open_workshop(page, server, instance) -> tuple[str, str, str]:
    """The facilitator sets up, starts an assessment, opens a workshop on Data sovereignty.

    Returns the assessment's id, the workshop page's URL and the join code."""
    assessment_id = _first_assessment(page, server, instance, "Workshop review")
    page.goto(f"{server}/a/{assessment_id}/workshops")
    page.get_by_label("Data sovereignty").check()
    page.get_by_role("button", name="Open the workshop").click()
    _check_accessibility(page, "workshop dashboard")
    return assessment_id, page.url, page.locator(".join-code").inner_text()


def _participant(browser, server, code: str, name: str, level: str, phone: bool = False):
    """A participant joins with the code, answers the first question, and keeps their page open.

    With ``phone``, on a phone's screen, where each page must fit (and pass axe)."""
    context = browser.new_context(**({"viewport": PHONE} if phone else {}))
    page = context.new_page()
    page.set_default_timeout(15_000)

    def fits(what):
        if phone:
            _fits_a_phone(page, what)

    page.goto(f"{server}/join")
    fits("join")
    page.get_by_label("Join code").fill(code.lower())
    page.get_by_role("button", name="Continue").click()
    fits("name")
    page.get_by_label("Your name, as the facilitator will see it").fill(name)
    page.get_by_role("button", name="Join").click()
    fits("participant's home")
    page.get_by_role("link", name="Data sovereignty").click()
    _check_accessibility(page, "participant's page")
    fits("participant's question page")
    page.locator(f'input[name="data.residency-value"][value="{level}"]').check()
    page.get_by_role("button", name="Save").click()
    assert "Your answers are saved." in page.content()
    fits("saved")
    return context, page


def _tables_fit(page, what: str) -> None:
    """No table needs scrolling sideways in its box."""
    _styled(page)
    for box in page.locator(".table-scroll").all():
        wide, shown = box.evaluate("box => [box.scrollWidth, box.clientWidth]")
        assert wide <= shown, f"{what}: a {wide} px table in a {shown} px box"


def _updates_in_place(page, participant) -> None:
    """"Update every 5 seconds" brings in a new answer without reloading: what is typed, and the focus, stay."""
    page.evaluate("window.sameDocument = true")
    button = page.get_by_role("button", name="Update every 5 seconds")
    button.click()
    assert button.get_attribute("aria-pressed") == "true"
    last = page.locator("section.question").last
    rationale = last.get_by_label("Rationale")
    rationale.click()
    question = last.get_attribute("id").removeprefix("q-")
    participant.get_by_role("link", name="Data sovereignty").click()
    participant.locator(f'input[name="{question}-value"][value="2"]').check()
    participant.get_by_role("button", name="Save").click()
    expect(last.locator("table.distribution tbody td").nth(2)).to_have_text("1", timeout=15_000)
    assert page.evaluate("window.sameDocument") is True
    assert rationale.input_value() == "Not discussed yet"
    assert page.evaluate("document.activeElement.name") == "rationale"
    assert page.get_by_role("status").inner_text().startswith("New answers shown at ")
    _check_accessibility(page, "dashboard updating in place")
    button.click()
    assert button.get_attribute("aria-pressed") == "false" and page.get_by_role("status").inner_text() == "Updates stopped."


def _offered_level_follows_the_median(page, dashboard: str, participant) -> None:
    """While updating, each question's offered level follows its new median, unless the facilitator changed
    the select (it stays) or is typing in that question's form (it waits until they leave it)."""
    page.goto(dashboard)
    page.get_by_role("button", name="Update every 5 seconds").click()
    unanswered = [s for s in page.locator("section.question").all() if s.locator("select").input_value() == ""]
    follows, changed, typing = (s.locator("select") for s in unanswered[:3])
    changed.select_option("1")
    unanswered[2].locator("textarea").click()
    participant.get_by_role("link", name="Data sovereignty").click()
    for select, level in ((follows, "3"), (changed, "4"), (typing, "2")):
        question = select.get_attribute("id").removeprefix("level-")
        participant.locator(f'input[name="{question}-value"][value="{level}"]').check()
    participant.get_by_role("button", name="Save").click()
    expect(follows).to_have_value("3", timeout=15_000)
    assert changed.input_value() == "1" and typing.input_value() == ""
    page.locator("h1").click()  # leaves the form being typed in
    expect(typing).to_have_value("2", timeout=15_000)
    page.get_by_role("button", name="Update every 5 seconds").click()


def _reloads_without_scripts(browser, page, dashboard: str) -> None:
    """Without scripts the button stays hidden, and the link's ?auto=1 page reloads itself."""
    context = browser.new_context(java_script_enabled=False, storage_state=page.context.storage_state())
    try:
        plain = context.new_page()
        plain.goto(dashboard)
        assert plain.get_by_role("button", name="Update every 5 seconds").count() == 0
        plain.get_by_role("link", name="Refresh every 5 seconds").click()
        with plain.expect_navigation(timeout=10_000):
            pass
        assert plain.url.endswith("?auto=1")
    finally:
        context.close()


def test_a_workshop_to_consensus(page, browser, server, instance):
    assessment_id, dashboard, code = _open_workshop(page, server, instance)
    people = [_participant(browser, server, code, f"Person {n}", level, phone=n == 0)
              for n, level in enumerate(LEVELS)]
    try:
        page.goto(dashboard)
        question = page.locator("#q-data\\.residency")
        assert "spread 3" in question.inner_text()
        page.set_viewport_size({"width": 390, "height": 844})
        _fits(page, "workshop dashboard at 390 px")  # its tables scroll in boxes of their own
        page.set_viewport_size({"width": 1280, "height": 720})
        assert page.locator("section.question").first.get_attribute("id") == "q-data.residency"
        assert "How the group answered" not in people[0][1].content()
        page.get_by_role("button", name="Reveal the distribution to participants").click()
        people[0][1].reload()
        assert "How the group answered" in people[0][1].content()
        _fits_a_phone(people[0][1], "participant's home, revealed")
        _tables_fit(people[0][1], "participant's home, revealed")  # the distributions, on a phone
        for width in (375, 320):  # a small phone, and the width WCAG's reflow asks for
            people[0][1].set_viewport_size({"width": width, "height": 800})
            _tables_fit(people[0][1], f"participant's home, revealed, at {width} px")
        people[0][1].set_viewport_size(PHONE)

        assert question.locator("select").input_value() == "3"  # the median, offered as the default
        question.get_by_label("Rationale").fill("Two of three regions are covered")
        question.get_by_role("button", name="Record the consensus").click()
        assert "Consensus: level 3." in page.locator("#q-data\\.residency").inner_text()

        page.goto(f"{server}/a/{assessment_id}/dimensions/data")
        assert page.locator('input[name="data.residency-value"][value="3"]').is_checked()  # the assessment's answer

        # A question nobody answered offers no level: recording it anyway is refused beside the field.
        page.goto(dashboard)
        unanswered = page.locator("section.question").last
        assert unanswered.locator("select").input_value() == ""
        unanswered.get_by_label("Rationale").fill("Not discussed yet")
        unanswered.get_by_role("button", name="Record the consensus").click()
        assert "Choose the level the group agreed on." in page.locator("section.question").last.inner_text()
        assert page.locator("section.question").last.get_by_label("Rationale").input_value() == "Not discussed yet"
        _check_accessibility(page, "refused consensus")

        _updates_in_place(page, people[1][1])
        _offered_level_follows_the_median(page, dashboard, people[2][1])
        _reloads_without_scripts(browser, page, dashboard)
        page.goto(f"{dashboard}?auto=1")  # with scripts it updates in place too, and never reloads
        assert page.locator("textarea").count() == 0 and "Stop refreshing to record a consensus" in page.content()
        _check_accessibility(page, "dashboard at ?auto=1")  # no timed reload for axe's meta-refresh rule
        page.get_by_role("link", name="Stop refreshing to record a consensus").click()
        assert page.locator("textarea").count() > 0

        page.goto(dashboard)
        page.get_by_role("link", name="Close the workshop").click()  # asks first, on a page of its own
        page.get_by_role("heading", name="Close the workshop?").wait_for()
        page.get_by_role("button", name="Close the workshop").click()
        page.get_by_text("The workshop is closed").wait_for()
        people[1][1].reload()
        assert "This workshop is closed" in people[1][1].content()
        phone = people[0][1]
        phone.reload()
        _fits_a_phone(phone, "participant's question page, closed")
        phone.context.clear_cookies()  # a fresh session: someone new with the code of a closed workshop
        phone.goto(f"{server}/join")
        phone.get_by_label("Join code").fill(code)
        phone.get_by_role("button", name="Continue").click()
        phone.get_by_role("heading", name="Workshop closed").wait_for()
        _fits_a_phone(phone, "closed workshop")
    finally:
        for context, _ in people:
            context.close()
