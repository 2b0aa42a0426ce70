"""Portfolios: owner access, agency isolation, the anonymity threshold, rounds, bulk invitations, exports."""

import csv
import html
import io
import json
import logging
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from pypdf import PdfReader
from weasyprint import HTML

from assessment import accounts, jobs, pdf, portfolio_report, portfolios, records, storage, workshops
from assessment.answers import Answer, load_answers
from assessment.cohorts import MIN_COHORT
from assessment.paths import EXAMPLES
from assessment.scoring import score
from assessment.textreport import figure
from assessment.web.participate import ROUND_CLOSED

from .conftest import (
    NO_NEW_ACCOUNT,
    OUTSIDER,
    PASSWORD,
    create_account,
    csv_text,
    flashes,
    stored_form,
    text,
    without_secrets,
)

AGENCY_B = "agency-b@example.org"
TODAY = date.today().isoformat()


def invite(db, portfolio_id, name, type_="ministry", size="large", contact=""):
    row = {"name": name, "type": type_, "size": size, "contact": contact}
    return portfolios.invite_agencies(db, portfolio_id, [(2, row)])[0]


def add_agency(db, portfolio_id, rubric, name, user_id, finished=True, **fields):
    """An agency that joined as ``user_id``; with the mid-maturity example's answers when finished."""
    invited = invite(db, portfolio_id, name, **fields)
    agency, assessment_id = portfolios.join(db, invited.token, user_id, rubric)
    if finished:
        answers = load_answers(EXAMPLES / "mid-enterprise.yaml", rubric)
        records.save_answers(db, records.get_assessment(db, assessment_id), rubric, dict(answers.answers))
    return agency, assessment_id


@pytest.fixture
def two_agencies(db, people, portfolio, default_rubric):
    """Agency A answered by the outsider, agency B by its own user."""
    user_b = accounts.create_user(db, AGENCY_B, "Bea Agency", PASSWORD)
    a = add_agency(db, portfolio, default_rubric, "Agency A", people["outsider"])
    b = add_agency(db, portfolio, default_rubric, "Agency B", user_b, type_="regulator", size="small")
    return a, b


def test_owner_sees_the_dashboard_with_every_section(owner, portfolio, two_agencies):
    page = text(owner.get(f"/portfolios/{portfolio}"))
    assert "Agency A" in page and "Agency B" in page
    assert 'class="chart heatmap"' in page and 'role="img"' in page and "<title id=\"heatmap-title\">" in page
    assert 'class="chart boxplot"' in page
    assert "2 of 2 agencies have finished" in page
    assert "Gaps most common across agencies" in page


def test_the_survey_peer_is_beside_the_agencies_median_on_the_same_questions(owner, db, portfolio, two_agencies,
                                                                           default_rubric):
    summary = portfolios.summary(db, portfolio, default_rubric, portfolios.rounds(db, portfolio)[0]["id"])
    # Both agencies answered as the mid-enterprise example: 55 on all of Data sovereignty, 50 on its linked question.
    assert summary.dimensions["data"].median == 55 and summary.linked_medians["data"] == 50
    assert summary.linked_medians["security"] is None
    page = text(owner.get(f"/portfolios/{portfolio}"))
    assert "Agencies' median, same questions" in page and "Median peer, same questions" in page


def test_owner_filters_by_type_and_size(owner, portfolio, two_agencies):
    page = text(owner.get(f"/portfolios/{portfolio}?type=regulator&size=small"))
    assert "1 of 1 agencies have finished" in page
    assert "Agency A" not in page.split("<h2 id=\"agencies\">Agencies</h2>")[1]


def _links(page: str, label: str) -> list[str]:
    """The hrefs in the navigation landmark named ``label``."""
    nav = re.search(rf'<nav class="pages" aria-label="{label}">(.*?)</nav>', page, re.S).group(1)
    return [html.unescape(href) for href in re.findall(r'href="([^"]+)"', nav)]


def test_the_dashboard_lists_agencies_a_page_at_a_time_keeping_filters_search_and_sort(owner, db, portfolio):
    rows = [(2, {"name": f"Agency {n:02d}", "type": "regulator", "size": "", "contact": ""}) for n in range(60)]
    portfolios.invite_agencies(db, portfolio, [*rows, (2, {"name": "Ministry", "type": "ministry", "size": "",
                                                           "contact": ""})])
    url = f"/portfolios/{portfolio}?type=regulator&q=agency&sort=name&order=desc"
    page = text(owner.get(url))
    assert "Agency 59" in page and "Agency 09" not in page and "Ministry" not in page.split('id="agencies"')[1]
    assert '<th scope="col" aria-sort="descending"><a' in page and page.count("aria-sort=") == 1
    assert "60 agencies whose name contains “agency”, page 1 of 2" in page
    following = _links(page, "Pages of agencies")[-1]
    assert all(part in following for part in ("type=regulator", "q=agency", "sort=name", "order=desc", "page=2"))
    second = text(owner.get(following))
    assert "Agency 09" in second and "Agency 59" not in second and 'aria-current="page"><span class="visually-hidden">Page </span>2' in second
    # A refused new round shows the dashboard in answer to the POST: its links still lead to the dashboard.
    refused = text(owner.post(f"/portfolios/{portfolio}/rounds?type=regulator", data={"name": ""}))
    assert "Name the new round." in refused and all(
        link.startswith(f"/portfolios/{portfolio}?") for link in _links(refused, "Pages of agencies"))


def test_the_agencies_page_lists_invited_agencies_a_page_at_a_time_and_finds_them_by_name(owner, db, portfolio):
    portfolios.invite_agencies(db, portfolio, [(2, {"name": f"Agency {n:02d}", "type": "", "size": "", "contact": ""})
                                               for n in range(60)])
    page = text(owner.get(f"/portfolios/{portfolio}/agencies"))
    assert "Agency 49" in page and "Agency 50" not in page and "60 of 60 agencies, by name; page 1 of 2" in page
    assert _links(page, "Pages of invited agencies")[-1] == f"/portfolios/{portfolio}/agencies?page=2"
    found = text(owner.get(f"/portfolios/{portfolio}/agencies?q=agency+5"))
    assert "10 of 60 agencies whose name contains “agency 5”" in found and "Agency 59" in found
    # After an invitation (a POST) the page links lead to the agencies page, not to the form's URL.
    invited = text(owner.post(f"/portfolios/{portfolio}/agencies", data={"name": "Tax office"}))
    assert "/portfolio-invite/" in invited
    assert _links(invited, "Pages of invited agencies")[-1] == f"/portfolios/{portfolio}/agencies?page=2"


def test_owner_drills_down_read_only(app, owner, portfolio, two_agencies):
    (agency_b, assessment_b) = two_agencies[1]
    page = owner.get(f"/portfolios/{portfolio}/agencies/{agency_b['id']}")
    assert page.status_code == 200 and "read-only" in text(page)
    # The owner never joins the agency's workspace: its pages, and its answers, stay closed.
    assert owner.get(f"/a/{assessment_b}/about").status_code == 404
    assert owner.post(f"/a/{assessment_b}/delete").status_code == 404


def test_the_owner_reads_an_agencys_scores_as_the_agency_does(db, owner, portfolio, two_agencies, default_rubric):
    """The portfolio pages wrote whole numbers (45) where the agency's own results page, the
    PDFs and the command line write one decimal (45.3)."""
    (agency_b, assessment_b) = two_agencies[1]
    page = text(owner.get(f"/portfolios/{portfolio}/agencies/{agency_b['id']}"))
    answers = records.answer_set(db, records.get_assessment(db, assessment_b))
    shown = figure(score(default_rubric, answers).overall)
    assert re.fullmatch(r"\d+\.\d", shown)
    assert f"Readiness index <strong>{shown}</strong>" in page


def test_members_who_are_not_owners_are_refused(editor, outsider, portfolio):
    assert editor.get(f"/portfolios/{portfolio}").status_code == 403
    assert outsider.get(f"/portfolios/{portfolio}").status_code == 404


