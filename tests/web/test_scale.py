"""Pages at the scale their users bring: what a page reads must not grow with what it lists.

Each test counts the SQL statements a page makes for a few rows, then for more: a statement
per agency or participant (an N+1 query) turns a 300-agency portfolio into hundreds of them.
"""

from contextlib import contextmanager

from assessment import accounts, portfolios, records
from assessment.answers import Answer

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


def test_the_portfolio_dashboard_reads_as_much_for_many_finished_agencies_as_for_few(
        db, people, owner, portfolio, default_rubric):
    user = accounts.create_user(db, "agencies@example.org", "Agency User", PASSWORD)
    _add_agencies(db, portfolio, default_rubric, user, ["Agency 1", "Agency 2"], 2)
    few = _statements(db, owner, f"/portfolios/{portfolio}")
    _add_agencies(db, portfolio, default_rubric, user, [f"Agency {n}" for n in range(3, 13)], 3)
    many = _statements(db, owner, f"/portfolios/{portfolio}")
    assert many == few
    assert "12 of 12 agencies have finished" in text(owner.get(f"/portfolios/{portfolio}"))


def test_the_portfolio_reports_page_reads_as_much_for_many_finished_agencies_as_for_few(
        db, people, owner, portfolio, default_rubric):
    user = accounts.create_user(db, "agencies@example.org", "Agency User", PASSWORD)
    _add_agencies(db, portfolio, default_rubric, user, ["Agency 1", "Agency 2"], 2)
    few = _statements(db, owner, f"/portfolios/{portfolio}/report")
    _add_agencies(db, portfolio, default_rubric, user, [f"Agency {n}" for n in range(3, 13)], 3)
    assert _statements(db, owner, f"/portfolios/{portfolio}/report") == few
