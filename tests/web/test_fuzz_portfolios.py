"""Fuzzing the portfolio forms, the agencies' CSV upload, the dashboard's filters and the agencies'
invitations (tests/web/fuzzing.py says what each request must do: no 500; a refusal says why and
changes nothing)."""

import csv
import io

from hypothesis import example, given
from hypothesis import strategies as st

from assessment import portfolios

from .fuzzing import FUZZ, MERGED_SLASHES, VALUES, send
from .test_portfolios import add_agency, invite

FIELDS = st.fixed_dictionaries({}, optional={"name": VALUES, "type": VALUES, "size": VALUES, "round": VALUES,
                                             "contact": st.one_of(VALUES, st.just("it@agency.example")),
                                             "rubric": st.one_of(VALUES, st.just("sovereign-ai-readiness@1.0.1"))})


@FUZZ
@given(form=FIELDS)
def test_new_portfolio(owner, people, db, form):
    response, refused = send(owner, db, "POST", f"/w/{people['workspace']}/portfolios/new", data=form)
    assert (response.status_code == 200) == (refused is not None)


@FUZZ
@given(form=FIELDS)
def test_inviting_one_agency(owner, portfolio, db, form):
    response, refused = send(owner, db, "POST", f"/portfolios/{portfolio}/agencies", data=form)
    assert response.status_code == 200
    assert (refused is None) == ("/portfolio-invite/" in response.get_data(as_text=True))


def _csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


ROWS = st.lists(st.lists(VALUES, min_size=3, max_size=5), max_size=5)
CSV_FILES = st.one_of(st.binary(max_size=300), ROWS.map(_csv),
                      ROWS.map(lambda rows: _csv([list(portfolios.CSV_COLUMNS), *rows])))


@FUZZ
@given(content=CSV_FILES)
def test_inviting_agencies_from_a_csv_file(owner, portfolio, db, content):
    response, refused = send(owner, db, "POST", f"/portfolios/{portfolio}/agencies/upload",
                             data={"file": (io.BytesIO(content), "agencies.csv")}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert (refused is None) == ("/portfolio-invite/" in response.get_data(as_text=True))


@FUZZ
@given(name=st.one_of(st.none(), VALUES))
def test_opening_a_round(owner, portfolio, db, name):
    response, refused = send(owner, db, "POST", f"/portfolios/{portfolio}/rounds",
                             data={} if name is None else {"name": name})
    # Opened: back to the dashboard; refused: the dashboard again, the error beside the name typed.
    assert response.status_code == (200 if refused else 302)


@FUZZ
@given(page=st.sampled_from(["", "/export.csv", "/export.json", "/agencies", "/agencies/1", "/agencies/2"]),
       query=st.dictionaries(st.sampled_from(["type", "size", "round", "other"]),
                             st.one_of(VALUES, st.sampled_from(["ministry", "regulator", "large", "small", "1"])),
                             max_size=3))
def test_dashboard_filters_and_rounds(owner, people, portfolio, default_rubric, db, page, query):
    if not portfolios.round_rows(db, portfolio, portfolios.rounds(db, portfolio)[0]["id"]):  # once: something to filter
        add_agency(db, portfolio, default_rubric, "Agency A", people["outsider"])
        add_agency(db, portfolio, default_rubric, "Agency B", people["viewer"], type_="regulator", size="small")
    response, _ = send(owner, db, "GET", f"/portfolios/{portfolio}{page}", query_string=query)
    assert response.status_code in (200, 404)


@FUZZ
@given(form=st.fixed_dictionaries({}, optional={"name": VALUES, "email": st.one_of(VALUES, st.just("a@b.example")),
                                                "password": VALUES, "confirm": VALUES}),
       real=st.booleans(), token=st.text(min_size=1, max_size=40))
@example(form={}, real=False, token="/0")  # noqa: S106 (found by Hypothesis: "/portfolio-invite//0" is merged and redirected)
def test_an_agency_accepting_its_invitation(app, portfolio, db, form, real, token):
    if real:  # a new agency's invitation
        (count,) = db.execute("SELECT count(*) FROM portfolio_agencies").fetchone()
        token = invite(db, portfolio, f"Agency {count}").token
    response, refused = send(app.test_client(), db, "POST", f"/portfolio-invite/{token}", data=form)
    assert response.status_code in (200, 302, 404, MERGED_SLASHES)
    assert response.status_code == MERGED_SLASHES or (response.status_code != 302) == (refused is not None)
