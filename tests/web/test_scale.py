"""Pages at the scale their users bring: what a page reads must not grow with what it lists.

Each test counts the SQL statements a page makes for a few rows, then for more: a statement
per agency or participant (an N+1 query) turns a 300-agency portfolio into hundreds of them.
"""

import re
import sqlite3
import sys
from contextlib import contextmanager

import pytest

from assessment import accounts, portfolios, records, workshops
from assessment.answers import Answer
from assessment.portfolio_stats import PAGE_SIZE

from .conftest import PASSWORD, text


@contextmanager
def counted(db):
    """The SQL statements run on the database's connection (the pages' own, in tests) meanwhile."""
    statements = []
    db.conn.set_trace_callback(statements.append)
    try:
        yield statements
    finally:
        db.conn.set_trace_callback(None)


def _statements(db, client, url: str) -> int:
    with counted(db) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def _add_agencies(db, portfolio_id, rubric, user_id, names, level):
    """Agencies that joined as ``user_id`` and answered every question at ``level``."""
    rows = [(2, {"name": name, "type": "ministry", "size": "large", "contact": ""}) for name in names]
    for invited in portfolios.invite_agencies(db, portfolio_id, rows):
        _, assessment_id = portfolios.join(db, invited.token, user_id, rubric)
        answers = {qid: Answer(level) for qid in rubric.questions}
        records.save_answers(db, records.get_assessment(db, assessment_id), rubric, answers)


@pytest.mark.parametrize("page", ["", "/report"])  # the dashboard, and the report page it refreshes
def test_portfolio_pages_read_as_much_for_many_finished_agencies_as_for_few(
        db, people, owner, portfolio, default_rubric, page):
    user = accounts.create_user(db, "agencies@example.org", "Agency User", PASSWORD)
    _add_agencies(db, portfolio, default_rubric, user, ["Agency 1", "Agency 2"], 2)
    few = _statements(db, owner, f"/portfolios/{portfolio}{page}")
    _add_agencies(db, portfolio, default_rubric, user, [f"Agency {n}" for n in range(3, 13)], 3)
    assert _statements(db, owner, f"/portfolios/{portfolio}{page}") == few
    assert "12 of 12 agencies have finished" in text(owner.get(f"/portfolios/{portfolio}"))


def _size_and_statements(db, client, url: str) -> tuple[int, int]:
    with counted(db) as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(response.data), len(statements)


def test_the_dashboard_and_agencies_pages_list_a_page_of_agencies_however_many_there_are(
        db, owner, portfolio, default_rubric):
    """A 300-agency dashboard listed every agency twice (completion and ranking) and drew each in the
    heatmap: 236 KiB, and 758 KiB at 1,000; the agencies page put a form on each waiting agency."""
    user = accounts.create_user(db, "agencies@example.org", "Agency User", PASSWORD)
    pages = (f"/portfolios/{portfolio}?sort=index&order=desc", f"/portfolios/{portfolio}/agencies")
    _add_agencies(db, portfolio, default_rubric, user, [f"Agency {n:03d}" for n in range(PAGE_SIZE + 10)], 2)
    portfolios.invite_agencies(db, portfolio, [(2, {"name": f"Waiting {n:03d}", "type": "", "size": "", "contact": ""})
                                               for n in range(PAGE_SIZE + 10)])
    one_page = [_size_and_statements(db, owner, url) for url in pages]
    _add_agencies(db, portfolio, default_rubric, user, [f"Agency {n:03d}" for n in range(PAGE_SIZE + 10, 200)], 3)
    portfolios.invite_agencies(db, portfolio, [(2, {"name": f"Waiting {n:03d}", "type": "", "size": "", "contact": ""})
                                               for n in range(PAGE_SIZE + 10, 200)])
    many = [_size_and_statements(db, owner, url) for url in pages]
    for (size, statements), (more_size, more_statements) in zip(one_page, many, strict=True):
        assert more_statements == statements
        assert more_size < size * 1.05  # the page links and figures grow by a few characters, not by agencies
    assert "200 of 400 agencies have finished" in text(owner.get(pages[0]))


def test_opening_a_round_commits_once_however_many_agencies_continue(db, people, portfolio, default_rubric):
    user = accounts.create_user(db, "agencies@example.org", "Agency User", PASSWORD)
    _add_agencies(db, portfolio, default_rubric, user, [f"Agency {n}" for n in range(5)], 2)
    with counted(db) as statements:
        round_id = portfolios.open_round(db, portfolio, default_rubric, "2027", people["owner"])
    assert statements.count("COMMIT") == 1  # each commit waits for the disk: 600 of them took seconds
    assert len([r for r in portfolios.round_rows(db, portfolio, round_id) if r["finished"]]) == 5


