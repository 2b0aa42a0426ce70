"""The portfolio PDF's digest, read from change tokens: new whenever anything in the PDF would change, else the same."""

import pytest

from assessment import accounts, jobs, portfolios, records
from assessment.answers import Answer

from .conftest import OWNER, PASSWORD
from .test_portfolios import add_agency, invite


@pytest.fixture
def scenario(db, people, portfolio, default_rubric):
    """Agency A (ministry, large) and B (regulator, small) finished; C invited, not joined."""
    user_b = accounts.create_user(db, "agency-b@example.org", "Bea Agency", PASSWORD)
    a = add_agency(db, portfolio, default_rubric, "Agency A", people["outsider"])
    b = add_agency(db, portfolio, default_rubric, "Agency B", user_b, type_="regulator", size="small")
    c = invite(db, portfolio, "Agency C")
    db.conn.commit()
    return {"a": a, "b": b, "c": c, "user_b": user_b}


def _digest(db, portfolio, filters=None):
    return jobs.portfolio_digest(db, portfolio, portfolios.rounds(db, portfolio)[0]["id"], filters)


def _answer(db, portfolio, rubric, scenario):
    assessment = records.get_assessment(db, scenario["b"][1])
    records.save_answers(db, assessment, rubric, {"data.residency": Answer(0)})


def _target(db, portfolio, rubric, scenario):
    assessment = records.get_assessment(db, scenario["b"][1])
    records.save_answers(db, assessment, rubric, {}, targets={"data.residency": 1})


def _join(db, portfolio, rubric, scenario):
    portfolios.join(db, scenario["c"].token, scenario["user_b"], rubric)


def _close(db, portfolio, rubric, scenario):
    portfolios.open_round(db, portfolio, rubric, "2027", None)


