"""Two rounds side by side, on one rubric version or on two."""

import pytest

from assessment.answers import Answer, AnswerSet
from assessment.compare import ADDED, CHANGED, REMOVED, REWORDED, SAME, compare
from assessment.rubrics import parse_rubric
from assessment.scoring import score


@pytest.fixture(scope="module")
def newer(next_version_yaml):
    return parse_rubric(next_version_yaml, "v2.yaml")


def _scored(rubric, level, **changes):
    answers = {qid: Answer(level) for qid in rubric.questions} | {qid.replace("__", "."): Answer(value)
                                                                  for qid, value in changes.items()}
    answer_set = AnswerSet(answers=answers)
    return answer_set, score(rubric, answer_set)


def test_rounds_on_one_version_compare_every_dimension_and_answer(rubric):
    comparison = compare(rubric, rubric, _scored(rubric, 2), _scored(rubric, 2, data__residency=4))
    assert comparison.like_for_like and comparison.overall_delta > 0
    assert {d.status for d in comparison.dimensions} == {SAME}
    data = next(d for d in comparison.dimensions if d.id == "data")
    assert data.delta == pytest.approx(100 * 2 / 4 * 3 / sum(q.weight for q in rubric.dimensions[1].questions))
    assert [(q.id, q.before, q.after, q.delta) for q in comparison.changed] == [("data.residency", 2, 4, 2)]
    assert comparison.one_version_only == ()


def test_across_versions_what_only_one_has_is_shown_as_such_never_as_a_change(rubric, newer):
    # The same answer to every question both versions have: nothing the organization did changed.
    comparison = compare(rubric, newer, _scored(rubric, 2), _scored(newer, 2))
    status = {d.id: (d.status, d.delta) for d in comparison.dimensions}
    assert status["compute"] == (ADDED, None)
    assert status["strategy"] == (CHANGED, None)  # a question removed, one added
    assert status["security"] == (CHANGED, None)  # a question's weight changed
    assert status["data"] == (SAME, 0)  # only the dimension's own weight changed
    assert not comparison.like_for_like and comparison.overall_delta is None
    only = {q.id: (q.status, q.before, q.after) for q in comparison.one_version_only}
    assert only["strategy.funding"] == (REMOVED, 2, None)
    assert only["strategy.roadmap"] == (ADDED, None, 2)
    assert {q for q, (status, _, _) in only.items() if status == ADDED} >= {"compute.q0", "compute.q1", "compute.q2"}
    assert comparison.changed == ()
    reworded = next(q for q in comparison.questions if q.id == "strategy.objectives")
    assert reworded.status == REWORDED and reworded.delta == 0


def test_a_dimension_the_later_version_removed_is_listed_as_removed(rubric, newer):
    comparison = compare(newer, rubric, _scored(newer, 3), _scored(rubric, 3))
    compute = next(d for d in comparison.dimensions if d.id == "compute")
    assert (compute.status, compute.before, compute.after, compute.delta) == (REMOVED, 75, None, None)
    assert comparison.dimensions[-1] == compute  # after the later round's own dimensions
