"""Fuzzing the workshop forms, the facilitator's and the participants' (tests/web/fuzzing.py says what
each request must do: no 500; a refusal says why and changes nothing)."""

from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from assessment import workshops
from assessment.storage import write_transaction

from .fuzzing import FUZZ, MERGED_SLASHES, VALUES, send
from .test_workshops import _code, _join

DIMENSION_IDS = st.sampled_from(["data", "security", "governance", "compute", "", "x"])
QUESTION_IDS = st.one_of(st.sampled_from(["data.residency", "data.quality", "security.keys", "governance.policy"]),
                         st.text(min_size=1, max_size=30))


def _forget_failures(db):
    # Wrong join codes are counted (10 in ten minutes, then 429): start each example afresh.
    with write_transaction(db):
        db.execute("DELETE FROM failures")


@FUZZ
@given(dimensions=st.lists(st.one_of(DIMENSION_IDS, VALUES), max_size=4))
def test_opening_a_workshop(editor, finished, db, dimensions):
    response, refused = send(editor, db, "POST", f"/a/{finished}/workshops", data={"dimensions": dimensions})
    assert (response.status_code == 200) == (refused is not None)


@FUZZ
@given(question=QUESTION_IDS, form=st.fixed_dictionaries({}, optional={"level": VALUES, "rationale": VALUES}))
def test_recording_consensus(editor, workshop, db, question, form):
    response, refused = send(editor, db, "POST", f"/workshops/{workshop}/consensus/{quote(question, safe='')}",
                             data=form)
    assert response.status_code in (200, 302, 404, MERGED_SLASHES)  # 200: refused, shown beside the field
    assert response.status_code != 200 or refused is not None


@FUZZ
@given(action=st.sampled_from(["reveal", "close", "participants/1/forget", "participants/2/forget",
                               "participants/99/forget"]))
def test_reveal_close_and_forget(editor, workshop, db, action):
    if not workshops.get_workshop(db, workshop).closed:  # someone to forget
        workshops.join(db, workshop, "Pat")
    missing = action.endswith("/forget") and int(action.split("/")[1]) not in {
        p["id"] for p in workshops.participants(db, workshop)}
    response, refused = send(editor, db, "POST", f"/workshops/{workshop}/{action}")
    assert (response.status_code, refused is None) == ((404, False) if missing else (302, True))


@FUZZ
@given(code=st.one_of(st.none(), VALUES), name=st.one_of(st.none(), VALUES), real=st.booleans())
def test_joining_by_code_then_by_name(app, workshop, db, code, name, real):
    _forget_failures(db)
    client = app.test_client()
    typed = _code(db, workshop) if real else code
    response, refused = send(client, db, "POST", "/join", data={} if typed is None else {"code": typed})
    assert (response.status_code == 200) == (refused is not None)
    path = f"/join/{quote(_code(db, workshop) if real else (code or 'x'), safe='')}"
    response, refused = send(client, db, "POST", path, data={} if name is None else {"display_name": name})
    assert response.status_code in (200, 302, 404, MERGED_SLASHES)


ANSWER_FIELDS = ["data.residency-value", "data.residency-note", "data.residency-basis", "data.quality-value",
                 "security.keys-value", "csrf_token"]


@FUZZ
@given(dimension=DIMENSION_IDS,
       form=st.dictionaries(st.one_of(st.sampled_from(ANSWER_FIELDS), st.text(max_size=20)), VALUES, max_size=6))
def test_participant_answers(app, workshop, db, dimension, form):
    client = _join(app, db, workshop)
    response, refused = send(client, db, "POST", f"/p/{workshop}/{quote(dimension, safe='') or 'x'}", data=form)
    assert response.status_code in (200, 302, 400, 404, MERGED_SLASHES)
    assert response.status_code == MERGED_SLASHES or (response.status_code == 302) == (refused is None)
