"""Assessments in the database: denormalized scores, rounds, and refusals."""

import pytest

from assessment import records, storage
from assessment.answers import DONT_KNOW, NOT_APPLICABLE, Answer, AnswerSet
from assessment.paths import DEFAULT_RUBRIC
from assessment.rubrics import add_rubric
from assessment.scoring import score


@pytest.fixture
def db(tmp_path):
    db = storage.init(tmp_path / "r.db")
    db.execute("INSERT INTO workspaces (id, name, created_at) VALUES (1, 'W', '')")
    db.conn.commit()
    return db


@pytest.fixture
def stored(db):
    return add_rubric(db, DEFAULT_RUBRIC.read_text(encoding="utf-8"), DEFAULT_RUBRIC.name)[0]


def _assert_scores_match_the_engine(db, stored, assessment_id):
    result = score(stored, records.answer_set(db, records.get_assessment(db, assessment_id)))
    rows = {r["dimension"]: r for r in db.query("SELECT * FROM scores WHERE assessment_id = ?", [assessment_id])}
    assert rows.pop(records.OVERALL)["score"] == pytest.approx(result.overall)
    assert {d: r["score"] for d, r in rows.items()} == pytest.approx({d.id: d.score for d in result.dimensions})
    assert {r["rubric_version"] for r in rows.values()} == {"1.0.1"}


def test_scores_rows_match_the_engine_after_every_save(db, stored):
    answers = {qid: Answer(i % 5) for i, qid in enumerate(stored.questions)}
    assessment_id = records.create_assessment(db, 1, stored, "T", answers=AnswerSet(answers=answers))
    _assert_scores_match_the_engine(db, stored, assessment_id)
    # A save scores the answers it has just written without reading them back: removed, changed,
    # not applicable, don't know and untouched answers must all count as stored.
    first, second, third, fourth = list(stored.questions)[:4]
    records.save_answers(db, records.get_assessment(db, assessment_id), stored,
                         {first: None, second: Answer(4, "n"), third: Answer(NOT_APPLICABLE), fourth: Answer(DONT_KNOW)})
    _assert_scores_match_the_engine(db, stored, assessment_id)


def test_a_save_writes_only_the_answers_that_changed(db, stored):
    first, second, third = list(stored.questions)[:3]
    given = {first: Answer(2, "note"), second: Answer(3), third: None}
    assessment_id = records.create_assessment(db, 1, stored, "T", answers=AnswerSet(answers={first: Answer(2, "note")}))
    records.save_answers(db, records.get_assessment(db, assessment_id), stored, given)
    db.execute("UPDATE answers SET updated_at = 'then'")
    db.execute("UPDATE assessments SET updated_at = 'then'")
    db.conn.commit()
    before = records.get_assessment(db, assessment_id)
    audited = db.execute("SELECT count(*) FROM audit").fetchone()[0]

    records.save_answers(db, before, stored, given)  # the page saved again unchanged: nothing written
    unchanged = records.get_assessment(db, assessment_id)
    assert (unchanged.content_token, unchanged.updated_at) == (before.content_token, "then")
    assert db.execute("SELECT count(*) FROM audit").fetchone()[0] == audited

    records.save_answers(db, unchanged, stored, {**given, second: Answer(3, "now with a note")})
    times = dict(db.execute("SELECT question_id, updated_at FROM answers WHERE assessment_id = ?", [assessment_id]))
    assert times[first] == "then" and times[second] != "then"
    assert records.get_assessment(db, assessment_id).content_token != before.content_token
    assert [row[0] for row in db.execute("SELECT subject FROM audit ORDER BY id")][audited:] == [second]


def test_fields_saved_unchanged_write_nothing(db, stored):
    """Moving on from the organization, drivers or barriers page without a change stamped the
    assessment as updated: the dashboard's "Updated" and order, and the PDF's date, moved."""
    fields = {"title": "T", "organization": "Org", "profile": {"region": "europe"}, "opt_in_benchmark": False,
              "drivers": {"data_control": "critical"}, "barriers": ["ip_concerns", "vendor_lock_in"]}
    assessment_id = records.create_assessment(db, 1, stored, "T")
    records.update_assessment(db, records.get_assessment(db, assessment_id), stored, **fields)
    db.execute("UPDATE assessments SET updated_at = 'then'")
    db.conn.commit()
    before = records.get_assessment(db, assessment_id)
    records.update_assessment(db, before, stored, **fields)
    records.update_assessment(db, before, stored, barriers=["vendor_lock_in", "ip_concerns"])  # the same, reordered
    after = records.get_assessment(db, assessment_id)
    assert (after.content_token, after.updated_at) == (before.content_token, "then")
    records.update_assessment(db, after, stored, title="Renamed")
    assert records.get_assessment(db, assessment_id).updated_at != "then"


def test_each_read_of_an_assessment_has_containers_of_its_own(db, stored):
    assessment_id = records.create_assessment(db, 1, stored, "T", drivers={"data_control": "critical"},
                                              barriers=["ip_concerns"])
    first = records.get_assessment(db, assessment_id)
    first.drivers["data_control"] = "changed in memory"
    first.barriers.append("changed in memory")
    again = records.get_assessment(db, assessment_id)
    assert (again.drivers, again.barriers, again.opt_in_benchmark) == ({"data_control": "critical"}, ["ip_concerns"],
                                                                       False)