def test_an_agency_never_reaches_another_agencys_answers(app, portfolio, two_agencies):
    (agency_a, _), (agency_b, assessment_b) = two_agencies
    client_a = app.test_client().login("outsider@example.org")
    for url in (f"/a/{assessment_b}/results", f"/a/{assessment_b}/about", f"/a/{assessment_b}/export.json",
                f"/a/{assessment_b}/answers.csv", f"/a/{assessment_b}/gaps.csv", f"/a/{assessment_b}/report",
                f"/portfolios/{portfolio}", f"/portfolios/{portfolio}/agencies/{agency_b['id']}", f"/portfolios/{portfolio}/export.csv",
                f"/portfolios/{portfolio}/export.json", f"/portfolios/{portfolio}/report.pdf",
                f"/portfolios/{portfolio}/report",
                f"/w/{agency_b['workspace_id']}/portfolio"):
        assert client_a.get(url).status_code == 404, url
    assert client_a.get(f"/w/{agency_a['workspace_id']}/portfolio").status_code == 200


def _agency_view(client, workspace_id) -> str:
    return text(client.get(f"/w/{workspace_id}/portfolio"))


def _own_agency(db, portfolio, rubric, number, **kwargs):
    """An agency joined by a user of its own (agency<number>@example.org)."""
    user = accounts.create_user(db, f"agency{number}@example.org", f"Agent {number}", PASSWORD)
    return add_agency(db, portfolio, rubric, f"Agency {number}", user, **kwargs)


def test_distribution_is_withheld_below_five_other_finished_agencies(app, db, portfolio, default_rubric):
    assert MIN_COHORT == 5
    agency, _ = _own_agency(db, portfolio, default_rubric, 0)
    for i in range(1, 5):
        _own_agency(db, portfolio, default_rubric, i)
    _own_agency(db, portfolio, default_rubric, 9, finished=False)
    client = app.test_client().login("agency0@example.org")
    page = _agency_view(client, agency["workspace_id"])
    assert "This cohort has 4 organizations" in page and "anonymised" not in page  # 5 finished, 4 of them others
    _own_agency(db, portfolio, default_rubric, 5)
    page = _agency_view(client, agency["workspace_id"])
    assert "5 other finished agencies, anonymised" in page and "This cohort has" not in page


def _answer_all(db, assessment_id, rubric, level):
    records.save_answers(db, records.get_assessment(db, assessment_id), rubric,
                         {q: Answer(level) for q in rubric.questions})


def _shown_figures(page: str) -> list[str]:
    return re.findall(r"<td>(\d+|–)</td>", page.split("anonymised")[1])


def test_an_agency_cannot_read_the_others_scores_by_changing_its_own(app, db, portfolio, default_rubric):
    """Found by an audit: the agency was in its own cohort, so all-0 then all-4 answers moved the
    quartiles onto the other agencies' exact scores."""
    agencies = [_own_agency(db, portfolio, default_rubric, i, finished=False) for i in range(6)]
    for i, (_, assessment_id) in enumerate(agencies):  # each of the others at a level of its own
        _answer_all(db, assessment_id, default_rubric, i % 5)
    (agency, assessment_id) = agencies[0]
    client = app.test_client().login("agency0@example.org")
    shown = []
    for level in (0, 4):
        _answer_all(db, assessment_id, default_rubric, level)
        shown.append(_shown_figures(_agency_view(client, agency["workspace_id"])))
    assert shown[0] == shown[1] and "–" not in shown[0]


def test_agencies_the_viewer_also_belongs_to_neither_count_nor_show(app, db, people, portfolio, default_rubric):
    """One person in two agencies' workspaces could otherwise move the figures with the other one."""
    agency, _ = _own_agency(db, portfolio, default_rubric, 0)
    for i in range(1, 5):
        _own_agency(db, portfolio, default_rubric, i)
    add_agency(db, portfolio, default_rubric, "Agency joined by agency 0's user too",
               accounts.get_user_by_email(db, "agency0@example.org")["id"])
    page = _agency_view(app.test_client().login("agency0@example.org"), agency["workspace_id"])
    assert "This cohort has 4 organizations" in page


def test_a_new_round_continues_each_agency_and_shows_the_changes(db, people, portfolio, two_agencies, default_rubric):
    (agency_a, assessment_a), _ = two_agencies
    round_id = portfolios.open_round(db, portfolio, default_rubric, "2027", people["owner"])
    new_a = portfolios.agency_assessment(db, portfolio, agency_a["id"], round_id)
    assessment = records.get_assessment(db, new_a)
    assert assessment.parent_id == assessment_a and assessment.title == "Agency A (2027)"
    first = default_rubric.dimensions[0].questions[0].id
    records.save_answers(db, assessment, default_rubric, {q.id: Answer(4) for q in default_rubric.dimensions[0].questions})
    summary = portfolios.summary(db, portfolio, default_rubric, round_id)
    assert summary.deltas[agency_a["id"]] > 0
    assert summary.deltas[two_agencies[1][0]["id"]] == 0
    assert summary.dimension_deltas[default_rubric.dimensions[0].id] > 0
    assert records.answer_set(db, assessment).answers[first].value == 4


def test_dashboard_shows_round_changes(owner, db, people, portfolio, two_agencies, default_rubric):
    portfolios.open_round(db, portfolio, default_rubric, "2027", people["owner"])
    page = text(owner.get(f"/portfolios/{portfolio}"))
    assert "National AI office · 2027" in page and "0.0 since the previous round" in page


def _upload(client, portfolio_id, content: str, **kwargs):
    data = {"file": (io.BytesIO(content.encode()), "agencies.csv")}
    return client.post(f"/portfolios/{portfolio_id}/agencies/upload", data=data, content_type="multipart/form-data", **kwargs)


def _agency_count(db, portfolio_id) -> int:
    return db.execute("SELECT count(*) FROM portfolio_agencies WHERE portfolio_id = ?", [portfolio_id]).fetchone()[0]


def test_bulk_invitations_from_csv(owner, db, portfolio):
    page = text(_upload(owner, portfolio, "name,type,size,contact\nTax office,agency,large,it@tax.example\n"
                                          "Health ministry,ministry,large,\n"))
    assert _agency_count(db, portfolio) == 2
    links = re.findall(r"http://localhost/portfolio-invite/[\w-]+", page)
    assert len(links) == 2
    assert owner.get(links[0].removeprefix("http://localhost")).status_code == 200


@pytest.mark.parametrize(("content", "expected"), [
    ("name,type,size,contact\nGood,a,b,\n,a,b,\nOther,a,b,not-an-email\nShort,a\n",
     ["Line 3: the name is empty", "Line 4: contact &#39;not-an-email&#39; is not an email address",
      "Line 5: expected 4 columns, found 2"]),
    ("name,type,size,contact\nTwin,a,b,\ntwin,a,b,\n", ["Line 3: &#39;twin&#39; is already on line 2"]),
    ("agency,kind\nGood,a\n", ["Line 1: the header must be name,type,size,contact"]),
    # Found by fuzzing: a header alone invited no one and said nothing.
    ("name,type,size,contact\n\n", ["the file lists no agencies below its header"]),
    # Found by hostile-input probing: a field over the csv module's limit was a csv.Error, a 500.
    ("name,type,size,contact\nGood,a,b,\n\"" + "x" * 200_000 + "\",a,b,\n",
     ["Line 3: the file cannot be read as CSV (field larger than field limit (131072))"]),
])
def test_malformed_rows_are_reported_line_by_line_and_nothing_is_imported(owner, db, portfolio, content, expected):
    page = text(_upload(owner, portfolio, content))
    assert "Nothing was imported" in page
    for message in expected:
        assert message in page
    assert _agency_count(db, portfolio) == 0


def _upload_bytes(client, portfolio_id, content: bytes, filename="agencies.csv"):
    data = {"file": (io.BytesIO(content), filename)}
    return client.post(f"/portfolios/{portfolio_id}/agencies/upload", data=data, content_type="multipart/form-data")