CHANGES = {
    "an agency invited": lambda db, portfolio, rubric, scenario: invite(db, portfolio, "Agency D"),
    "an agency renamed": lambda db, portfolio, rubric, scenario: db.execute(
        "UPDATE portfolio_agencies SET name = 'Agency Z' WHERE id = ?", [scenario["a"][0]["id"]]),
    "an agency removed": lambda db, portfolio, rubric, scenario: db.execute(
        "DELETE FROM portfolio_agencies WHERE id = ?", [scenario["c"].id]),
    "an agency's type changed": lambda db, portfolio, rubric, scenario: db.execute(
        "UPDATE portfolio_agencies SET type = 'regulator' WHERE id = ?", [scenario["a"][0]["id"]]),
    "an answer changed": _answer,
    "a target changed": _target,
    "an agency joined": _join,
    "an assessment deleted": lambda db, portfolio, rubric, scenario: records.delete_assessment(db, scenario["a"][1]),
    "the portfolio renamed": lambda db, portfolio, rubric, scenario: db.execute(
        "UPDATE portfolios SET name = 'Renamed' WHERE id = ?", [portfolio]),
    "the round renamed": lambda db, portfolio, rubric, scenario: db.execute(
        "UPDATE portfolio_rounds SET name = '2026 bis' WHERE portfolio_id = ?", [portfolio]),
    "the round closed": _close,
    "the deleted-after-closing count": lambda db, portfolio, rubric, scenario: db.execute(
        "UPDATE portfolio_rounds SET deleted_after_closing = 1 WHERE portfolio_id = ?", [portfolio]),
    "the rubric's stored text": lambda db, portfolio, rubric, scenario: db.execute(
        "UPDATE rubrics SET sha256 = 'changed' WHERE id = ? AND version = ?", [rubric.id, rubric.version]),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_anything_the_pdf_shows_changing_gives_a_new_digest(db, portfolio, default_rubric, scenario, change):
    round_id = portfolios.rounds(db, portfolio)[0]["id"]
    before = jobs.portfolio_digest(db, portfolio, round_id)
    change(db, portfolio, default_rubric, scenario)
    db.conn.commit()
    assert jobs.portfolio_digest(db, portfolio, round_id) != before


def _contact(db, portfolio, rubric, scenario):
    db.execute("UPDATE portfolio_agencies SET contact = 'new@example.org' WHERE id = ?", [scenario["a"][0]["id"]])


def _same_answer(db, portfolio, rubric, scenario):
    assessment = records.get_assessment(db, scenario["b"][1])
    stored = records.answer_set(db, assessment).answers["data.residency"]
    records.save_answers(db, assessment, rubric, {"data.residency": stored})


def _other_assessment(db, portfolio, rubric, scenario):
    records.create_assessment(db, scenario["b"][0]["workspace_id"], rubric, "Another review")


def _report_asked(db, portfolio, rubric, scenario):
    round_id = portfolios.rounds(db, portfolio)[0]["id"]
    jobs.request_portfolio_report(db, portfolio, round_id, _digest(db, portfolio), None)


def _other_portfolio(db, portfolio, rubric, scenario):
    workspace = portfolios.get_portfolio(db, portfolio)["workspace_id"]
    other = portfolios.create_portfolio(db, workspace, "Other office", rubric, "2026", None)
    add_agency(db, other, rubric, "Agency A", scenario["user_b"])


UNSEEN = {
    "a contact changed": _contact,
    "a fresh link": lambda db, portfolio, rubric, scenario: portfolios.renew_link(db, portfolio, scenario["c"].id),
    "answers saved unchanged": _same_answer,
    "another assessment of an agency's workspace": _other_assessment,
    "a report asked for": _report_asked,
    "another portfolio's agency": _other_portfolio,
}


@pytest.mark.parametrize("change", UNSEEN.values(), ids=UNSEEN.keys())
def test_nothing_else_gives_a_new_digest(db, portfolio, default_rubric, scenario, change):
    before = _digest(db, portfolio)
    change(db, portfolio, default_rubric, scenario)
    db.conn.commit()
    assert _digest(db, portfolio) == before


def test_each_filter_has_its_digest_and_ignores_the_agencies_it_leaves_out(db, portfolio, default_rubric, scenario):
    digests = {_digest(db, portfolio, filters) for filters in ({}, {"type": "regulator"}, {"size": "small"})}
    assert len(digests) == 3
    regulators = _digest(db, portfolio, {"type": "regulator"})
    records.save_answers(db, records.get_assessment(db, scenario["a"][1]), default_rubric,
                         {"data.residency": Answer(0)})  # agency A is a ministry
    assert _digest(db, portfolio, {"type": "regulator"}) == regulators
    invite(db, portfolio, "Agency D")  # the cover says "1 of 4" now
    assert _digest(db, portfolio, {"type": "regulator"}) != regulators


def test_the_previous_rounds_agencies_are_in_the_digest(db, portfolio, default_rubric, scenario):
    """The PDF shows each agency's change since the previous round."""
    closed = portfolios.rounds(db, portfolio)[0]["id"]
    portfolios.open_round(db, portfolio, default_rubric, "2027", None)
    before = _digest(db, portfolio)
    records.delete_assessment(db, portfolios.agency_assessment(db, portfolio, scenario["a"][0]["id"], closed))
    assert _digest(db, portfolio) != before


def test_a_round_or_portfolio_that_is_gone_has_no_digest(db, portfolio, scenario):
    assert jobs.portfolio_digest(db, portfolio, 999) is None
    assert jobs.portfolio_digest(db, 999, 1) is None


def test_the_report_status_page_scores_no_agency(owner, db, portfolio, scenario, monkeypatch):
    """It refreshes every 2 s while the PDF renders: scoring every agency each time cost 600 ms for 300."""
    def refuse(*args, **kwargs):
        raise AssertionError("the status page scored the round")
    monkeypatch.setattr(portfolios, "summary", refuse)
    assert owner.get(f"/portfolios/{portfolio}/report").status_code == 200


def test_the_dashboard_scores_the_agencies_once_until_one_changes(app, db, portfolio, default_rubric, scenario,
                                                                   monkeypatch):
    """Each page, sort or search of the dashboard of a 1,000-agency round scored every agency again
    (0.7 s): the summary is kept under the digest, which every change the dashboard shows replaces."""
    made, summary = [], portfolios.summary
    monkeypatch.setattr(portfolios, "summary", lambda *args: made.append(summary(*args)) or made[-1])
    owner = app.test_client().login(OWNER)
    for query in ("", "?page=1", "?sort=index&order=desc", "?q=agency"):
        assert owner.get(f"/portfolios/{portfolio}{query}").status_code == 200
    assert len(made) == 1
    _answer(db, portfolio, default_rubric, scenario)
    db.conn.commit()
    assert owner.get(f"/portfolios/{portfolio}?page=1").status_code == 200
    assert len(made) == 2
    b = scenario["b"][0]["id"]
    assert [r["overall"] for r in made[1].rows if r["id"] == b] != [r["overall"] for r in made[0].rows if r["id"] == b]
    assert owner.get(f"/portfolios/{portfolio}?type=regulator").status_code == 200
    assert len(made) == 3  # another filter, another summary
