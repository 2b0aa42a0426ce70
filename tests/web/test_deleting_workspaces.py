"""Deleting a workspace: asked first with its name typed, owners only, everything of it gone in one
transaction, accounts and other workspaces left alone, and portfolios it answered in still working."""

import io
import re

import pytest
from pypdf import PdfReader

from assessment import accounts, jobs, portfolio_report, portfolios, workshops

from .conftest import PASSWORD, flashes, text
from .fuzzing import snapshot
from .test_portfolios import add_agency
from .test_reports import _render, quick_render  # noqa: F401 (a fixture)

NAME = "Acme Public Agency"  # workspace 1's (conftest)


def _count(db, sql, params) -> int:
    return db.execute(f"SELECT count(*) FROM {sql}", params).fetchone()[0]  # noqa: S608 (the tests' own SQL)


@pytest.fixture
def full(app, db, people, owner, finished, portfolio, default_rubric, quick_render):  # noqa: F811
    """Workspace 1 with an answered assessment, its PDF, a workshop with a participant's answers and a
    consensus, an open invitation and a portfolio in which the outsider answers as Agency A."""
    _render(app, owner, finished)
    workshop = workshops.create_workshop(db, finished, ["data"], people["owner"])
    participant, _ = workshops.join(db, workshop, "Pat")
    workshops.save_participant_answers(db, workshop, participant, {"data.residency": "2"})
    workshops.set_consensus(db, workshops.get_workshop(db, workshop), default_rubric, "data.residency", 2, "Agreed",
                            people["owner"])
    accounts.create_invite(db, people["workspace"], "viewer", people["owner"], 72)
    agency, agency_assessment = add_agency(db, portfolio, default_rubric, "Agency A", people["outsider"])
    return {"assessment": finished, "workshop": workshop, "participant": participant, "portfolio": portfolio,
            "agency_workspace": agency["workspace_id"], "agency_assessment": agency_assessment}


def test_the_page_says_what_goes_and_asks_for_the_name(owner, people, full):
    page = text(owner.get(f"/w/{people['workspace']}/delete"))
    assert "cannot be undone" in page and "Type the workspace&#39;s name to confirm" in page
    assert "1 assessment," in page and "3 members" in page and "1 open invitation" in page
    assert "National AI office" in page and "accounts stay" in page and "audit log" in page


def test_the_members_page_links_to_it_for_owners_only(owner, editor, people):
    assert f"/w/{people['workspace']}/delete" in text(owner.get(f"/w/{people['workspace']}/members"))
    assert f"/w/{people['workspace']}/delete" not in text(editor.get(f"/w/{people['workspace']}/members"))


def test_deleting_removes_everything_of_the_workspace_and_nothing_else(app, db, owner, people, full):
    workspace, assessment = people["workspace"], full["assessment"]
    other = [people["other_workspace"], full["agency_workspace"]]
    others_before = {table: _count(db, f"{table} WHERE workspace_id IN (?, ?)", other)
                     for table in ("assessments", "memberships", "audit")}
    assert _count(db, "report_files", []) == 1  # the workspace's assessment's, the only one rendered
    response = owner.post(f"/w/{workspace}/delete", data={"name": NAME})
    assert response.location == "/"
    assert f"{NAME} and everything in it is deleted." in flashes(owner.get("/", follow_redirects=True))
    for table in ("workspaces WHERE id = ?", "memberships WHERE workspace_id = ?", "invites WHERE workspace_id = ?",
                  "assessments WHERE workspace_id = ?", "portfolios WHERE workspace_id = ?",
                  "audit WHERE workspace_id = ?"):
        assert _count(db, table, [workspace]) == 0, table
    for table in ("answers", "scores", "workshops", "report_jobs", "round_assessments"):
        assert _count(db, f"{table} WHERE assessment_id = ?", [assessment]) == 0, table
    for table in ("participants WHERE workshop_id = ?", "consensus WHERE workshop_id = ?"):
        assert _count(db, table, [full["workshop"]]) == 0, table
    assert _count(db, "participant_answers WHERE participant_id = ?", [full["participant"]]) == 0
    for table in ("portfolio_rounds", "portfolio_agencies", "report_jobs"):
        assert _count(db, f"{table} WHERE portfolio_id = ?", [full["portfolio"]]) == 0, table
    assert _count(db, "report_files", []) == 0
    # The accounts stay, and so does every other workspace, the agency's own included.
    assert all(accounts.get_user(db, people[role]) for role in ("owner", "editor", "viewer"))
    assert {table: _count(db, f"{table} WHERE workspace_id IN (?, ?)", other) for table in others_before} == \
        others_before
    assert _count(db, "answers WHERE assessment_id = ?", [full["agency_assessment"]]) > 0