def _names(db, portfolio_id) -> list[str]:
    return [name for (name,) in db.execute("SELECT name FROM portfolio_agencies WHERE portfolio_id = ? ORDER BY id",
                                           [portfolio_id])]


# Excel in many European locales saves "CSV" with semicolons (the comma is the decimal sign there)
# and "Unicode text" as UTF-16 with tabs: both were refused, the first for its header.
@pytest.mark.parametrize(("content", "filename"), [
    ("name;type;size;contact\r\nCaf\u00e9 des ministres, Paris;agency;large;it@tax.example\r\n"
     "Sant\u00e9 publique;ministry;;\r\n".encode(), "agencies.csv"),
    ("name\ttype\tsize\tcontact\r\nCaf\u00e9 des ministres, Paris\tagency\tlarge\tit@tax.example\r\n"
     "Sant\u00e9 publique\tministry\t\t\r\n".encode("utf-16"), "agencies.txt"),
    ("\ufeffname,type,size,contact\r\n\"Caf\u00e9 des ministres, Paris\",agency,large,it@tax.example\r\n"
     "Sant\u00e9 publique,ministry,,\r\n".encode("utf-16-be"), "agencies.csv"),
])
def test_semicolon_and_utf16_files_from_excel_are_read(owner, db, portfolio, content, filename):
    page = text(_upload_bytes(owner, portfolio, content, filename))
    assert "Nothing was imported" not in page and len(re.findall(r"/portfolio-invite/[\w-]+", page)) == 2
    assert _names(db, portfolio) == ["Caf\u00e9 des ministres, Paris", "Sant\u00e9 publique"]


def test_a_file_in_a_windows_code_page_is_refused_saying_how_to_save_it(owner, db, portfolio):
    # Excel's plain "CSV" is in the machine's code page (cp1252 in Western Europe, cp1250 in
    # Central Europe...), which the bytes do not name: guessing would misspell names silently.
    content = "name;type;size;contact\r\nSant\u00e9 publique;ministry;;\r\n".encode("cp1252")
    page = text(_upload_bytes(owner, portfolio, content))
    assert "Nothing was imported" in page and "is not UTF-8 text" in page
    assert "CSV UTF-8 (Comma delimited)" in page and "Unicode text" in page
    assert _names(db, portfolio) == []


def test_a_contact_shared_by_agencies_is_accepted_by_the_file_as_by_the_form(owner, db, portfolio):
    """Found by an audit: the file refused a contact on two lines, while the form accepted it for a second agency.
    A shared IT service is the contact of several agencies; each agency still gets its own link."""
    page = text(_upload(owner, portfolio, "name,type,size,contact\nOne,a,b,it@gov.example\nTwo,a,b,IT@gov.example\n"))
    assert "Nothing was imported" not in page and len(re.findall(r"/portfolio-invite/[\w-]+", page)) == 2
    form = {"name": "Three", "type": "", "size": "", "contact": "it@gov.example"}
    assert "/portfolio-invite/" in text(owner.post(f"/portfolios/{portfolio}/agencies", data=form))
    contacts = db.execute("SELECT lower(contact) FROM portfolio_agencies WHERE portfolio_id = ?", [portfolio])
    assert [c for (c,) in contacts] == ["it@gov.example"] * 3


def test_names_already_invited_refuse_the_whole_file(owner, db, portfolio):
    invite(db, portfolio, "Tax office")
    page = text(_upload(owner, portfolio, "name,type,size,contact\nNew one,a,b,\nTax office,a,b,\n"))
    assert "Line 3: &#39;Tax office&#39; is already invited" in page
    assert _agency_count(db, portfolio) == 1


def _tag(page: str, field_id: str) -> str:
    return re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>', page).group(0)


def test_a_refused_agency_form_shows_its_own_problem_beside_the_name_and_keeps_what_was_typed(owner, db, portfolio):
    invite(db, portfolio, "Tax office")
    page = text(owner.post(f"/portfolios/{portfolio}/agencies",
                           data={"name": "Tax office", "type": "ministry", "contact": "it@tax.example"}))
    assert page.startswith("<!doctype html>") and "<title>Error: Agencies" in page
    one = page[page.index("<h2>Invite one agency</h2>"):page.index("<h2>Invite many from a CSV file</h2>")]
    assert '<a href="#name">Agency name: &#39;Tax office&#39; is already invited</a>' in one
    assert 'aria-invalid="true"' in _tag(page, "name") and 'aria-describedby="name-errors"' in _tag(page, "name")
    assert 'value="ministry"' in _tag(page, "type") and 'value="it@tax.example"' in _tag(page, "contact")
    assert "Nothing was imported" not in page and "aria-invalid" not in _tag(page, "file")
    assert _agency_count(db, portfolio) == 1


def test_a_refused_csv_shows_its_problems_with_the_file_field_and_tied_to_it(owner, db, portfolio):
    invite(db, portfolio, "Tax office")
    page = text(_upload(owner, portfolio, "name,type,size,contact\nTax office,a,b,\n"))
    assert "<title>Error: Agencies" in page
    many = page[page.index("<h2>Invite many from a CSV file</h2>"):page.index('<h2 id="invited">')]
    assert 'id="agency-problems"' in many and "Line 2: &#39;Tax office&#39; is already invited" in many
    file_field = _tag(page, "file")
    assert 'aria-invalid="true"' in file_field and 'aria-describedby="file-help agency-problems"' in file_field
    assert "aria-invalid" not in _tag(page, "name") and "There is a problem" not in page  # the other form's
    assert "Nothing was imported" in page and page.count("Nothing was imported") == 1


def test_a_csv_form_sent_without_a_file_says_so_in_the_title(owner, portfolio):
    page = text(owner.post(f"/portfolios/{portfolio}/agencies/upload", data={}, content_type="multipart/form-data"))
    assert "<title>Error: Agencies" in page and '<a href="#file">' in page


