"""Property-based fuzzing of the journey's forms and the answers import: no input yields a 500,
and a refused request changes nothing already stored."""

import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import text

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FIELDS = ["data.residency-value", "data.residency-note", "data.residency-basis", "data.quality-value",
          "title", "organization", "region", "data_control", "barriers", "go"]
VALUES = st.one_of(st.text(max_size=300), st.sampled_from(["0", "4", "5", "-1", "n/a", "dont_know", "2.0", "",
                                                           "evidenced", "back", "europe", "critical", "\x00", " \r"]))
FORMS = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=20)), VALUES, max_size=8)
PAGES = st.sampled_from(["dimensions/data", "about", "drivers", "barriers"])


def _stored(db, assessment_id):
    answers = db.execute("SELECT question_id, value, note, basis FROM answers WHERE assessment_id = ?",
                         [assessment_id]).fetchall()
    row = db.execute("SELECT title, organization, profile, drivers, barriers FROM assessments WHERE id = ?",
                     [assessment_id]).fetchone()
    return sorted(answers), row


@FUZZ
@given(page=PAGES, data=FORMS)
def test_journey_forms_never_fail_and_refusals_change_nothing(owner, finished, db, page, data):
    before = _stored(db, finished)
    response = owner.post(f"/a/{finished}/{page}", data=data)
    assert response.status_code in (200, 302), text(response)[:300]
    if response.status_code == 200:  # refused: shown again with its errors
        assert 'class="error-summary"' in text(response)
        assert _stored(db, finished) == before


DOCUMENTS = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30)),
                         lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                 st.dictionaries(st.text(max_size=15), inner, max_size=4)),
                         max_leaves=20)


@FUZZ
@given(document=st.one_of(DOCUMENTS, st.fixed_dictionaries({"rubric": st.just("sovereign-ai-readiness"),
                                                               "answers": st.dictionaries(st.text(max_size=20),
                                                                                          DOCUMENTS, max_size=4)})))
def test_import_never_fails_and_a_refused_file_creates_nothing(owner, people, db, document):
    count = db.execute("SELECT count(*) FROM assessments").fetchone()[0]
    upload = (io.BytesIO(json.dumps(document).encode()), "answers.json")
    response = owner.post(f"/w/{people['workspace']}/import", data={"file": upload},
                          content_type="multipart/form-data")
    assert response.status_code in (200, 302), text(response)[:300]
    if response.status_code == 200:
        assert db.execute("SELECT count(*) FROM assessments").fetchone()[0] == count