def test_the_deletion_is_in_the_instance_wide_audit_log_without_content(db, owner, people, full):
    owner.post(f"/w/{people['workspace']}/delete", data={"name": NAME})
    (entry,) = db.query("SELECT * FROM audit WHERE action = 'workspace.deleted'")
    assert entry["workspace_id"] is None and entry["user_id"] == people["owner"]
    assert entry["subject"] == f"workspace {people['workspace']}"
    assert entry["detail"] == f"{NAME}; assessments: 1; members: 3"
    assert "Workspace deleted" in text(owner.get("/admin/audit"))  # the owner is also the administrator


@pytest.mark.parametrize("typed", ["Acme", "acme public agency", f"{NAME} Ltd"])
def test_a_name_that_does_not_match_deletes_nothing(db, owner, people, full, typed):
    before = snapshot(db)
    response = owner.post(f"/w/{people['workspace']}/delete", data={"name": typed})
    assert response.status_code == 200
    assert "This is not the workspace&#39;s name" in text(response) and "Nothing was deleted." in text(response)
    assert snapshot(db) == before


@pytest.mark.parametrize(("who", "status"), [("editor", 403), ("viewer", 403), ("outsider", 404)])
def test_only_owners_delete(request, db, people, who, status):
    client = request.getfixturevalue(who)  # logged in: a session row
    before = snapshot(db)
    assert client.get(f"/w/{people['workspace']}/delete").status_code == status
    assert client.post(f"/w/{people['workspace']}/delete", data={"name": NAME}).status_code == status
    assert snapshot(db) == before


def test_without_a_csrf_token_nothing_is_deleted(db, owner, people):
    assert owner.post(f"/w/{people['workspace']}/delete", data={"name": NAME}, csrf=False).status_code == 400
    assert accounts.membership(db, people["workspace"], people["owner"])


def test_other_members_get_404_keep_their_session_and_see_the_empty_state(owner, editor, people):
    owner.post(f"/w/{people['workspace']}/delete", data={"name": NAME})
    assert editor.get(f"/w/{people['workspace']}").status_code == 404
    page = text(editor.get("/"))  # still logged in: their only workspace is gone
    assert "You are not a member of any workspace yet." in page and "New workspace" in page


def test_an_agencys_workspace_deleted_leaves_the_portfolio_working(app, db, owner, outsider, people, portfolio,
                                                                  default_rubric):
    agency, _ = add_agency(db, portfolio, default_rubric, "Agency A", people["outsider"])
    other = accounts.create_user(db, "bea@example.org", "Bea Agency", PASSWORD)
    add_agency(db, portfolio, default_rubric, "Agency B", other)
    page = text(outsider.get(f"/w/{agency['workspace_id']}/delete"))
    assert "National AI office" in page and "having left the current round" in page
    assert outsider.post(f"/w/{agency['workspace_id']}/delete", data={"name": "Agency A"}).location == "/"
    # Still listed, as having left: the portfolio's list of agencies is its owner's.
    (row,) = db.query("SELECT * FROM portfolio_agencies WHERE id = ?", [agency["id"]])
    assert row["workspace_id"] is None and row["joined_at"]
    dashboard = text(owner.get(f"/portfolios/{portfolio}"))
    assert "Agency A" in dashboard and "left the round" in dashboard and "Agency B" in dashboard
    for page in ("agencies", "export.csv", "export.json"):
        assert owner.get(f"/portfolios/{portfolio}/{page}").status_code == 200, page
    assert owner.get(f"/portfolios/{portfolio}/agencies/{agency['id']}").status_code == 404  # no results to show
    # The next round goes on without it.
    assert owner.post(f"/portfolios/{portfolio}/rounds", data={"name": "2027"}).status_code == 302
    assert text(owner.get(f"/portfolios/{portfolio}")).count("left the round") == 1
    assert portfolios.agencies_of_workspace(db, agency["workspace_id"]) == []


def test_deleting_a_workspace_that_is_gone_already_does_nothing(db, people):
    accounts.delete_workspace(db, people["workspace"], by=people["owner"])
    assert accounts.delete_workspace(db, people["workspace"], by=people["owner"]) is None
    assert _count(db, "audit WHERE action = 'workspace.deleted'", []) == 1


