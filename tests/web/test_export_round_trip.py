"""Exports of assessments holding every odd value: the JSON export imports back to the same
assessment, and the answers CSV reads back, in Python's csv module, with the same cells."""

import csv
import io
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessment import records
from assessment.answers import BASES, NAME_MAX, NOTE_MAX, SCORING_LEVEL, Answer, AnswerSet
from assessment.exports import FORMULA_STARTS
from assessment.paths import DEFAULT_RUBRIC
from assessment.rubric import load_rubric

from .conftest import csv_text, text
from .fuzzing import FUZZ

# What people paste into notes and names: line breaks of every kind, quotes, formula-like starts
# (also after a tab or a carriage return), CJK, emoji, right-to-left text, and plain letters.
ODD = st.sampled_from(["\n", "\r\n", "\r", '"', "'", ",", ";", "=", "+", "-", "@", "\t=", "\r=", "=1+1",
                       "@SUM(A1)", "設定", "🇪🇺", "👩🏽‍💻", "שלום", "مرحبا", "\u202e", "\u2028", "\x85", " ", "é"])
TEXT = st.lists(st.one_of(ODD, st.text(max_size=8)), max_size=12).map("".join)
NOTES = st.one_of(TEXT, st.just("n" * NOTE_MAX), TEXT.map(lambda t: (t * NOTE_MAX)[:NOTE_MAX]))
NAMES = TEXT.map(lambda t: t[:NAME_MAX])
TITLES = NAMES.filter(str.strip)  # as the app gives them: a form refuses a title of spaces, an import ignores it
ANSWERS = st.builds(Answer, st.sampled_from(list(SCORING_LEVEL)), NOTES, st.sampled_from(BASES))


RUBRIC = load_rubric(DEFAULT_RUBRIC)
QUESTIONS = st.sampled_from(sorted(RUBRIC.questions))
ANSWER_SETS = st.builds(
    AnswerSet, answers=st.dictionaries(QUESTIONS, ANSWERS, max_size=6), rubric=st.just(RUBRIC.id),
    rubric_version=st.just(RUBRIC.version), title=TITLES, organization=NAMES,
    targets=st.dictionaries(QUESTIONS, st.integers(1, 4), max_size=3),
    profile=st.fixed_dictionaries({}, optional={f.id: st.sampled_from([o.id for o in f.options]) for f in RUBRIC.profile}),
    drivers=st.fixed_dictionaries({}, optional={d.id: st.sampled_from(list(RUBRIC.importance_factor))
                                                for d in RUBRIC.drivers}),
    barriers=st.lists(st.sampled_from(sorted(b.id for b in RUBRIC.barriers)), unique=True, max_size=3).map(tuple))


# Hypothesis warns that an example with 2,000-character notes is long to print; the warning is no failure.
LONG_EXAMPLES = pytest.mark.filterwarnings("ignore:Generating overly large repr")


@LONG_EXAMPLES
@FUZZ
@given(answers=ANSWER_SETS)
def test_the_json_export_of_any_assessment_imports_back_the_same(owner, people, db, default_rubric, answers):
    original = records.create_assessment(db, people["workspace"], default_rubric, answers.title, answers=answers)
    exported = owner.get(f"/a/{original}/export.json").get_data()
    response = owner.post(f"/w/{people['workspace']}/import", data={"file": (io.BytesIO(exported), "export.json")},
                          content_type="multipart/form-data")
    assert response.status_code == 302, text(response)[:2000]
    owner.get(response.location)  # as a browser follows it, taking the message the import left in the session
    copy = records.answer_set(db, records.get_assessment(db, response.location.split("/")[2]))
    # The title too, but marked as imported: the original, of that title, is in the workspace still.
    assert " (imported " in copy.title
    assert replace(copy, title=answers.title) == records.answer_set(db, records.get_assessment(db, original))


def _neutralized(note: str) -> str:
    """The note as a cell: one a spreadsheet would run as a formula has an apostrophe before it."""
    return "'" + note if note.startswith(FORMULA_STARTS) else note


@LONG_EXAMPLES
@FUZZ
@given(answers=ANSWER_SETS)
def test_the_answers_csv_of_any_assessment_reads_back_the_same_cells(owner, people, db, default_rubric, answers):
    assessment = records.create_assessment(db, people["workspace"], default_rubric, "CSV", answers=answers)
    rows = list(csv.DictReader(io.StringIO(csv_text(owner.get(f"/a/{assessment}/answers.csv")), newline="")))
    assert len(rows) == len(default_rubric.questions)
    for row in rows:
        answer = answers.answers.get(row["question"])
        assert row["answer"] == ("" if answer is None else str(answer.value))
        assert row["note"] == ("" if answer is None else _neutralized(answer.note))