def test_a_new_user_accepts_an_invitation_once(app, db, portfolio):
    invited = invite(db, portfolio, "Statistics office")
    client = app.test_client()
    response = client.post(f"/portfolio-invite/{invited.token}", data={"name": "Stan", "email": "stan@stats.example",
                                                           "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 302 and "/about" in response.headers["Location"]
    agency = db.execute("SELECT workspace_id, joined_at FROM portfolio_agencies WHERE name = ?",
                        ["Statistics office"]).fetchone()
    assert agency[1] is not None
    assert records.assessments_in(db, agency[0])[0]["organization"] == "Statistics office"
    assert app.test_client().get(f"/portfolio-invite/{invited.token}").status_code == 404


def test_a_taken_email_closes_the_agency_link_to_new_accounts(app, db, owner, people, portfolio):
    url = f"/portfolio-invite/{invite(db, portfolio, 'Statistics office').token}"
    prober = app.test_client()
    response = create_account(prober, url, " EDITOR@example.org ")
    page = html.unescape(text(response))
    assert response.status_code == 200 and f'<a href="#email">Email address: {NO_NEW_ACCOUNT}</a>' in page
    assert flashes(response) == []
    # From now on a free address and a taken one get the same answer: the link asks no second question.
    free, taken = create_account(prober, url, "nobody@example.org"), create_account(prober, url, OUTSIDER)
    assert without_secrets(text(free)) == without_secrets(text(taken)) == without_secrets(text(response))
    assert accounts.get_user_by_email(db, "nobody@example.org") is None
    assert "Create account and accept" not in text(prober.get(url))  # it offers the log-in instead
    assert "for an existing account only" in text(owner.get(f"/portfolios/{portfolio}/agencies"))


def test_after_a_taken_email_the_agency_still_joins_by_logging_in(app, db, people, portfolio):
    url = f"/portfolio-invite/{invite(db, portfolio, 'Statistics office').token}"
    holder = app.test_client()
    create_account(holder, url, OUTSIDER)
    page = html.unescape(text(holder.get(url)))
    assert NO_NEW_ACCOUNT in page and f'href="/login?next={url}"' in page
    holder.login(OUTSIDER)
    assert "/about" in holder.post(url).location
    (joined,) = db.execute("SELECT joined_at FROM portfolio_agencies WHERE name = 'Statistics office'").fetchone()
    assert joined is not None


def test_a_new_link_for_the_agency_makes_an_account_again(app, db, people, portfolio):
    invited = invite(db, portfolio, "Statistics office")
    create_account(app.test_client(), f"/portfolio-invite/{invited.token}", OUTSIDER)
    fresh = portfolios.renew_link(db, portfolio, invited.id)
    response = create_account(app.test_client(), f"/portfolio-invite/{fresh.token}", "stan@stats.example")
    assert response.status_code == 302 and accounts.get_user_by_email(db, "stan@stats.example") is not None


def _expire_links(db):
    db.execute("UPDATE portfolio_agencies SET link_expires_at = '2000-01-01T00:00:00+00:00'")
    db.conn.commit()


LINK_EXPIRED = ("This link for Statistics office to join National AI office has expired. Ask Olga Owner or another "
                "owner of Acme Public Agency for a new link.")


def test_an_agency_link_expires_with_a_page_that_says_whom_to_ask(app, db, portfolio):
    invited = invite(db, portfolio, "Statistics office")
    url = f"/portfolio-invite/{invited.token}"
    assert app.test_client().get(url).status_code == 200
    _expire_links(db)
    for response in (app.test_client().get(url), app.test_client().post(url, data={
            "name": "Stan", "email": "stan@stats.example", "password": PASSWORD, "confirm": PASSWORD})):
        assert response.status_code == 410 and LINK_EXPIRED in html.unescape(text(response))
    assert accounts.get_user_by_email(db, "stan@stats.example") is None


def test_an_agency_link_stops_when_the_round_it_was_sent_for_closes(app, db, people, portfolio, default_rubric):
    invited = invite(db, portfolio, "Statistics office")
    portfolios.open_round(db, portfolio, default_rubric, "2027", people["owner"])
    response = app.test_client().get(f"/portfolio-invite/{invited.token}")
    assert response.status_code == 410 and LINK_EXPIRED in html.unescape(text(response))


def test_agency_links_last_the_configured_days(app, db, owner, portfolio):
    app.config["AGENCY_LINK_DAYS"] = 3
    owner.post(f"/portfolios/{portfolio}/agencies", data={"name": "Statistics office"})
    (expires,) = db.execute("SELECT link_expires_at FROM portfolio_agencies").fetchone()
    assert expires[:10] == (date.today() + timedelta(days=3)).isoformat()


def test_the_agencies_page_shows_each_links_expiry_and_sends_a_fresh_one(app, db, owner, portfolio):
    invited = invite(db, portfolio, "Statistics office")
    page = html.unescape(text(owner.get(f"/portfolios/{portfolio}/agencies")))
    assert "invited, link valid until " in page
    _expire_links(db)
    page = html.unescape(text(owner.get(f"/portfolios/{portfolio}/agencies")))
    assert "invited, link expired" in page
    response = owner.post(f"/portfolios/{portfolio}/agencies/{invited.id}/link")
    fresh = re.search(r"<code>http://localhost(/portfolio-invite/[^<]+)</code>", text(response)).group(1)
    assert app.test_client().get(fresh).status_code == 200
    assert app.test_client().get(f"/portfolio-invite/{invited.token}").status_code == 404  # replaced
    assert "invited, link valid until " in html.unescape(text(owner.get(f"/portfolios/{portfolio}/agencies")))


def test_a_joined_agency_gets_no_fresh_link(db, owner, people, portfolio, default_rubric):
    agency, _ = add_agency(db, portfolio, default_rubric, "Agency A", people["outsider"])
    assert owner.post(f"/portfolios/{portfolio}/agencies/{agency['id']}/link").status_code == 404


@pytest.mark.parametrize("path", ["/portfolios/{p}/agencies", "/portfolios/{p}/agencies/upload", "/portfolios/{p}/rounds",
                                  "/w/{w}/portfolios/new", "/portfolio-invite/{t}"])
def test_posts_without_csrf_token_are_refused(db, owner, people, portfolio, path):
    token = invite(db, portfolio, "Any agency").token
    url = path.format(p=portfolio, w=people["workspace"], t=token)
    assert owner.post(url, data={"name": "X"}, csrf=False).status_code == 400


def test_owner_creates_a_portfolio_and_invites_one_agency(owner, db, people, app):
    rubric = "{}@{}".format(*app.config["DEFAULT_RUBRIC"])
    response = owner.post(f"/w/{people['workspace']}/portfolios/new",
                          data={"name": "Ministries", "rubric": rubric, "round": "2026"})
    portfolio_id = int(response.headers["Location"].split("/")[2])
    page = text(owner.post(f"/portfolios/{portfolio_id}/agencies", data={"name": "Treasury", "type": "ministry",
                                                                 "size": "large", "contact": "a@b.example"}))
    assert "/portfolio-invite/" in page and _agency_count(db, portfolio_id) == 1
    dashboard = owner.get(f"/portfolios/{portfolio_id}")
    assert dashboard.status_code == 200 and "0 of 1 agencies have finished" in text(dashboard)
    assert "invited, not joined" in text(dashboard)


def test_csv_export_is_formula_safe(owner, db, people, portfolio, default_rubric):
    add_agency(db, portfolio, default_rubric, "=HYPERLINK(\"http://evil.example\")", people["outsider"],
               type_="+ministry")
    rows = list(csv.reader(io.StringIO(csv_text(owner.get(f"/portfolios/{portfolio}/export.csv")))))
    assert rows[0][:5] == ["agency", "type", "size", "round", "dimension"]
    assert len(rows) == 1 + len(default_rubric.dimensions) + 1
    assert all(r[0].startswith("'=") and r[1] == "'+ministry" for r in rows[1:])


def test_csv_rows_name_the_portfolios_rubric_version(owner, db, people, portfolio, default_rubric):
    """Two portfolios' exports on two rubric versions, pasted into one spreadsheet, stay apart."""
    add_agency(db, portfolio, default_rubric, "Agency A", people["outsider"])
    rows = list(csv.reader(io.StringIO(csv_text(owner.get(f"/portfolios/{portfolio}/export.csv")))))
    assert rows[0] == ["agency", "type", "size", "round", "dimension", "score", "answered", "total", "stage",
                       "finished", "rubric", "rubric_version"]
    assert {tuple(r[-2:]) for r in rows[1:]} == {(default_rubric.id, default_rubric.version)}


def test_json_export(owner, portfolio, two_agencies):
    document = json.loads(text(owner.get(f"/portfolios/{portfolio}/export.json")))
    assert [a["name"] for a in document["agencies"]] == ["Agency A", "Agency B"]
    assert document["round"] == "2026" and all(a["finished"] for a in document["agencies"])


def test_portfolio_pdf_is_rendered_by_the_worker_and_names_agencies_and_dimensions(
        app, db, owner, portfolio, two_agencies, default_rubric, caplog):
    caplog.set_level(logging.WARNING, logger="weasyprint")
    status = f"/portfolios/{portfolio}/report"
    assert owner.get(f"{status}.pdf").status_code == 302  # not ready: to the status page
    assert "Prepare the PDF report" in text(owner.get(status))
    assert owner.post(status).status_code == 302
    page = text(owner.get(status))
    assert "The report is queued" in page and '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert 'data-live-every="2" data-live-auto' in page  # app.js updates the status in place instead
    assert db.execute("SELECT count(*) FROM report_files").fetchone()[0] == 0  # nothing rendered in the request
    assert jobs.run_pending(app.instance_path) == 1
    assert "The report of this round's figures is ready." in text(owner.get(status))
    owner.post(status)
    assert jobs.run_pending(app.instance_path) == 0  # cached: nothing to render again
    response = owner.get(f"{status}.pdf")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="national-ai-office-2026-{TODAY}-portfolio.pdf"'
    reader = PdfReader(io.BytesIO(response.data))
    content = "\n".join(page.extract_text() for page in reader.pages)
    assert "Agency A" in content and "Agency B" in content
    for dimension in default_rubric.dimensions:
        assert dimension.title.split()[0] in content


def test_the_portfolio_pdf_follows_the_figures_and_only_owners_ask_for_it(
        app, db, owner, editor, outsider, portfolio, two_agencies, default_rubric):
    status = f"/portfolios/{portfolio}/report"
    assert editor.post(status).status_code == 403 and outsider.post(status).status_code == 404
    assert editor.get(status).status_code == 403 and outsider.get(f"{status}.pdf").status_code == 404
    owner.post(status)
    jobs.run_pending(app.instance_path)
    _, (_, assessment_b) = two_agencies
    records.save_answers(db, records.get_assessment(db, assessment_b), default_rubric, {"data.residency": Answer(0)})
    assert "Prepare the PDF report" in text(owner.get(status))  # changed figures, new report


def test_a_portfolio_pdf_counts_against_its_askers_reports_waiting(app, db, owner, people, portfolio, finished):
    """One person's reports waiting to render are capped (jobs.PENDING_PER_PERSON), a portfolio's too."""
    for _ in range(jobs.PENDING_PER_PERSON):  # three waiting jobs of the owner's, as by three assessments
        db.execute("INSERT INTO report_jobs (digest, assessment_id, status, queued_at, requested_by) "
                   "VALUES (lower(hex(randomblob(16))), ?, 'queued', ?, ?)", [finished, storage.now(), people["owner"]])
    db.conn.commit()
    status = f"/portfolios/{portfolio}/report"
    page = text(owner.post(status, follow_redirects=True))
    assert f"You have {jobs.PENDING_PER_PERSON} reports waiting to be rendered" in page
    assert "Prepare the PDF report" in page and jobs.run_pending(app.instance_path) == 0
    db.execute("UPDATE report_jobs SET queued_at = '2000-01-01T00:00:00+00:00'")  # lost long ago: they count no more
    db.conn.commit()
    assert "The report is queued" in text(owner.post(status, follow_redirects=True))


def test_the_portfolio_pdf_cites_the_survey_behind_the_median_peer(db, portfolio, two_agencies, peers):
    inputs = jobs.portfolio_inputs(db, portfolio, portfolios.rounds(db, portfolio)[0]["id"])
    reader = PdfReader(io.BytesIO(portfolio_report.render_pdf(**inputs)))
    content = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert " ".join(peers.citation.split()) in content and f"Licence: {peers.licence}." in content
    assert "S9: Coverage of the CNCF Kubernetes AI conformance announcement" in content  # the Kubernetes figure
    assert "S5:" not in content  # no linked figure cites it


def test_the_portfolio_pdf_is_the_one_weasyprints_own_stylesheet_makes(db, portfolio, two_agencies, monkeypatch):
    """It is styled by pdf.user_agent_stylesheet(), which leaves out rules it never needs."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    inputs = jobs.portfolio_inputs(db, portfolio, portfolios.rounds(db, portfolio)[0]["id"])
    ours = portfolio_report.render_pdf(**inputs)
    monkeypatch.setattr(pdf, "ReportHTML", HTML)
    assert portfolio_report.render_pdf(**inputs) == ours


def test_a_portfolio_without_agencies_says_to_invite_them_instead_of_empty_charts(owner, portfolio):
    page = text(owner.get(f"/portfolios/{portfolio}"))
    assert "No agency has been invited to this portfolio yet." in page
    assert page.count(f'href="/portfolios/{portfolio}/agencies">Invite') == 1
    assert "<table" not in page and "<svg" not in page and "too few" not in page


def test_until_an_agency_finishes_the_dashboard_shows_progress_and_the_next_step(db, owner, portfolio, people,
                                                                                 default_rubric):
    add_agency(db, portfolio, default_rubric, "Agency A", people["outsider"], finished=False)
    invite(db, portfolio, "Agency C")
    page = text(owner.get(f"/portfolios/{portfolio}"))
    assert "0 of 2 agencies have finished" in page and "invited, not joined" in page  # the completion table
    assert "These appear once an agency has answered every question." in page
    assert f'href="/portfolios/{portfolio}/agencies">invite more agencies</a>' in page
    assert page.count("<table") == 1 and "<svg" not in page and "Gaps most common" not in page


def test_an_agency_deleting_its_assessment_deletes_the_rounds_pdf(app, db, owner, portfolio, two_agencies,
                                                                  monkeypatch):
    """The round's PDF printed that agency's scores: it goes, and renders again without them."""
    monkeypatch.setattr(jobs, "render_limited", lambda render, seconds=jobs.RENDER_SECONDS: b"%PDF stand-in")
    status = f"/portfolios/{portfolio}/report"
    owner.post(status)
    assert jobs.run_pending(app.instance_path) == 1
    assert owner.get(f"{status}.pdf").status_code == 200
    records.delete_assessment(db, two_agencies[0][1])
    assert db.execute("SELECT count(*) FROM report_files").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM report_jobs").fetchone()[0] == 0
    assert owner.get(f"{status}.pdf").status_code == 302  # not ready: to the status page
    assert "Prepare the PDF report" in text(owner.get(status))


def test_a_closed_rounds_assessment_is_read_only_for_the_agency(app, db, people, portfolio, two_agencies,
                                                               default_rubric):
    """Found by an audit: after the next round opened, the agency could still change its answers of the
    closed round, and with them that round's results and the changes since."""
    (agency_a, assessment_a), _ = two_agencies
    def results(round_id):  # closing the round replaces its content tokens, so that cached pages drop their forms
        return [{k: v for k, v in row.items() if k != "content_token"} for row in portfolios.round_rows(
            db, portfolio, round_id)]
    before = results(portfolios.rounds(db, portfolio)[0]["id"])
    client = app.test_client().login("outsider@example.org")
    assert "Save and continue" in text(client.get(f"/a/{assessment_a}/dimensions/data"))  # cached with its form
    portfolios.open_round(db, portfolio, default_rubric, "2027", people["owner"])
    page = text(client.get(f"/a/{assessment_a}/dimensions/data"))
    assert "Round 2026 of the portfolio National AI office was closed on" in page
    assert "Save and continue" not in page and "You are a viewer" not in page
    form = {key: "0" if key.endswith("-value") else value for key, value in stored_form(db, assessment_a, "data").items()}
    response = client.post(f"/a/{assessment_a}/dimensions/data", data=form, follow_redirects=True)
    assert response.status_code == 200 and "No change was made. Round 2026" in text(response)
    assert client.post(f"/a/{assessment_a}/delete").status_code == 302
    assert records.get_assessment(db, assessment_a) is not None
    assert results(portfolios.rounds(db, portfolio)[1]["id"]) == before
    current = portfolios.agency_assessment(db, portfolio, agency_a["id"], portfolios.rounds(db, portfolio)[0]["id"])
    assert "Save and continue" in text(client.get(f"/a/{current}/dimensions/data"))  # this round's stays open


def test_a_workshop_cannot_write_a_consensus_into_a_closed_round(app, db, people, portfolio, two_agencies,
                                                                 default_rubric):
    (_, assessment_a), _ = two_agencies
    workshop_id = workshops.create_workshop(db, assessment_a, ["data"], people["outsider"])
    portfolios.open_round(db, portfolio, default_rubric, "2027", people["owner"])
    client = app.test_client().login("outsider@example.org")
    before = records.answer_set(db, records.get_assessment(db, assessment_a)).answers["data.residency"]
    response = client.post(f"/workshops/{workshop_id}/consensus/data.residency",
                           data={"level": "0", "rationale": "Agreed after a long debate"})
    assert records.answer_set(db, records.get_assessment(db, assessment_a)).answers["data.residency"] == before
    # Refused with the reason, and what was typed shown back, not lost behind a redirect.
    assert response.status_code == 200
    page = html.unescape(text(response))
    assert "The consensus is not recorded" in page and "No change was made. Round 2026" in page
    section = re.search(r'id="q-data\.residency".*?</section>', page, re.S).group(0)
    assert "Agreed after a long debate" in section and "Level 0: " in section
    assert re.search(r"Not recorded: Level 0: [^<]*[^.]\.</p>", section)  # one full stop, the level's own
    assert "Record the consensus" not in page  # still no form: the round takes none
    assert client.post(f"/a/{assessment_a}/workshops", data={"dimensions": ["data"]}).status_code == 302
    assert len(workshops.workshops_of(db, assessment_a)) == 1


def _closed_round_workshop(app, db, people, portfolio, default_rubric, assessment_id):
    """A workshop on the agency's 2026 assessment, one participant's browser that joined and answered
    before 2027 opened, and the question it answered."""
    workshop_id = workshops.create_workshop(db, assessment_id, ["data"], people["outsider"])
    participant = app.test_client()
    code = workshops.get_workshop(db, workshop_id).join_code
    assert participant.post(f"/join/{code}", data={"display_name": "Pat"}).status_code == 302
    assert participant.post(f"/p/{workshop_id}/data", data={"data.residency-value": "1"}).status_code == 302
    portfolios.open_round(db, portfolio, default_rubric, "2027", people["owner"])
    return workshop_id, participant


def test_a_closed_rounds_workshop_refuses_answers_and_its_report_chapter_stays(app, db, people, portfolio,
                                                                             two_agencies, default_rubric):
    """Found by a closing note: participants could still answer a workshop of a closed round's assessment,
    and so change that round's PDF (its workshop chapter) after the close."""
    (_, assessment_a), _ = two_agencies
    workshop_id, participant = _closed_round_workshop(app, db, people, portfolio, default_rubric, assessment_a)
    before = workshops.summary(db, assessment_a, default_rubric)
    page = text(participant.get(f"/p/{workshop_id}/data"))
    assert ROUND_CLOSED in html.unescape(page) and ">Save</button>" not in page
    response = participant.post(f"/p/{workshop_id}/data", data={"data.residency-value": "4"}, follow_redirects=True)
    assert ROUND_CLOSED in html.unescape(text(response))
    assert workshops.summary(db, assessment_a, default_rubric) == before
    late = app.test_client()
    response = late.post(f"/join/{workshops.get_workshop(db, workshop_id).join_code}", data={"display_name": "Lee"})
    assert response.status_code == 410 and ROUND_CLOSED in html.unescape(text(response))
    assert len(workshops.participants(db, workshop_id)) == 1


def test_a_closed_rounds_workshop_renews_no_participants_place_as_a_closed_workshop_renews_none(
        app, db, people, portfolio, two_agencies, default_rubric):
    """Found by a closing note: the round's workshop took no more answers, yet every visit renewed the
    participant's place as if it were open. Now it lasts PARTICIPANT_IDLE_HOURS from the last visit
    before the close, time enough to see what is revealed."""
    (_, assessment_a), _ = two_agencies
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        workshop_id, participant = _closed_round_workshop(app, db, people, portfolio, default_rubric, assessment_a)
        workshops.reveal(db, workshop_id)
        clock.shift(timedelta(hours=1))
        assert participant.get(f"/p/{workshop_id}").status_code == 200
        clock.shift(timedelta(hours=workshops.PARTICIPANT_IDLE_HOURS - 2))
        assert "How the group answered" in text(participant.get(f"/p/{workshop_id}"))
        clock.shift(timedelta(hours=2))  # within the window of either visit, were they renewals
        assert participant.get(f"/p/{workshop_id}").status_code == 404


def test_a_closed_round_is_checked_inside_each_workshop_write(app, db, people, portfolio, two_agencies,
                                                            default_rubric):
    """The pages check before writing; the writes check again under the write lock, as a workshop's close
    is checked, so nothing slips in while the next round opens."""
    (_, assessment_a), _ = two_agencies
    workshop_id, _ = _closed_round_workshop(app, db, people, portfolio, default_rubric, assessment_a)
    workshop = workshops.get_workshop(db, workshop_id)
    participant_id = workshops.participants(db, workshop_id)[0]["id"]
    writes = [lambda: workshops.save_participant_answers(db, workshop_id, participant_id, {"data.residency": "4"}),
              lambda: workshops.join(db, workshop_id, "Lee"),
              lambda: workshops.set_consensus(db, workshop, default_rubric, "data.residency", 0, "", None),
              lambda: workshops.create_workshop(db, assessment_a, ["data"], people["outsider"])]
    for write in writes:
        with pytest.raises(workshops.RoundClosed):
            write()
    assert workshops.participant_answers(db, participant_id) == {"data.residency": "1"}
    assert workshops.consensus(db, workshop_id) == {} and len(workshops.workshops_of(db, assessment_a)) == 1


def test_the_facilitator_of_a_closed_rounds_workshop_is_told_and_offered_no_form(app, db, people, portfolio,
                                                                               two_agencies, default_rubric):
    (_, assessment_a), _ = two_agencies
    workshop_id, _ = _closed_round_workshop(app, db, people, portfolio, default_rubric, assessment_a)
    client = app.test_client().login("outsider@example.org")
    for page in (text(client.get(f"/workshops/{workshop_id}")), text(client.get(f"/a/{assessment_a}/workshops"))):
        assert "Round 2026 of the portfolio National AI office was closed on" in page
        assert "Record the consensus" not in page and "Open the workshop" not in page


def test_a_round_closed_while_the_facilitator_writes_refuses_with_its_message(app, db, people, portfolio,
                                                                              two_agencies, default_rubric,
                                                                              monkeypatch):
    """The pages' own check passed just before the next round opened: the write's refusal says why."""
    (_, assessment_a), _ = two_agencies
    workshop_id, _ = _closed_round_workshop(app, db, people, portfolio, default_rubric, assessment_a)
    client = app.test_client().login("outsider@example.org")
    monkeypatch.setattr("assessment.web.workshops.refuse_if_closed", lambda assessment, back: None)
    response = client.post(f"/a/{assessment_a}/workshops", data={"dimensions": ["data"]}, follow_redirects=True)
    assert response.status_code == 200 and "No change was made. Round 2026" in text(response)
    # The consensus view checks the round itself (to show back what was typed): its first look sees
    # the round still open, and the write's own check, under the lock, refuses.
    closed_round, looks = portfolios.closed_round, []
    monkeypatch.setattr(portfolios, "closed_round",
                        lambda *args: closed_round(*args) if looks or looks.append(1) else None)
    response = client.post(f"/workshops/{workshop_id}/consensus/data.residency",
                           data={"level": "0", "rationale": "Agreed after the vote"})
    assert looks and response.status_code == 200
    assert "No change was made. Round 2026" in text(response) and "Agreed after the vote" in text(response)
    assert workshops.consensus(db, workshop_id) == {} and len(workshops.workshops_of(db, assessment_a)) == 1


def test_a_closed_rounds_workshop_keeps_its_participants_answers_but_not_their_names(
        app, db, people, portfolio, two_agencies, default_rubric):
    """Found by a closing note: removing a participant with answers changed the closed round's PDF
    (its workshop chapter). Deleting only their personal data keeps the answers, so it stays possible."""
    (_, assessment_a), _ = two_agencies
    workshop_id, _ = _closed_round_workshop(app, db, people, portfolio, default_rubric, assessment_a)
    participant_id = workshops.participants(db, workshop_id)[0]["id"]
    before = workshops.summary(db, assessment_a, default_rubric)
    with pytest.raises(workshops.RoundClosed):
        workshops.remove_participant(db, workshop_id, participant_id)
    client = app.test_client().login("outsider@example.org")
    assert "Remove participant and answers" not in text(client.get(f"/workshops/{workshop_id}"))
    url = f"/workshops/{workshop_id}/participants/{participant_id}/remove"
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 302 and response.location.endswith(f"/workshops/{workshop_id}")
    assert "No change was made. Round 2026" in text(client.get(f"/workshops/{workshop_id}"))
    assert client.post(f"/workshops/{workshop_id}/participants/{participant_id}/forget").status_code == 302
    assert workshops.participants(db, workshop_id)[0]["deleted"] == 1
    assert workshops.summary(db, assessment_a, default_rubric) == before


def test_a_past_round_lists_only_the_agencies_that_were_in_it(db, owner, people, portfolio, two_agencies,
                                                              default_rubric):
    """Found by an audit: an agency that joined in 2027 showed in 2026 as "not started", and in the
    change of the median since 2026."""
    first = portfolios.rounds(db, portfolio)[0]["id"]
    portfolios.open_round(db, portfolio, default_rubric, "2027", people["owner"])
    late = accounts.create_user(db, "late@example.org", "Late Agency", PASSWORD)
    agency_c, assessment_c = add_agency(db, portfolio, default_rubric, "Agency C", late)
    _answer_all(db, assessment_c, default_rubric, 4)
    assert [r["name"] for r in portfolios.round_rows(db, portfolio, first)] == ["Agency A", "Agency B"]
    page = text(owner.get(f"/portfolios/{portfolio}?round={first}"))
    assert "2 of 2 agencies have finished" in page and "Agency C" not in page
    page = text(owner.get(f"/portfolios/{portfolio}"))
    assert "3 of 3 agencies have finished" in page
    assert "0.0 since the previous round over the 2 agencies finished in both" in page


def test_the_csv_gives_no_score_or_stage_until_an_agency_has_finished(owner, db, people, portfolio, default_rubric):
    """Found by an audit: the CSV gave an unfinished agency the index and stage of its few answers,
    where the dashboard shows "–", and each dimension line repeated the overall answered/total."""
    _, assessment_id = add_agency(db, portfolio, default_rubric, "Agency A", people["outsider"], finished=False)
    data = next(d for d in default_rubric.dimensions if d.id == "data")
    records.save_answers(db, records.get_assessment(db, assessment_id), default_rubric,
                         {q.id: Answer(4) for q in data.questions})
    rows = list(csv.DictReader(io.StringIO(csv_text(owner.get(f"/portfolios/{portfolio}/export.csv")))))
    by_dimension = {r["dimension"]: r for r in rows}
    assert all(r["finished"] == "no" and r["score"] == "" and r["stage"] == "" for r in rows)
    assert (by_dimension["data"]["answered"], by_dimension["data"]["total"]) == (str(len(data.questions)),) * 2
    other = next(d for d in default_rubric.dimensions if d.id != "data")
    assert (by_dimension[other.id]["answered"], by_dimension[other.id]["total"]) == ("0", str(len(other.questions)))
    assert by_dimension["overall"]["answered"] == str(len(data.questions))


def test_the_csv_gives_a_finished_agency_its_scores_and_stage(owner, db, people, portfolio, default_rubric):
    add_agency(db, portfolio, default_rubric, "Agency A", people["outsider"])
    rows = list(csv.DictReader(io.StringIO(csv_text(owner.get(f"/portfolios/{portfolio}/export.csv")))))
    assert all(r["finished"] == "yes" and r["score"] for r in rows)
    overall = rows[-1]
    assert overall["dimension"] == "overall" and overall["stage"] and overall["answered"] == overall["total"]


def test_an_agency_that_deleted_its_assessment_can_start_the_round_again(app, db, owner, portfolio, two_agencies):
    """Found by an audit: an agency that deleted its assessment was out of the portfolio for good,
    and the owner saw it as "not started"."""
    (agency_a, assessment_a), _ = two_agencies
    client = app.test_client().login("outsider@example.org")
    client.post(f"/a/{assessment_a}/delete")
    assert "left the round" in text(owner.get(f"/portfolios/{portfolio}"))
    start = f"/w/{agency_a['workspace_id']}/portfolio/{agency_a['id']}/assessment"
    assert f'action="{start}"' in _agency_view(client, agency_a["workspace_id"])
    response = client.post(start)
    assert response.status_code == 302 and "/about" in response.headers["Location"]
    current = portfolios.rounds(db, portfolio)[0]["id"]
    again = portfolios.agency_assessment(db, portfolio, agency_a["id"], current)
    assert again and again != assessment_a and again in response.headers["Location"]
    assert "left the round" not in text(owner.get(f"/portfolios/{portfolio}"))
    assert client.post(start).headers["Location"].endswith(f"/a/{again}/about")  # twice: still one


def test_only_the_agencys_writers_start_its_round_again(app, db, people, portfolio, two_agencies):
    (agency_a, _), (agency_b, _) = two_agencies
    client = app.test_client().login("outsider@example.org")
    assert client.post(f"/w/{agency_a['workspace_id']}/portfolio/{agency_b['id']}/assessment").status_code == 404
    assert client.post(f"/w/{agency_b['workspace_id']}/portfolio/{agency_b['id']}/assessment").status_code == 404


def test_a_round_name_the_portfolio_has_is_refused(db, owner, people, portfolio, two_agencies, default_rubric):
    """Found by an audit: "Open the round" sent twice opened two rounds of the same name."""
    assert owner.post(f"/portfolios/{portfolio}/rounds", data={"name": "2027"}).status_code == 302
    again = owner.post(f"/portfolios/{portfolio}/rounds", data={"name": "2027"})
    assert [r["name"] for r in portfolios.rounds(db, portfolio)] == ["2027", "2026"]
    assert again.status_code == 200 and "This portfolio already has a round named 2027." in text(again)
    with pytest.raises(ValueError, match="already has a round named 2026"):
        portfolios.open_round(db, portfolio, default_rubric, " 2026 ", people["owner"])
    assert db.execute("SELECT count(*) FROM assessments WHERE title LIKE '% (2027)'").fetchone()[0] == 2


@pytest.mark.parametrize("name, error", [("x" * 201, "The name can be at most 200 characters."),
                                         ("  ", "Name the new round.")])
def test_a_refused_round_name_is_shown_beside_the_field_as_typed(db, owner, portfolio, name, error):
    """Found by an audit: a 201-character name was refused with "Name the new round." and the name typed was lost."""
    response = owner.post(f"/portfolios/{portfolio}/rounds", data={"name": name})
    page = text(response)
    assert response.status_code == 200 and [r["name"] for r in portfolios.rounds(db, portfolio)] == ["2026"]
    assert f'<ul class="field-errors" id="name-errors">\n  <li><span class="visually-hidden">Error: </span>{error}</li>' in page
    assert f'<a href="#name">Name of the new round (for example 2027): {error}</a>' in page  # the summary
    assert re.search(f'<input[^>]* id="name"[^>]* value="{name}"', page) and 'aria-invalid="true"' in page


def test_exports_follow_the_dashboards_filters(owner, portfolio, two_agencies, default_rubric):
    """Found by an audit: the dashboard's CSV and JSON links carried only ?round=, so a filtered view exported everyone."""
    page = text(owner.get(f"/portfolios/{portfolio}?type=regulator&size=small"))
    links = re.findall(r'href="(/portfolios/\d+/export\.(?:csv|json)[^"]*)"', page)
    assert len(links) == 2 and all(link.endswith("&amp;type=regulator&amp;size=small") for link in links)
    csv_link, json_link = (html.unescape(link) for link in links)
    rows = list(csv.reader(io.StringIO(csv_text(owner.get(csv_link)))))[1:]
    assert {r[0] for r in rows} == {"Agency B"} and len(rows) == len(default_rubric.dimensions) + 1
    document = json.loads(text(owner.get(json_link)))
    assert [a["name"] for a in document["agencies"]] == ["Agency B"]
    assert document["filters"] == {"type": "regulator", "size": "small"}
    assert json.loads(text(owner.get(f"/portfolios/{portfolio}/export.json")))["filters"] == {}
    assert "whole round" not in page  # the PDF follows them too


def test_export_file_names_carry_the_round(db, owner, people, portfolio, two_agencies, default_rubric):
    """Found by an audit: two rounds exported on one day got the same file name."""
    first = portfolios.rounds(db, portfolio)[0]["id"]
    second = portfolios.open_round(db, portfolio, default_rubric, "2027", people["owner"])
    db["portfolios"].update(portfolio, {"name": "A national office for sovereign AI readiness of every agency"})
    for export in ("csv", "json"):
        names = [owner.get(f"/portfolios/{portfolio}/export.{export}?round={r}").headers["Content-Disposition"]
                 for r in (first, second)]
        assert names == [f'attachment; filename="a-national-office-for-sovereign-ai-readi-{year}-{TODAY}.{export}"'
                         for year in ("2026", "2027")]


def _pdf_text(response) -> str:
    reader = PdfReader(io.BytesIO(response.data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _rendered(app, owner, portfolio, query=""):
    """The portfolio PDF asked for as the dashboard's link does, with the filters in ``query``."""
    owner.post(f"/portfolios/{portfolio}/report{query}")
    jobs.run_pending(app.instance_path)
    return owner.get(f"/portfolios/{portfolio}/report.pdf{query}")


def test_the_portfolio_pdf_follows_the_dashboards_filters(app, db, owner, portfolio, two_agencies, caplog):
    """Found by an audit: the CSV and the JSON followed the dashboard's filters, the PDF was of the whole round."""
    caplog.set_level(logging.WARNING, logger="weasyprint")
    page = text(owner.get(f"/portfolios/{portfolio}?type=regulator&size=small"))
    link = html.unescape(re.search(r'href="(/portfolios/\d+/report\?[^"]*)">PDF report</a>', page).group(1))
    assert link.endswith("&type=regulator&size=small")
    status = text(owner.get(link))
    assert "PDF report · National AI office · 2026 · type = regulator, size = small" in status
    assert re.search(r'<form method="post" action="/portfolios/\d+/report\?round=\d+&amp;type=regulator&amp;size=small"',
                     status)
    assert owner.post(link).location == link
    assert jobs.run_pending(app.instance_path) == 1
    assert 'report.pdf?round=' in text(owner.get(link)) and "&amp;type=regulator&amp;size=small" in text(owner.get(link))
    response = owner.get(link.replace("/report?", "/report.pdf?"))
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    assert response.headers["Content-Disposition"] == f'attachment; filename="national-ai-office-2026-{TODAY}-portfolio.pdf"'
    content = _pdf_text(response)
    assert "Agency B" in content and "Agency A" not in content
    assert "Agencies type = regulator, size = small; 1 of 2" in content  # on the cover
    assert "1 of 1 agencies have finished this round" in content


def test_the_unfiltered_portfolio_pdf_names_no_filter(app, owner, portfolio, two_agencies):
    content = _pdf_text(_rendered(app, owner, portfolio))
    assert "Agency A" in content and "Agency B" in content and "2 of 2 agencies have finished this round" in content
    assert " = " not in content and "Agencies type" not in content


def test_two_filters_never_share_a_portfolio_pdf(app, db, owner, portfolio, two_agencies):
    """type=regulator and size=small choose the same agency, so the same figures: not the same PDF."""
    whole = _rendered(app, owner, portfolio)
    by_type = _rendered(app, owner, portfolio, "?type=regulator")
    by_size = _rendered(app, owner, portfolio, "?size=small")
    assert "Agencies type = regulator; 1 of 2" in _pdf_text(by_type)
    assert "Agencies size = small; 1 of 2" in _pdf_text(by_size)
    assert len({whole.data, by_type.data, by_size.data}) == 3
    # Each is kept beside the others: asking for one does not replace another.
    assert db.execute("SELECT count(*) FROM report_files").fetchone()[0] == 3
    assert owner.get(f"/portfolios/{portfolio}/report.pdf?type=regulator").data == by_type.data
    assert owner.get(f"/portfolios/{portfolio}/report.pdf").data == whole.data


def test_a_filter_that_matches_no_agency_gives_a_pdf_that_says_so(app, owner, portfolio, two_agencies):
    content = _pdf_text(_rendered(app, owner, portfolio, "?type=regulator&size=large"))
    assert "Agencies type = regulator, size = large; 0 of 2" in content
    assert "No agency matches these filters." in content
    assert "Agency A" not in content and "Heatmap" not in content and "Scorecards" not in content


def _unfinished_agencies(db, portfolio, rubric):
    """Beside the two finished: one in progress, one joined without answers, one not joined, one that left."""
    def user(name):
        return accounts.create_user(db, f"{name}@example.org", name, PASSWORD)
    _, assessment_id = add_agency(db, portfolio, rubric, "Yankee unit", user("yankee"), finished=False,
                                  type_="regulator", size="small")
    records.save_answers(db, records.get_assessment(db, assessment_id), rubric, {"data.residency": Answer(2)})
    add_agency(db, portfolio, rubric, "kilo board", user("kilo"), finished=False)
    invite(db, portfolio, "Delta agency", type_="regulator", size="small")
    records.delete_assessment(db, add_agency(db, portfolio, rubric, "Lima", user("lima"), finished=False)[1])
    db.conn.commit()


def test_the_portfolio_pdf_names_the_agencies_left_out_of_its_figures(app, db, owner, portfolio, two_agencies,
                                                                      default_rubric, caplog):
    """A ministry filing the PDF must know which agencies have not finished, not only how many."""
    caplog.set_level(logging.WARNING, logger="weasyprint")
    _unfinished_agencies(db, portfolio, default_rubric)
    content = _pdf_text(_rendered(app, owner, portfolio))
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    section = content[content.index("Agencies not in the figures"):]
    assert section.startswith("Agencies not in the figures 4 of 6 agencies have not finished this round")
    total = len(default_rubric.questions)
    assert ("Not started (3) Delta agency: invited, not joined kilo board: joined, nothing answered yet "
            f"Lima: left the round In progress (1) Yankee unit: 1 of {total} questions answered") in section
    assert "Agency A" not in section and "Agency B" not in section

    regulators = _pdf_text(_rendered(app, owner, portfolio, "?type=regulator"))
    section = regulators[regulators.index("Agencies not in the figures"):]
    assert section.startswith("Agencies not in the figures 2 of 3 agencies (type = regulator) have not finished")
    assert "Delta agency: invited, not joined" in section and "Yankee unit: 1 of" in section
    assert "kilo board" not in section and "Lima" not in section


def test_a_portfolio_pdf_with_every_agency_finished_has_no_list_of_those_left_out(app, owner, portfolio,
                                                                                 two_agencies):
    assert "Agencies not in the figures" not in _pdf_text(_rendered(app, owner, portfolio))


def test_no_pdf_is_prepared_for_a_filter_value_no_agency_has(app, db, owner, portfolio, two_agencies):
    """Each filter keeps a PDF of its own: values typed into the address must not store one each."""
    response = owner.post(f"/portfolios/{portfolio}/report?type=nobody", follow_redirects=True)
    assert "No agency of this round has type = nobody: no PDF is prepared for it." in text(response)
    assert db.execute("SELECT count(*) FROM report_jobs").fetchone()[0] == 0


def test_an_agency_upload_without_a_file_says_so_beside_the_field_and_invites_nobody(owner, db, portfolio):
    response = owner.post(f"/portfolios/{portfolio}/agencies/upload", data={}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "This field is required." in text(response)
    assert _agency_count(db, portfolio) == 0


def test_an_invitation_used_meanwhile_is_refused_to_the_second_acceptance(db, people, portfolio, default_rubric):
    """The page checks the link when it opens; a second tab, or another person with the same link,
    accepting after the first is refused here, and neither account nor workspace is made."""
    invited = invite(db, portfolio, "Agency A")
    portfolios.join(db, invited.token, people["outsider"], default_rubric)
    counts = "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM workspaces)"
    before = db.execute(counts).fetchone()
    used = "This invitation has already been used or does not exist."
    with pytest.raises(ValueError, match=used):
        portfolios.join(db, invited.token, people["editor"], default_rubric)
    with pytest.raises(ValueError, match=used):
        portfolios.register_and_join(db, invited.token, AGENCY_B, "B", PASSWORD, default_rubric)
    assert db.execute(counts).fetchone() == before
