"""Workshops: facilitators open them, participants join by code and answer, consensus becomes the answers."""

import html
import io
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from pypdf import PdfReader

from assessment import jobs, records, storage, workshops
from assessment.answers import Answer
from assessment.pdf import render_pdf
from assessment.web import participate
from assessment.web.participate import CLOSED, FULL, JOINS_STOPPED

from .conftest import DIMENSIONS, flashes, text


def _code(db, workshop_id):
    return workshops.get_workshop(db, workshop_id).join_code


def _join(app, db, workshop_id, name="Pat"):
    """A participant's browser: a fresh client that joined with ``name``."""
    client = app.test_client()
    response = client.post(f"/join/{_code(db, workshop_id)}", data={"display_name": name})
    assert response.status_code == 302 and response.headers["Location"] == f"/p/{workshop_id}"
    return client


def _answer(client, workshop_id, dimension, values):
    data = {f"{qid}-value": value for qid, value in values.items()}
    return client.post(f"/p/{workshop_id}/{dimension}", data=data)


def _question_ids(default_rubric, dimension):
    return [q.id for d in default_rubric.dimensions if d.id == dimension for q in d.questions]


def test_an_editor_opens_a_workshop_with_a_code_and_a_qr_code(editor, finished, db):
    page = text(editor.get(f"/a/{finished}/workshops"))
    assert "Open a workshop" in page
    response = editor.post(f"/a/{finished}/workshops", data={"dimensions": DIMENSIONS})
    assert response.status_code == 302
    workshop = workshops.workshops_of(db, finished)[0]
    assert response.headers["Location"] == f"/workshops/{workshop.id}"
    assert workshop.dimensions == tuple(DIMENSIONS) and workshop.status == "open"
    assert re.fullmatch(f"[{workshops.JOIN_ALPHABET}]{{8}}", workshop.join_code)
    page = text(editor.get(f"/workshops/{workshop.id}"))
    assert workshop.join_code in page and f"/join/{workshop.join_code}" in page
    assert '<svg width=' in page and "QR code of the join link" in page


def test_a_workshop_needs_a_dimension(editor, finished):
    page = text(editor.post(f"/a/{finished}/workshops", data={}))
    assert "Choose at least one dimension." in page


@pytest.mark.parametrize("who, status", [("viewer", 403), ("outsider", 404)])
def test_only_editors_and_owners_facilitate(request, who, status, finished, workshop):
    client = request.getfixturevalue(who)
    assert client.get(f"/a/{finished}/workshops").status_code == status
    assert client.get(f"/workshops/{workshop}").status_code == status
    assert client.post(f"/workshops/{workshop}/close").status_code == status


def test_join_by_code_then_answer_and_the_dashboard_shows_divergence(app, db, editor, workshop, default_rubric):
    code = _code(db, workshop)
    client = app.test_client()
    response = client.post("/join", data={"code": f" {code[:4].lower()}-{code[4:]} "})
    assert response.headers["Location"] == f"/join/{code}"
    client.post(f"/join/{code}", data={"display_name": "Ana"})
    other = _join(app, db, workshop, "Ben")
    qid = _question_ids(default_rubric, "data")[0]
    assert _answer(client, workshop, "data", {qid: "0"}).status_code == 302
    assert _answer(other, workshop, "data", {qid: "4"}).status_code == 302
    assert 'value="4" checked' in text(other.get(f"/p/{workshop}/data"))
    page = text(editor.get(f"/workshops/{workshop}"))
    assert "Ana" in page and "Ben" in page and "1 of 12" in page
    assert re.search(r'<section class="question[^"]*" id="q-([^"]+)"', page).group(1) == qid  # most divergent first
    assert "spread 4" in page
    spreads = workshops.divergence(_question_ids(default_rubric, "data"), workshops.all_answers(db, workshop))
    assert spreads[0].question_id == qid and spreads[0].flagged and spreads[0].counts == (1, 0, 0, 0, 1)


def test_participants_see_the_distribution_only_once_revealed(app, db, editor, workshop, default_rubric):
    client = _join(app, db, workshop)
    qid = _question_ids(default_rubric, "data")[0]
    _answer(client, workshop, "data", {qid: "3"})
    assert "How the group answered" not in text(client.get(f"/p/{workshop}"))
    assert editor.post(f"/workshops/{workshop}/reveal").status_code == 302
    page = text(client.get(f"/p/{workshop}"))
    assert "How the group answered" in page and "(you: 3)" in page