def test_a_round_that_fails_to_open_leaves_the_previous_one_open_and_whole(db, people, portfolio, default_rubric,
                                                                           monkeypatch):
    from assessment import audit

    user = accounts.create_user(db, "agencies@example.org", "Agency User", PASSWORD)
    _add_agencies(db, portfolio, default_rubric, user, [f"Agency {n}" for n in range(3)], 2)
    before = db.execute("SELECT count(*) FROM assessments").fetchone()[0]
    real_record, started = audit.record, []

    def failing_record(db, workspace_id, user_id, action, *args, **kwargs):
        if action == "round.started":
            started.append(workspace_id)
            if len(started) == 2:  # halfway, as a full disk or a restart would
                raise OSError("disk full")
        return real_record(db, workspace_id, user_id, action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", failing_record)
    with pytest.raises(OSError):
        portfolios.open_round(db, portfolio, default_rubric, "2027", people["owner"])
    monkeypatch.setattr(audit, "record", real_record)
    (only,) = portfolios.rounds(db, portfolio)
    assert only["closed_at"] is None and db.execute("SELECT count(*) FROM assessments").fetchone()[0] == before
    assert portfolios.open_round(db, portfolio, default_rubric, "2027", people["owner"])  # it can be tried again


def _builtin_calls(function, *args) -> int:
    """How many calls of built-in functions and methods ``function`` makes: its work, counted rather than timed."""
    calls = []
    sys.setprofile(lambda frame, event, arg: calls.append(1) if event == "c_call" else None)
    try:
        function(*args)
    finally:
        sys.setprofile(None)
    return len(calls)


def _agencies_csv(count: int) -> str:
    return "name,type,size,contact\n" + "".join(f"Agency {n},agency,small,\n" for n in range(count))


def test_reading_an_agency_file_twice_as_long_is_twice_the_work_not_four_times():
    # Each line was compared with every earlier one for duplicates: the 30,000 lines that fit in
    # an upload (MAX_CONTENT_LENGTH) kept a server thread busy for minutes.
    shorter = _builtin_calls(portfolios.parse_agencies_csv, _agencies_csv(500))
    longer = _builtin_calls(portfolios.parse_agencies_csv, _agencies_csv(1000))
    assert longer < 2.2 * shorter


def _participants_answer(db, workshop_id, questions, count):
    for n in range(count):
        participant_id, _ = workshops.join(db, workshop_id, f"Participant {n}")
        workshops.save_participant_answers(db, workshop_id, participant_id, {q: str(n % 5) for q in questions})


def test_the_workshop_dashboard_reads_as_much_for_many_participants_as_for_few(db, owner, workshop, default_rubric):
    questions = [q.id for q in workshops.questions_of(default_rubric, ["data", "security"])]
    _participants_answer(db, workshop, questions, 2)
    few = [_statements(db, owner, f"/workshops/{workshop}{query}") for query in ("", "?auto=1")]
    _participants_answer(db, workshop, questions, 10)
    assert [_statements(db, owner, f"/workshops/{workshop}{query}") for query in ("", "?auto=1")] == few


def test_after_one_agency_changes_the_dashboard_scores_that_agency_only(db, people, owner, portfolio, default_rubric,
                                                                         monkeypatch):
    """Any save changes the summary's digest: the whole round was read and scored again, a second for
    1,000 agencies, on the first view after each agency's save."""
    from assessment.web import portfolios as pages

    user = accounts.create_user(db, "agencies@example.org", "Agency User", PASSWORD)
    _add_agencies(db, portfolio, default_rubric, user, [f"Agency {n}" for n in range(6)], 2)
    assert owner.get(f"/portfolios/{portfolio}").status_code == 200
    scored = []
    monkeypatch.setattr(portfolios, "score", lambda *args: scored.append(1) or pages.score(*args))
    row = portfolios.round_rows(db, portfolio, portfolios.rounds(db, portfolio)[0]["id"])[0]
    records.save_answers(db, records.get_assessment(db, row["assessment_id"]), default_rubric,
                         {qid: Answer(4) for qid in default_rubric.questions})
    page = text(owner.get(f"/portfolios/{portfolio}"))
    assert len(scored) == 1
    assert "6 of 6 agencies have finished" in page


def test_the_dashboard_looks_the_survey_figures_up_as_often_for_many_agencies_as_for_few(
        db, owner, portfolio, default_rubric, monkeypatch):
    """Each agency's linked scores looked up which linked questions have a survey figure, which depends
    on the rubric and the peers alone: a thousand times on the first view of a 1,000-agency round."""
    from assessment.peers import PeerDataset

    lookups, figure = [], PeerDataset.figure
    monkeypatch.setattr(PeerDataset, "figure", lambda self, *args: lookups.append(1) or figure(self, *args))
    user = accounts.create_user(db, "agencies@example.org", "Agency User", PASSWORD)
    _add_agencies(db, portfolio, default_rubric, user, ["Agency 1", "Agency 2"], 2)
    lookups.clear()
    assert owner.get(f"/portfolios/{portfolio}").status_code == 200
    few = len(lookups)
    _add_agencies(db, portfolio, default_rubric, user, [f"Agency {n}" for n in range(3, 13)], 3)
    lookups.clear()
    assert owner.get(f"/portfolios/{portfolio}").status_code == 200  # the ten new agencies are scored
    assert len(lookups) == few


# Each agency's figures kept in the database (migration 027), so that a restart does not score them all again.

def _restarted(app) -> None:
    """What a restart loses: the app's caches in memory (the database stays)."""
    app.extensions["sovready.caches"].clear()


def _dashboard(owner, portfolio_id) -> str:
    """The dashboard's page without its CSRF tokens, which are signed anew each second."""
    return re.sub(r'name="csrf_token" (type="hidden" )?value="[^"]*"', "", text(owner.get(f"/portfolios/{portfolio_id}")))


def _scoring_counted(monkeypatch) -> list:
    from assessment.web import portfolios as pages

    scored = []
    monkeypatch.setattr(portfolios, "score", lambda *args: scored.append(1) or pages.score(*args))
    return scored


def test_after_a_restart_the_dashboard_reads_each_agencys_figures_rather_than_scoring_them(
        app, db, owner, portfolio, default_rubric, monkeypatch):
    """The figures were kept in memory only: the first view of a 1,000-agency round after a restart
    scored every agency again, 0.6 to 0.8 s of CPU."""
    user = accounts.create_user(db, "agencies@example.org", "Agency User", PASSWORD)
    _add_agencies(db, portfolio, default_rubric, user, [f"Agency {n}" for n in range(6)], 2)
    before = _dashboard(owner, portfolio)
    _restarted(app)
    scored = _scoring_counted(monkeypatch)
    assert _dashboard(owner, portfolio) == before
    assert scored == []
    assert "6 of 6 agencies have finished" in before and "Gaps most common across agencies" in before


def test_a_kept_figure_of_earlier_answers_is_never_read(app, db, owner, portfolio, default_rubric, monkeypatch):
    user = accounts.create_user(db, "agencies@example.org", "Agency User", PASSWORD)
    _add_agencies(db, portfolio, default_rubric, user, [f"Agency {n}" for n in range(3)], 2)
    _dashboard(owner, portfolio)
    row = portfolios.round_rows(db, portfolio, portfolios.rounds(db, portfolio)[0]["id"])[0]
    records.save_answers(db, records.get_assessment(db, row["assessment_id"]), default_rubric,
                         {qid: Answer(4) for qid in default_rubric.questions})  # no gap left: a common gap less
    _restarted(app)
    scored = _scoring_counted(monkeypatch)
    after = _dashboard(owner, portfolio)
    assert len(scored) == 1  # the agency that changed, and only it
    db.execute("DELETE FROM agency_figures")
    _restarted(app)
    assert _dashboard(owner, portfolio) == after  # as if every agency were scored afresh
    assert len(scored) == 4


def test_a_kept_figure_computed_with_other_peers_or_code_is_not_read(app, db, owner, portfolio, default_rubric,
                                                                     monkeypatch):
    """The content token follows the answers only: the peer dataset, the rubric version and the code that
    computes the figures are in the key too."""
    user = accounts.create_user(db, "agencies@example.org", "Agency User", PASSWORD)
    _add_agencies(db, portfolio, default_rubric, user, [f"Agency {n}" for n in range(3)], 2)
    before = _dashboard(owner, portfolio)
    monkeypatch.setattr(portfolios, "_figures_basis", lambda rubric, peers: "another version of sovready")
    _restarted(app)
    scored = _scoring_counted(monkeypatch)
    assert _dashboard(owner, portfolio) == before and len(scored) == 3


def test_an_agencys_kept_figures_go_with_its_assessment(db, owner, portfolio, default_rubric):
    user = accounts.create_user(db, "agencies@example.org", "Agency User", PASSWORD)
    _add_agencies(db, portfolio, default_rubric, user, ["Agency 1", "Agency 2"], 2)
    _dashboard(owner, portfolio)
    kept = [row[0] for row in db.execute("SELECT assessment_id FROM agency_figures")]
    assert len(kept) == 2
    records.delete_assessment(db, kept[0])
    assert [row[0] for row in db.execute("SELECT assessment_id FROM agency_figures")] == kept[1:]


def test_the_dashboard_shows_while_its_figures_cannot_be_kept(app, db, owner, portfolio, default_rubric, caplog):
    """Keeping the figures is a saving, not the page's purpose: a database locked past the busy
    timeout (or a full disk) costs the next view a scoring, not this one its page."""
    user = accounts.create_user(db, "agencies@example.org", "Agency User", PASSWORD)
    _add_agencies(db, portfolio, default_rubric, user, [f"Agency {n}" for n in range(3)], 2)
    db.execute("PRAGMA busy_timeout = 50")  # the requests' connection: this thread's (web.get_db)
    other = sqlite3.connect(app.config["DATABASE"], isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        response = owner.get(f"/portfolios/{portfolio}")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert response.status_code == 200 and "3 of 3 agencies have finished" in text(response)
    assert "could not keep the figures of 3 agencies (the database is busy)" in caplog.text
    assert db.execute("SELECT count(*) FROM agency_figures").fetchone()[0] == 0
    _restarted(app)  # memory kept them meanwhile; the first view after a restart scores and keeps them
    _dashboard(owner, portfolio)
    assert db.execute("SELECT count(*) FROM agency_figures").fetchone()[0] == 3