def test_an_agency_whose_workspace_was_deleted_is_invited_again_under_its_name(app, db, owner, outsider, people,
                                                                               portfolio, default_rubric):
    """Found by an audit: its row kept the name, unique in the portfolio, and its used invitation, so the
    owner could bring it back only under another name."""
    agency, _ = add_agency(db, portfolio, default_rubric, "Agency A", people["outsider"])
    outsider.post(f"/w/{agency['workspace_id']}/delete", data={"name": "Agency A"})
    assert "left: its workspace was deleted" in text(owner.get(f"/portfolios/{portfolio}/agencies"))
    page = text(owner.post(f"/portfolios/{portfolio}/agencies", data={"name": "Agency A", "type": "regulator"}))
    assert "is already invited" not in page
    link = re.search(r"<code>http://localhost(/portfolio-invite/[^<]+)</code>", page).group(1)
    (row,) = db.query("SELECT * FROM portfolio_agencies WHERE portfolio_id = ?", [portfolio])
    assert (row["id"], row["name"], row["type"], row["joined_at"]) == (agency["id"], "Agency A", "regulator", None)
    assert "invited, not joined" in text(owner.get(f"/portfolios/{portfolio}"))
    # The agency accepts: a new workspace of the same name, and this round's assessment.
    assert "/about" in outsider.post(link).location
    (again,) = portfolios.agencies_of_workspace(db, db.execute(
        "SELECT workspace_id FROM portfolio_agencies WHERE id = ?", [agency["id"]]).fetchone()[0])
    assert again["name"] == "Agency A" and again["workspace_id"] != agency["workspace_id"]
    # ... and it goes on into the next round.
    owner.post(f"/portfolios/{portfolio}/rounds", data={"name": "2027"})
    current = portfolios.rounds(db, portfolio)[0]["id"]
    assert portfolios.agency_assessment(db, portfolio, agency["id"], current) is not None
    assert owner.post(link).status_code == 404  # the new link works once, as any
    dashboard = text(owner.get(f"/portfolios/{portfolio}"))
    assert "left the round" not in dashboard and "invited, not joined" not in dashboard



def test_an_agency_with_its_workspace_keeps_its_name(db, people, portfolio, default_rubric):
    add_agency(db, portfolio, default_rubric, "Agency A", people["outsider"])
    row = {"name": "agency a", "type": "", "size": "", "contact": ""}
    with pytest.raises(portfolios.AgencyRowsError, match="'agency a' is already invited"):
        portfolios.invite_agencies(db, portfolio, [(2, row)])


def test_a_closed_round_says_how_many_agencies_deleted_their_data_since(app, db, owner, outsider, people, portfolio,
                                                                       default_rubric):
    """Found by an audit: an agency's workspace deleted took its results out of the rounds already closed,
    which the owner then saw one agency smaller, without a word."""
    agency, _ = add_agency(db, portfolio, default_rubric, "Agency A", people["outsider"])
    add_agency(db, portfolio, default_rubric, "Agency B", accounts.create_user(db, "bea@example.org", "Bea", PASSWORD))
    owner.post(f"/portfolios/{portfolio}/rounds", data={"name": "2027"})
    outsider.post(f"/w/{agency['workspace_id']}/delete", data={"name": "Agency A"})
    current, closed = portfolios.rounds(db, portfolio)
    assert (current["deleted_after_closing"], closed["deleted_after_closing"]) == (0, 1)  # the open round: "left"
    page = text(owner.get(f"/portfolios/{portfolio}?round={closed['id']}"))
    assert "1 of 1 agencies have finished" in page
    assert "1 agency deleted its data after the round closed: it is no longer in its figures." in page
    assert "1 agency (of any type or size) deleted its data" in text(
        owner.get(f"/portfolios/{portfolio}?round={closed['id']}&type=ministry"))
    assert "deleted its data" not in text(owner.get(f"/portfolios/{portfolio}"))
    inputs = jobs.portfolio_inputs(db, portfolio, closed["id"])
    content = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(
        portfolio_report.render_pdf(**inputs))).pages).split())
    assert "1 agency deleted its data after the round closed: it is no longer in its figures." in content
    digest = jobs.portfolio_digest(db, portfolio, closed["id"])
    db.execute("UPDATE portfolio_rounds SET deleted_after_closing = 0 WHERE id = ?", [closed["id"]])
    assert jobs.portfolio_digest(db, portfolio, closed["id"]) != digest
    accounts.delete_workspace(db, people["workspace"])  # the portfolio's own, with its rounds: nothing in the way
    assert _count(db, "portfolio_rounds WHERE portfolio_id = ?", [portfolio]) == 0