def test_participants_reach_nothing_else(app, db, workshop, finished, people, default_rubric):
    client = _join(app, db, workshop)
    for path in (f"/a/{finished}/results", f"/a/{finished}/workshops", f"/workshops/{workshop}",
                 f"/w/{people['workspace']}", "/"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path
    another = workshops.create_workshop(db, finished, ["data"], people["owner"])
    assert client.get(f"/p/{another}").status_code == 404
    assert _answer(client, another, "data", {}).status_code == 404
    assert client.get(f"/p/{workshop}/governance").status_code == 404  # not a dimension of this workshop
    assert app.test_client().get(f"/p/{workshop}").status_code == 404  # a browser that never joined


def test_wrong_codes_are_rate_limited_per_address_and_only_joined_participants_pass_the_limit(app, db, workshop):
    joined = _join(app, db, workshop)  # already in, from the room's one address
    client = app.test_client()
    code = _code(db, workshop)
    for _ in range(participate.JOIN_FAILURE_LIMIT - 1):
        assert client.get("/join/ZZZZZZZZ").status_code == 404
    assert client.get(f"/join/{code}").status_code == 200  # under the limit, a right code joins
    assert "No workshop has this code" in text(client.post("/join", data={"code": "ZZZZZZZY"}))
    refused = client.post("/join", data={"code": "ZZZZZZZX"})
    assert refused.status_code == 429 and client.get("/join/ZZZZZZZX").status_code == 429
    assert "Too many wrong join codes from this network" in text(refused)
    main = re.search(r"<main.*</main>", text(refused), re.S).group(0)
    assert 'href="/join">Enter a join code</a>' in main and "/login" not in main
    # Over the limit a right code is refused too: answering it would tell a guesser it is right.
    assert client.get(f"/join/{code}").status_code == 429
    assert client.post("/join", data={"code": code.lower()}).status_code == 429
    # A room's typos never lock out those who already joined.
    assert joined.get(f"/join/{code}").headers["Location"] == f"/p/{workshop}"
    assert joined.get(f"/p/{workshop}").status_code == 200
    elsewhere = app.test_client()
    assert elsewhere.get("/join/ZZZZZZZX", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 404


def test_consensus_becomes_the_answer_and_participants_answers_stay(app, db, editor, workshop, finished,
                                                                     default_rubric):
    client = _join(app, db, workshop)
    qid = _question_ids(default_rubric, "security")[0]
    _answer(client, workshop, "security", {qid: "1"})
    response = editor.post(f"/workshops/{workshop}/consensus/{qid}", data={"level": "2", "rationale": "Pilot only"})
    assert response.status_code == 302
    answer = records.answer_set(db, records.get_assessment(db, finished)).answers[qid]
    assert (answer.value, answer.note) == (2, "Workshop consensus: Pilot only")
    assert workshops.consensus(db, workshop)[qid]["rationale"] == "Pilot only"
    assert workshops.all_answers(db, workshop)[qid] == ["1"]
    assert editor.post(f"/workshops/{workshop}/consensus/governance.policy", data={"level": "2"}).status_code == 404
    assert editor.post(f"/workshops/{workshop}/consensus/{qid}", data={"level": "7"}).status_code == 200  # re-shown


def test_after_close_late_answers_are_refused_with_a_message(app, db, editor, workshop, default_rubric):
    client = _join(app, db, workshop)
    qid = _question_ids(default_rubric, "data")[0]
    assert flashes(client.get(_answer(client, workshop, "data", {qid: "2"}).headers["Location"])) == [
        "Your answers are saved."]
    editor.post(f"/workshops/{workshop}/close")
    response = _answer(client, workshop, "data", {qid: "4"})
    # Refused on the page itself, with what was chosen shown back, not lost behind a redirect.
    assert response.status_code == 200
    page = html.unescape(text(response))
    assert CLOSED in page and "The answers on this page are not saved" in page
    section = re.search(rf'id="q-{re.escape(qid)}".*?</fieldset>', page, re.S).group(0)
    assert 'value="4" checked' in section and 'value="2" checked' not in section
    assert workshops.all_answers(db, workshop)[qid] == ["2"]
    assert CLOSED in text(client.get(f"/p/{workshop}/data"))
    assert app.test_client().get(f"/join/{_code(db, workshop)}").status_code == 410


def test_deleting_personal_data_keeps_answers_and_consensus(app, db, editor, workshop, default_rubric):
    client = _join(app, db, workshop, "Zoë Private")
    qid = _question_ids(default_rubric, "data")[0]
    _answer(client, workshop, "data", {qid: "3"})
    editor.post(f"/workshops/{workshop}/consensus/{qid}", data={"level": "3", "rationale": "As Zoë said"})
    participant = workshops.participants(db, workshop)[0]
    assert editor.post(f"/workshops/{workshop}/participants/{participant['id']}/forget").status_code == 302
    assert "Zoë Private" not in text(editor.get(f"/workshops/{workshop}"))
    assert db.execute("SELECT count(*) FROM participants WHERE display_name LIKE 'Zo%'").fetchone()[0] == 0
    assert workshops.all_answers(db, workshop)[qid] == ["3"]
    assert workshops.consensus(db, workshop)[qid]["level"] == 3
    assert client.get(f"/p/{workshop}").status_code == 404  # the old link no longer opens anything


@pytest.mark.parametrize("path", ["/join", "/join/{code}", "/p/{workshop}/data", "/workshops/{workshop}/reveal",
                                  "/workshops/{workshop}/close", "/workshops/{workshop}/consensus/data.residency",
                                  "/workshops/{workshop}/participants/1/forget", "/workshops/{workshop}/participants/1/remove",
                                  "/a/{finished}/workshops", "/workshops/{workshop}/joins/stop",
                                  "/workshops/{workshop}/joins/allow", "/workshops/{workshop}/code"])
def test_every_new_post_needs_a_csrf_token(app, db, editor, workshop, finished, path):
    client = _join(app, db, workshop) if path.startswith("/p/") else editor
    url = path.format(code=_code(db, workshop), workshop=workshop, finished=finished)
    assert client.post(url, data={"level": "2", "code": "X", "display_name": "X"}, csrf=False).status_code == 400


def test_the_pdf_has_a_workshop_section(app, db, editor, workshop, finished, default_rubric):
    qid = _question_ids(default_rubric, "data")[1]
    for number, value in enumerate(("0", "1", "4")):
        _answer(_join(app, db, workshop, f"P{number}"), workshop, "data", {qid: value})
    editor.post(f"/workshops/{workshop}/consensus/{qid}", data={"level": "2", "rationale": "Two sites of three"})
    pdf = render_pdf(jobs.build_report(db, records.get_assessment(db, finished)))
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]
    section = next(page for page in pages if "Most disputed questions" in page)
    assert "3 participants answered 12 questions" in section
    assert "Most disputed questions" in section and "Level 2: Two sites of three" in section
    assert default_rubric.questions[qid].title in section


def test_a_report_without_a_workshop_has_no_such_section(db, finished):
    assert jobs.build_report(db, records.get_assessment(db, finished)).workshop is None


def test_the_cached_report_follows_the_participants_answers(app, db, workshop, finished, default_rubric):
    assessment = records.get_assessment(db, finished)
    before = jobs.report_digest(db, assessment)
    _answer(_join(app, db, workshop), workshop, "data", {_question_ids(default_rubric, "data")[0]: "2"})
    assert jobs.report_digest(db, assessment) != before


def test_while_refreshing_the_dashboard_offers_no_consensus_form_to_type_into(app, db, editor, workshop,
                                                                              default_rubric):
    """Without scripts a meta refresh every five seconds would erase a rationale being typed: the forms wait for
    it to stop. With scripts (app.js), the marked parts update in place instead and nothing reloads."""
    _answer(_join(app, db, workshop), workshop, "data", {_question_ids(default_rubric, "data")[0]: "2"})
    page = text(editor.get(f"/workshops/{workshop}?auto=1"))
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page
    assert 'class="consensus"' not in page and "<textarea" not in page
    assert "Stop refreshing to record a consensus" in page
    page = text(editor.get(f"/workshops/{workshop}"))
    assert 'http-equiv="refresh"' not in page and 'class="consensus"' in page
    assert '<button type="button" data-live-toggle aria-pressed="false" hidden>' in page  # shown by app.js
    parts = re.findall(r'data-live="([^"]+)"', page)
    assert parts == ["participants"] + re.findall(r'<section class="question[^"]*" id="(q-[^"]+)"', page)
    assert len(parts) > len(_question_ids(default_rubric, "data"))  # every question, each with its distribution


def test_a_question_nobody_answered_offers_no_level_until_one_is_chosen(app, db, editor, workshop,
                                                                        default_rubric):
    answered, unanswered = _question_ids(default_rubric, "data")[:2]
    _answer(_join(app, db, workshop), workshop, "data", {answered: "3"})
    page = text(editor.get(f"/workshops/{workshop}"))
    section = re.search(rf'id="q-{re.escape(unanswered)}".*?</section>', page, re.S).group(0)
    assert '<option value="" selected>Choose a level</option>' in section
    assert re.search(r'<option value="\d" selected', section) is None
    section = re.search(rf'id="q-{re.escape(answered)}".*?</section>', page, re.S).group(0)
    assert '<option value="3" selected>' in section and "Choose a level" not in section  # the median

    response = editor.post(f"/workshops/{workshop}/consensus/{unanswered}",
                           data={"level": "", "rationale": "Typed before the stray click"})
    assert response.status_code == 200
    page = text(response)
    section = re.search(rf'id="q-{re.escape(unanswered)}".*?</section>', page, re.S).group(0)
    assert "Choose the level the group agreed on." in section
    assert f'aria-describedby="level-{unanswered}-errors"' in section
    assert "Typed before the stray click" in section  # what was typed is kept
    assert unanswered not in workshops.consensus(db, workshop)


def test_each_delete_link_names_its_participant(app, db, editor, workshop):
    _join(app, db, workshop, "Ana Example")
    _join(app, db, workshop, "Ben Example")
    page = text(editor.get(f"/workshops/{workshop}"))
    for name in ("Ana Example", "Ben Example"):
        assert f'Delete personal data<span class="visually-hidden"> of {name}</span></a>' in page


def _consensus_names(page: str) -> dict[str, list[str]]:
    """Each consensus form's accessible names (its two labels and its button, hidden words included), by question."""
    def words(markup):
        return " ".join(html.unescape(re.sub(r"<[^>]+>", "", markup)).split())
    names = {}
    for question, form in re.findall(r'action="/workshops/[^/]+/consensus/([^"]+)" class="consensus"(.*?)</form>',
                                     page, re.S):
        labels = [words(label) for label in re.findall(r'<label for="[^"]+">(.*?)</label>', form, re.S)]
        names[question] = labels + [words(button) for button in re.findall(r"<button[^>]*>(.*?)</button>", form, re.S)]
    return names


def test_each_consensus_form_names_its_question(app, db, editor, workshop, finished, default_rubric):
    question = _question_ids(default_rubric, "data")[0]
    editor.post(f"/workshops/{workshop}/consensus/{question}", data={"level": "2"})  # a "Change" button too
    names = _consensus_names(text(editor.get(f"/workshops/{workshop}")))
    assert set(names) == {q for d in DIMENSIONS for q in _question_ids(default_rubric, d)}
    everyone = [name for form in names.values() for name in form]
    assert len(everyone) == 3 * len(names) == len(set(everyone))
    title = default_rubric.questions[question].title
    assert names[question] == [f"Agreed level for {title}", f"Rationale for {title}", f"Change the consensus for {title}"]


class _Controls(HTMLParser):
    """A page's buttons and links, each as (its accessible name, what it does: a link's address, a button's
    form and its draft's question): the text inside, hidden words included, or its aria-label."""

    def __init__(self):
        super().__init__()
        self.found, self.open, self.form = [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.form = (attrs.get("action"), attrs.get("data-draft-name"))
        elif tag in ("a", "button") and (tag == "button" or "href" in attrs):
            self.open.append([attrs.get("aria-label"), [], attrs.get("href") or self.form])

    def handle_data(self, data):
        for control in self.open:
            control[1].append(data)

    def handle_endtag(self, tag):
        if tag in ("a", "button") and self.open:
            label, words, does = self.open.pop()
            self.found.append((label or " ".join("".join(words).split()), does))
        elif tag == "form":
            self.form = None


def _ambiguous_controls(page: str) -> dict[str, set]:
    """The names a screen reader's list of buttons and links gives to controls that do different things."""
    parser = _Controls()
    parser.feed(page)
    does = {}
    for name, what in parser.found:
        does.setdefault(name, set()).add(what)
    return {name: what for name, what in does.items() if len(what) > 1}


def test_no_two_controls_of_the_facilitators_pages_share_a_name_but_do_different_things(
        app, db, editor, people, finished, workshop, default_rubric):
    """Every Restore button app.js offers beside a consensus draft was named "Restore what you typed on …"
    alike: it takes the words that name its question (data-draft-name), and so does every repeated control."""
    for name in ("Pat", "Pat", "Ana", "Ben"):  # Pat joined twice: her phone lost its link
        _join(app, db, workshop, name)
    for participant in workshops.participants(db, workshop)[2:]:  # two "Deleted participant"s
        editor.post(f"/workshops/{workshop}/participants/{participant['id']}/forget")
    editor.post(f"/workshops/{workshop}/consensus/{_question_ids(default_rubric, 'data')[0]}", data={"level": "2"})
    workshops.create_workshop(db, finished, DIMENSIONS, people["editor"])  # in the same minute as the first
    dashboard = text(editor.get(f"/workshops/{workshop}"))
    drafts = re.findall(r'<form [^>]*action="/workshops/[^/]+/consensus/([^"]+)"[^>]*data-draft-name="([^"]+)"',
                        dashboard)
    assert {question: html.unescape(name) for question, name in drafts} == {
        q: default_rubric.questions[q].title for d in DIMENSIONS for q in _question_ids(default_rubric, d)}
    for page in (dashboard, text(editor.get(f"/a/{finished}/workshops"))):
        assert _ambiguous_controls(page) == {}


def test_closing_asks_first_on_a_page_that_works_without_js(editor, workshop, db):
    dashboard = text(editor.get(f"/workshops/{workshop}"))
    assert f'<a class="button" href="/workshops/{workshop}/close">Close the workshop</a>' in dashboard
    assert f'action="/workshops/{workshop}/close"' not in dashboard  # no form that closes at once
    asking = editor.get(f"/workshops/{workshop}/close")
    page = text(asking)
    assert asking.status_code == 200 and "<h1>Close the workshop?</h1>" in page and "late answers are refused" in page
    assert re.search(r'<form method="post" class="actions">\s*<input type="hidden" name="csrf_token"', page)
    assert f'<a class="button" href="/workshops/{workshop}">Cancel</a>' in page
    assert not workshops.get_workshop(db, workshop).closed  # asking closes nothing
    assert editor.post(f"/workshops/{workshop}/close").location == f"/workshops/{workshop}"
    assert workshops.get_workshop(db, workshop).closed
    assert editor.get(f"/workshops/{workshop}/close").location == f"/workshops/{workshop}"  # nothing left to ask


def test_deleting_personal_data_asks_first_on_a_page_that_works_without_js(app, db, editor, workshop):
    _join(app, db, workshop, "Zoë Private")
    (participant,) = workshops.participants(db, workshop)
    url = f"/workshops/{workshop}/participants/{participant['id']}/forget"
    dashboard = text(editor.get(f"/workshops/{workshop}"))
    assert f'<a class="button" href="{url}">Delete personal data<span class="visually-hidden"> of Zoë Private' in dashboard
    assert f'action="{url}"' not in dashboard
    asking = editor.get(url)
    page = text(asking)
    assert asking.status_code == 200 and "<h1>Delete the personal data of Zoë Private?</h1>" in page
    assert f'<a class="button" href="/workshops/{workshop}">Cancel</a>' in page
    assert workshops.participants(db, workshop)[0]["display_name"] == "Zoë Private"  # asking deletes nothing
    assert editor.get(f"/workshops/{workshop}/participants/99/forget").status_code == 404  # no such participant
    assert editor.post(url).location == f"/workshops/{workshop}"
    assert workshops.participants(db, workshop)[0]["deleted"]
    assert editor.get(url).location == f"/workshops/{workshop}"  # nothing left to ask


@pytest.mark.parametrize("who, status", [("viewer", 403), ("outsider", 404)])
def test_only_facilitators_are_asked_to_close_or_delete_personal_data(request, app, db, workshop, who, status):
    _join(app, db, workshop, "Pat")
    (participant,) = workshops.participants(db, workshop)
    client = request.getfixturevalue(who)
    for path in ("close", f"participants/{participant['id']}/forget", f"participants/{participant['id']}/remove"):
        assert client.get(f"/workshops/{workshop}/{path}").status_code == status
        assert client.post(f"/workshops/{workshop}/{path}").status_code == status
    assert not workshops.get_workshop(db, workshop).closed
    assert workshops.participants(db, workshop)[0]["display_name"] == "Pat"


def test_a_consensus_keeps_the_answers_evidence_note_and_basis(db, editor, workshop, finished, default_rubric):
    qid = _question_ids(default_rubric, "data")[0]
    assessment = records.get_assessment(db, finished)
    records.save_answers(db, assessment, default_rubric, {qid: Answer(1, "Contract §4, DPA annex", "evidenced")})
    editor.post(f"/workshops/{workshop}/consensus/{qid}", data={"level": "2", "rationale": "Pilot only"})
    answer = records.answer_set(db, assessment).answers[qid]
    assert answer == Answer(2, "Contract §4, DPA annex\n\nWorkshop consensus: Pilot only", "evidenced")
    editor.post(f"/workshops/{workshop}/consensus/{qid}", data={"level": "3", "rationale": "After the audit"})
    answer = records.answer_set(db, assessment).answers[qid]  # the line is replaced, not added again
    assert answer == Answer(3, "Contract §4, DPA annex\n\nWorkshop consensus: After the audit", "evidenced")


def test_a_rationale_that_does_not_fit_beside_the_evidence_note_is_refused(db, editor, workshop, finished,
                                                                           default_rubric):
    qid = _question_ids(default_rubric, "data")[0]
    assessment = records.get_assessment(db, finished)
    evidence = "e" * 1900
    records.save_answers(db, assessment, default_rubric, {qid: Answer(1, evidence)})
    response = editor.post(f"/workshops/{workshop}/consensus/{qid}", data={"level": "2", "rationale": "r" * 100})
    assert response.status_code == 200
    section = re.search(rf'id="q-{re.escape(qid)}".*?</section>', text(response), re.S).group(0)
    assert "the rationale can be at most 78 characters" in section and "r" * 100 in section
    assert records.answer_set(db, assessment).answers[qid] == Answer(1, evidence)
    assert qid not in workshops.consensus(db, workshop)


def test_a_closed_workshop_can_still_be_revealed_and_a_second_reveal_says_so(app, db, editor, workshop,
                                                                             default_rubric):
    client = _join(app, db, workshop)
    _answer(client, workshop, "data", {_question_ids(default_rubric, "data")[0]: "3"})
    editor.post(f"/workshops/{workshop}/close")
    dashboard = text(editor.get(f"/workshops/{workshop}"))
    assert "Reveal the distribution to participants" in dashboard
    response = editor.post(f"/workshops/{workshop}/reveal")
    assert flashes(editor.get(response.headers["Location"])) == ["Participants now see the distribution of answers."]
    found = workshops.get_workshop(db, workshop)
    assert found.closed and found.revealed
    assert "How the group answered" in text(client.get(f"/p/{workshop}"))
    assert "Reveal the distribution to participants" not in text(editor.get(f"/workshops/{workshop}"))
    response = editor.post(f"/workshops/{workshop}/reveal")
    assert flashes(editor.get(response.headers["Location"])) == [
        "The distribution was already revealed to participants: nothing changed."]


def test_a_participant_counted_twice_is_removed_with_their_answers(app, db, editor, owner, workshop, people,
                                                                    default_rubric):
    qid = _question_ids(default_rubric, "data")[0]
    _answer(_join(app, db, workshop, "Ana"), workshop, "data", {qid: "4"})
    _answer(_join(app, db, workshop, "Ana"), workshop, "data", {qid: "4"})  # her phone lost the cookie
    _answer(_join(app, db, workshop, "Ben"), workshop, "data", {qid: "0"})
    first = workshops.participants(db, workshop)[0]["id"]
    url = f"/workshops/{workshop}/participants/{first}/remove"
    dashboard = text(editor.get(f"/workshops/{workshop}"))
    assert f'<a class="button" href="{url}">Remove participant and answers<span class="visually-hidden"> of Ana' in dashboard
    asking = text(editor.get(url))
    assert "<h1>Remove Ana and their answers?</h1>" in asking and "Their 1 answers are deleted" in asking
    assert len(workshops.participants(db, workshop)) == 3  # asking removes nothing
    response = editor.post(url)
    assert flashes(editor.get(response.headers["Location"])) == ["The participant and their answers are removed."]
    assert [p["display_name"] for p in workshops.participants(db, workshop)] == ["Ana", "Ben"]
    assert sorted(workshops.all_answers(db, workshop)[qid]) == ["0", "4"]
    assert editor.get(url).status_code == 404  # gone
    log = text(owner.get(f"/w/{people['workspace']}/audit"))
    assert "Workshop participant and answers removed" in log and f"participant {first}, 1 answers" in log


def test_a_forgotten_participant_can_still_be_removed_with_their_answers(app, db, editor, workshop,
                                                                         default_rubric):
    qid = _question_ids(default_rubric, "data")[0]
    _answer(_join(app, db, workshop, "Demo"), workshop, "data", {qid: "0"})
    (participant,) = workshops.participants(db, workshop)
    editor.post(f"/workshops/{workshop}/participants/{participant['id']}/forget")
    assert workshops.all_answers(db, workshop)[qid] == ["0"]  # deleting personal data keeps the answers
    page = text(editor.get(f"/workshops/{workshop}"))
    assert "Remove participant and answers<span class=\"visually-hidden\"> of Deleted participant</span>" in page
    editor.post(f"/workshops/{workshop}/participants/{participant['id']}/remove")
    assert workshops.all_answers(db, workshop) == {} and workshops.participants(db, workshop) == []


def _workshop_chapter(db, assessment_id) -> str:
    pdf = render_pdf(jobs.build_report(db, records.get_assessment(db, assessment_id)))
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]
    return " ".join(page for page in pages if "participants answered" in page or "participant answered" in page)


def test_a_new_empty_workshop_does_not_replace_the_answered_one_in_the_pdf(app, db, editor, workshop, finished,
                                                                            people, default_rubric):
    qid = _question_ids(default_rubric, "data")[1]
    for number, value in enumerate(("0", "4")):
        _answer(_join(app, db, workshop, f"P{number}"), workshop, "data", {qid: value})
    _join(app, db, workshop, "Joined, never answered")
    editor.post(f"/workshops/{workshop}/consensus/{qid}", data={"level": "2", "rationale": "Two sites of three"})
    empty = workshops.create_workshop(db, finished, ["security"], people["editor"])
    _join(app, db, empty, "Early bird")  # joined the new one, answered nothing yet
    chapter = _workshop_chapter(db, finished)
    assert "2 participants answered 12 questions on their own before the group agreed on levels" in chapter
    assert "Level 2: Two sites of three" in chapter and "0 participants" not in chapter


def test_a_pdf_of_workshops_nobody_answered_has_no_workshop_chapter(app, db, workshop, finished):
    _join(app, db, workshop)
    assert jobs.build_report(db, records.get_assessment(db, finished)).workshop is None


def test_the_rationale_limit_is_what_fits_in_the_note_and_is_stated(db, editor, workshop, finished,
                                                                    default_rubric):
    qid = _question_ids(default_rubric, "data")[0]
    assessment = records.get_assessment(db, finished)
    records.save_answers(db, assessment, default_rubric, {qid: Answer(1)})
    limit = workshops.RATIONALE_MAX
    section = re.search(rf'id="q-{re.escape(qid)}".*?</section>', text(editor.get(f"/workshops/{workshop}")), re.S)
    assert f"Why the group settled on this level (up to {limit} characters)." in section.group(0)
    assert f'aria-describedby="rationale-{qid}-help"' in section.group(0)
    response = editor.post(f"/workshops/{workshop}/consensus/{qid}", data={"level": "2", "rationale": "r" * (limit + 1)})
    assert response.status_code == 200 and f"The rationale can be at most {limit} characters." in text(response)
    assert records.answer_set(db, assessment).answers[qid] == Answer(1)
    editor.post(f"/workshops/{workshop}/consensus/{qid}", data={"level": "2", "rationale": "r" * limit})
    assert records.answer_set(db, assessment).answers[qid].note == f"Workshop consensus: {'r' * limit}"  # whole


def test_stopping_new_joins_keeps_the_workshop_open_for_those_who_joined(app, db, editor, workshop):
    pat = _join(app, db, workshop)
    assert editor.post(f"/workshops/{workshop}/joins/stop").status_code == 302
    code = _code(db, workshop)
    stranger = app.test_client()
    for response in (stranger.get(f"/join/{code}"), stranger.post(f"/join/{code}", data={"display_name": "Eve"})):
        assert response.status_code == 403 and JOINS_STOPPED in html.unescape(text(response))
    assert [p["display_name"] for p in workshops.participants(db, workshop)] == ["Pat"]
    assert _answer(pat, workshop, "data", {"data.residency": "3"}).status_code == 302  # still answering
    assert pat.get(f"/join/{code}").headers["Location"] == f"/p/{workshop}"  # and still let in
    assert "New joins are stopped" in text(editor.get(f"/workshops/{workshop}"))
    editor.post(f"/workshops/{workshop}/joins/allow")
    _join(app, db, workshop, "Sam")


def test_a_new_join_code_shuts_out_a_leaked_one_and_keeps_the_participants(app, db, editor, workshop):
    pat = _join(app, db, workshop)
    leaked = _code(db, workshop)
    assert editor.post(f"/workshops/{workshop}/code").status_code == 302
    fresh = _code(db, workshop)
    assert fresh != leaked and fresh in text(editor.get(f"/workshops/{workshop}"))
    assert app.test_client().get(f"/join/{leaked}").status_code == 404
    assert pat.get(f"/p/{workshop}").status_code == 200
    _join(app, db, workshop, "Sam")
    actions = [row[0] for row in db.execute("SELECT action FROM audit WHERE subject = ?", [workshop])]
    assert "workshop.code_changed" in actions


def test_a_workshop_takes_participants_up_to_its_cap_then_says_it_is_full(app, db, editor, workshop):
    """A leaked code or a script could add participants without bound: the server's cap stops them."""
    app.config["WORKSHOP_MAX_PARTICIPANTS"] = 2
    _join(app, db, workshop, "Ana")
    ben = _join(app, db, workshop, "Ben")
    assert "Participants (2 of at most 2)" in text(editor.get(f"/workshops/{workshop}"))
    late = app.test_client()
    code = _code(db, workshop)
    full = html.unescape(FULL.format(cap=2))
    for response in (late.get(f"/join/{code}"), late.post(f"/join/{code}", data={"display_name": "Cleo"})):
        assert response.status_code == 403 and full in html.unescape(text(response))
    assert 'value="Cleo"' in text(response)  # the name typed is kept, ready to join once there is room
    assert [p["display_name"] for p in workshops.participants(db, workshop)] == ["Ana", "Ben"]
    assert ben.get(f"/join/{code}").headers["Location"] == f"/p/{workshop}"  # those in stay in
    dashboard = html.unescape(text(editor.get(f"/workshops/{workshop}")))
    assert "The workshop is full" in dashboard and "WORKSHOP_MAX_PARTICIPANTS" in dashboard
    first = workshops.participants(db, workshop)[0]["id"]
    editor.post(f"/workshops/{workshop}/participants/{first}/remove")
    assert late.post(f"/join/{code}", data={"display_name": "Cleo"}).status_code == 302


def test_the_cap_is_checked_inside_the_write_transaction(app, db, workshop):
    """Joins sent at once, each on its own connection, cannot pass the cap between its check and its insert."""
    def join(number):
        connection = storage.connect(app.config["DATABASE"])
        try:
            workshops.join(connection, workshop, f"P{number}", cap=3)
            return True
        except workshops.WorkshopFull:
            return False
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        joined = list(pool.map(join, range(12)))
    assert joined.count(True) == 3 and len(workshops.participants(db, workshop)) == 3


def test_the_cap_defaults_to_two_hundred(app):
    assert app.config["WORKSHOP_MAX_PARTICIPANTS"] == workshops.MAX_PARTICIPANTS == 200


def test_the_participants_overview_says_how_far_they_got_in_each_dimension(app, db, workshop, default_rubric):
    """With two dimensions, "6 of 12 questions" did not say which page still needed answers."""
    client = _join(app, db, workshop)
    _answer(client, workshop, "data", {qid: "2" for qid in _question_ids(default_rubric, "data")[:4]})
    page = text(client.get(f"/p/{workshop}"))
    titles = {d.id: d.title for d in default_rubric.dimensions}
    assert re.search(rf'{re.escape(titles["data"])}\s*<span class="muted">4 of 6 answered</span>', page)
    assert re.search(rf'{re.escape(titles["security"])}\s*<span class="muted">0 of 6 answered</span>', page)


def test_the_dashboard_says_what_the_workshop_covers_and_spells_out_each_questions_levels(
        editor, db, workshop, finished, default_rubric):
    """The levels' words were cut short in the select: the facilitator could not read them out to the room."""
    page = html.unescape(text(editor.get(f"/workshops/{workshop}")))
    titles = [d.title for d in default_rubric.dimensions if d.id in DIMENSIONS]
    assert f"On {' and '.join(titles)}" in page
    question = default_rubric.questions[_question_ids(default_rubric, "data")[0]]
    section = re.search(rf'id="q-{re.escape(question.id)}".*?</section>', page, re.S).group(0)
    assert question.text in section and all(words in section for words in question.levels.values())
    index = html.unescape(text(editor.get(f"/a/{finished}/workshops")))
    assert f"on {' and '.join(titles)}" in index


def test_a_participants_site_name_leads_to_their_workshop_not_to_the_log_in(app, db, workshop):
    client = _join(app, db, workshop)
    assert f'<a class="brand" href="/p/{workshop}">' in text(client.get(f"/p/{workshop}/data"))
    assert '<a class="brand" href="/join">' in text(app.test_client().get("/join"))


def test_the_pdfs_heatmap_counts_not_applicable_and_dont_know_too(app, db, workshop, finished, default_rubric):
    """Its rows counted levels 0 to 4 only: with answers of "don't know" they added up to fewer than the
    participants the chapter names, and a client reading it asked where the others went."""
    qid = _question_ids(default_rubric, "data")[0]
    for number, value in enumerate(("1", "dont_know", "not_applicable")):
        _answer(_join(app, db, workshop, f"P{number}"), workshop, "data", {qid: value})
    chapter = _workshop_chapter(db, finished)
    assert "3 participants answered" in chapter and "other" in chapter
    assert "Other counts Not applicable and Don't know" in chapter
    row = re.search(rf"{re.escape(default_rubric.questions[qid].title)} 0 1 0 0 0 (\d)", chapter)
    assert row and row.group(1) == "2"


# How long a participant keeps their place (docs/workshop.md, *Participating*): the clock is moved, never slept.

def _in_workshop(client, workshop_id) -> bool:
    """Whether the participant's browser still reaches their workshop (another person gets a 404)."""
    status = client.get(f"/p/{workshop_id}").status_code
    assert status in (200, 404)
    return status == 200


def test_a_participant_active_all_day_and_back_the_next_morning_keeps_their_place(app, db, workshop,
                                                                                 default_rubric):
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        client = _join(app, db, workshop, "Early bird")
        for _ in range(6):  # a workshop day: a page every two hours, well past SESSION_HOURS from joining
            clock.shift(timedelta(hours=2))
            assert _in_workshop(client, workshop)
        left_open = client.csrf_token()  # the form of a page left open at the end of the day
        clock.shift(timedelta(hours=15))  # overnight, between the two days of a two-day workshop
        qid = _question_ids(default_rubric, "data")[0]
        response = client.post(f"/p/{workshop}/data", data={f"{qid}-value": "2", "csrf_token": left_open})
        assert response.status_code == 302 and workshops.all_answers(db, workshop)[qid] == ["2"]
        assert _in_workshop(client, workshop)
        assert len(workshops.participants(db, workshop)) == 1  # not a second participant for the same person
        clock.shift(timedelta(hours=workshops.PARTICIPANT_IDLE_HOURS, minutes=1))  # idle longer than the window
        assert not _in_workshop(client, workshop)
        assert "Your name, as the facilitator will see it" in text(client.get(f"/join/{_code(db, workshop)}"))


def test_a_participants_place_ends_at_the_bound_however_active(app, db, workshop):
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        client = _join(app, db, workshop)
        for _ in range(workshops.PARTICIPANT_DAYS * 2 - 1):
            clock.shift(timedelta(hours=12))
            assert _in_workshop(client, workshop)
        clock.shift(timedelta(hours=12))
        assert not _in_workshop(client, workshop)


def test_once_the_workshop_is_closed_a_participants_place_is_no_longer_renewed(app, db, editor, workshop):
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        client = _join(app, db, workshop)
        clock.shift(timedelta(hours=1))
        assert _in_workshop(client, workshop)
        editor.post(f"/workshops/{workshop}/close")
        editor.post(f"/workshops/{workshop}/reveal")
        clock.shift(timedelta(hours=workshops.PARTICIPANT_IDLE_HOURS - 1))
        assert "How the group answered" in text(client.get(f"/p/{workshop}"))  # a reveal after closing is seen
        clock.shift(timedelta(hours=2))  # within the window of that visit, were it renewed
        assert not _in_workshop(client, workshop)


def test_visits_to_an_open_workshop_do_not_renew_the_place_in_a_closed_one(app, db, editor, people, finished, workshop):
    """One browser cookie holds every workshop joined: visits to an open one renewed it, and with it the
    place in a closed one, which then lasted as long as the other workshop went on."""
    other = workshops.create_workshop(db, finished, DIMENSIONS, people["editor"])
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        client = _join(app, db, workshop)
        assert client.post(f"/join/{_code(db, other)}", data={"display_name": "Pat"}).status_code == 302
        editor.post(f"/workshops/{workshop}/close")
        for _ in range(workshops.PARTICIPANT_IDLE_HOURS // 2):  # a day in the other workshop
            clock.shift(timedelta(hours=2))
            assert _in_workshop(client, other)
        clock.shift(timedelta(hours=1))
        assert not _in_workshop(client, workshop)  # its last visit was the join, a day and an hour ago
        assert _in_workshop(client, other)


def _cookie_places(app, client) -> tuple[set, set]:
    """The workshops the participant's session cookie holds a token and a last visit for, decoded as sent."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    data = app.session_interface.get_signing_serializer(app).loads(cookie)
    return set(data.get("workshops", {})), set(data.get("visited", {}))


def test_a_workshop_whose_place_has_ended_leaves_the_cookie_when_it_is_next_written(app, db, people, finished,
                                                                                     workshop):
    """The entries of workshops whose place had ended stayed in the cookie for good, one token more each."""
    other = workshops.create_workshop(db, finished, DIMENSIONS, people["editor"])
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        client = _join(app, db, workshop)
        clock.shift(timedelta(hours=1))
        assert client.post(f"/join/{_code(db, other)}", data={"display_name": "Pat"}).status_code == 302
        for _ in range(workshops.PARTICIPANT_IDLE_HOURS // 2):  # a day in the other workshop only
            clock.shift(timedelta(hours=2))
            assert _in_workshop(client, other)
        assert _cookie_places(app, client) == ({other}, {other})
        assert not _in_workshop(client, workshop)


def test_a_workshop_whose_place_has_ended_leaves_the_cookie_when_a_save_writes_it(app, db, people, finished,
                                                                                   workshop):
    """A save's flash message writes the cookie between renewals (RENEW_AFTER) without _visited: the
    ended workshop's token was sent again with it, and kept for as long as the flashes went on."""
    other = workshops.create_workshop(db, finished, DIMENSIONS, people["editor"])
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        client = _join(app, db, workshop)
        clock.shift(timedelta(hours=workshops.PARTICIPANT_IDLE_HOURS, minutes=-5))
        assert client.post(f"/join/{_code(db, other)}", data={"display_name": "Pat"}).status_code == 302
        clock.shift(timedelta(minutes=6))  # the first workshop's place has ended; the other's is not due renewal
        assert _answer(client, other, "data", {}).status_code == 302
        assert _cookie_places(app, client) == ({other}, {other})
        assert "Your answers are saved." in text(client.get(f"/p/{other}"))


def test_a_removed_participant_is_out_at_once(app, db, editor, workshop):
    client = _join(app, db, workshop)
    editor.post(f"/workshops/{workshop}/participants/{workshops.participants(db, workshop)[0]['id']}/remove")
    assert not _in_workshop(client, workshop)


# The module's own refusals, which the pages' forms stop before: a caller that skips them gets a clear error.

def test_a_workshop_without_dimensions_is_refused(db, people, finished):
    with pytest.raises(ValueError, match="a workshop needs at least one dimension"):
        workshops.create_workshop(db, finished, [], people["editor"])
    assert workshops.workshops_of(db, finished) == []


def test_a_join_after_joins_stopped_is_refused_even_past_the_page(db, people, workshop):
    """The join page checks too, but a join sent before the stop and handled after it meets this one."""
    workshops.stop_joins(db, workshop, True, by=people["editor"])
    with pytest.raises(workshops.JoinsStopped):
        workshops.join(db, workshop, "Pat")
    assert workshops.participant_count(db, workshop) == 0


@pytest.mark.parametrize("question, level", [("data.residency", 7), ("talent.expertise", 2)])
def test_a_consensus_outside_the_workshop_or_the_levels_is_refused(db, people, workshop, default_rubric,
                                                                   question, level):
    """talent.expertise: a question of a dimension the workshop does not cover."""
    assert "talent" not in DIMENSIONS and "data" in DIMENSIONS
    with pytest.raises(ValueError, match=f"no consensus on '{question}' at level {level}"):
        workshops.set_consensus(db, workshops.get_workshop(db, workshop), default_rubric, question, level, "", None)
    assert workshops.consensus(db, workshop) == {}


def test_a_facilitators_action_sent_twice_is_done_and_logged_once(db, people, workshop, default_rubric):
    """A double click, or a second tab: the second close, stop, forget, removal or unchanged
    consensus changes nothing and adds no line to the owners' audit log."""
    by = people["editor"]
    pat, sam = (workshops.join(db, workshop, name)[0] for name in ("Pat", "Sam"))
    question = workshops.questions_of(default_rubric, DIMENSIONS)[0].id
    for _ in range(2):
        workshops.stop_joins(db, workshop, True, by=by)
        workshops.forget_participant(db, workshop, pat, by=by)
        workshops.remove_participant(db, workshop, sam, by=by)
        workshops.set_consensus(db, workshops.get_workshop(db, workshop), default_rubric, question, 3, "Agreed", by)
        workshops.close(db, workshop, by=by)
    actions = sorted(row[0] for row in db.execute("SELECT action FROM audit WHERE subject = ?", [workshop]))
    assert actions == sorted(["workshop.opened", "workshop.joins_stopped", "participant.forgotten",
                              "participant.removed", "consensus.recorded", "workshop.closed"])


def test_a_join_code_already_taken_is_drawn_again(db, people, finished, workshop, monkeypatch):
    """Two workshops with one code would send participants of one to the other."""
    taken = _code(db, workshop)
    fresh = workshops.JOIN_ALPHABET[0] * workshops.CODE_LENGTH
    assert fresh != taken
    drawn = iter(taken + fresh)  # the first draw repeats the open workshop's code
    monkeypatch.setattr(workshops.secrets, "choice", lambda alphabet: next(drawn))
    second = workshops.create_workshop(db, finished, DIMENSIONS, people["editor"])
    assert _code(db, second) == fresh and _code(db, workshop) == taken