def test_many_answer_sets_read_at_once_equal_those_read_one_by_one(db, stored):
    ids = [records.create_assessment(db, 1, stored, f"T{n}", answers=AnswerSet(
        answers={qid: Answer(n, f"note {n}") for qid in list(stored.questions)[n:]}, organization=f"Org {n}"))
        for n in range(3)]
    ids.append(records.create_assessment(db, 1, stored, "Unanswered"))
    read = records.answer_sets(db, [*ids, "no-such-assessment"])
    assert read == {i: records.answer_set(db, records.get_assessment(db, i)) for i in ids}
    assert records.answer_sets(db, []) == {}


def test_cohort_statistics_read_the_covering_index(db):
    plan = " ".join(row[3] for row in db.execute(
        "EXPLAIN QUERY PLAN SELECT score FROM scores WHERE rubric_id = ? AND rubric_version = ? AND dimension = ?",
        ["r", "1.0.0", "data"]))
    assert "COVERING INDEX scores_cohort" in plan


def test_a_round_copies_answers_and_keeps_its_parents_rubric_version(db, stored):
    first = records.create_assessment(db, 1, stored, "T", answers=AnswerSet(answers={"data.residency": Answer(2)}),
                                      drivers={"data_control": "critical"}, barriers=["ip_concerns"])
    parent = records.get_assessment(db, first)
    later = records.get_assessment(db, records.start_round(db, parent, stored, "T2", None))
    assert (later.parent_id, later.rubric_version, later.drivers, later.barriers) == (
        first, "1.0.1", {"data_control": "critical"}, ["ip_concerns"])
    assert records.answer_set(db, later).answers == records.answer_set(db, parent).answers


def test_a_round_on_another_rubric_is_refused_and_nothing_is_written(db, stored):
    """A round compares with its parent question by question: on a rubric with another id it
    would have nothing in common with it."""
    other_text = DEFAULT_RUBRIC.read_text(encoding="utf-8").replace("id: sovereign-ai-readiness", "id: other-rubric", 1)
    other = add_rubric(db, other_text, "other.yaml")[0]
    parent = records.get_assessment(db, records.create_assessment(db, 1, stored, "T"))
    counts = "SELECT (SELECT count(*) FROM assessments), (SELECT count(*) FROM audit)"
    before = db.execute(counts).fetchone()
    with pytest.raises(ValueError, match="a round of a sovereign-ai-readiness assessment cannot be on rubric other-rubric"):
        records.start_round(db, parent, other, "T2", None)
    assert db.execute(counts).fetchone() == before


def test_unknown_questions_and_fields_are_refused(db, stored):
    assessment = records.get_assessment(db, records.create_assessment(db, 1, stored, "T"))
    with pytest.raises(ValueError, match="unknown question 'data.weather'"):
        records.save_answers(db, assessment, stored, {"data.weather": Answer(1)})
    with pytest.raises(ValueError, match="not editable: workspace_id"):
        records.update_assessment(db, assessment, stored, workspace_id=2)


def test_an_assessment_must_name_a_stored_rubric_version(db, stored):
    other = stored.model_copy(update={"version": "9.9.9"})
    with pytest.raises(Exception, match="FOREIGN KEY"):
        records.create_assessment(db, 1, other, "T")


def test_every_write_replaces_the_content_token(db, stored):
    """The results page is cached by this token: a write that kept it would show a stale page."""
    assessment_id = records.create_assessment(db, 1, stored, "T")
    seen = [records.get_assessment(db, assessment_id).content_token]
    first = next(iter(stored.questions))
    records.save_answers(db, records.get_assessment(db, assessment_id), stored, {first: Answer(3)})
    seen.append(records.get_assessment(db, assessment_id).content_token)
    records.save_answers(db, records.get_assessment(db, assessment_id), stored, {}, targets={first: 4})
    seen.append(records.get_assessment(db, assessment_id).content_token)
    records.update_assessment(db, records.get_assessment(db, assessment_id), stored, title="Renamed")
    seen.append(records.get_assessment(db, assessment_id).content_token)
    assert all(seen) and len(set(seen)) == len(seen)


def test_any_change_to_any_assessment_replaces_the_cohorts_token(db, stored):
    """Results pages show the live cohorts and are cached by this token: whatever changes one
    member (its answers, profile, opt-in, deletion, a new one) must replace it."""
    seen = [records.cohorts_token(db)]

    def changed():
        seen.append(records.cohorts_token(db))
        return seen[-1] != seen[-2]

    one = records.create_assessment(db, 1, stored, "One")
    assert changed()
    other = records.create_assessment(db, 1, stored, "Other")
    assert changed()
    records.save_answers(db, records.get_assessment(db, one), stored, {next(iter(stored.questions)): Answer(3)})
    assert changed()
    records.update_assessment(db, records.get_assessment(db, other), stored, opt_in_benchmark=True)
    assert changed()
    db.execute("UPDATE scores SET score = 50 WHERE assessment_id = ?", [other])  # even outside records.py
    db.conn.commit()
    assert changed()
    records.delete_assessment(db, one)
    assert changed()
    assert not changed()  # reading it changes nothing


def test_answers_to_some_questions_are_those_of_the_whole_set(db, stored):
    answers = {qid: Answer(i % 5, f"note {i}") for i, qid in enumerate(stored.questions)}
    assessment_id = records.create_assessment(db, 1, stored, "T", answers=AnswerSet(answers=answers))
    some = list(stored.questions)[3:9]
    assert records.answers_to(db, assessment_id, some) == {qid: answers[qid] for qid in some}
