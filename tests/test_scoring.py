"""The scoring engine: known results, the weakest-link rule, gaps, and property tests."""

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessment.answers import DONT_KNOW, NOT_APPLICABLE, Answer, AnswerSet
from assessment.scoring import score


def _all(rubric, value, **extra):
    return AnswerSet(answers={qid: Answer(value) for qid in rubric.questions}, **extra)


def _with(rubric, base, **changes):
    answers = {qid: Answer(base) for qid in rubric.questions}
    answers.update({qid.replace("__", "."): Answer(v) for qid, v in changes.items()})
    return AnswerSet(answers=answers)


def test_all_fours_give_100_and_leading_with_no_gaps(rubric):
    result = score(rubric, _all(rubric, 4))
    assert result.overall == 100 and result.stage == "leading" and result.gaps == ()
    assert all(d.score == 100 and d.completeness == 1 for d in result.dimensions)


def test_all_zeros_give_0_and_a_gap_on_every_question(rubric):
    result = score(rubric, _all(rubric, 0))
    assert result.overall == 0 and result.stage == "unprepared"
    assert len(result.gaps) == len(rubric.questions)


def test_no_answers_gives_no_score_and_lists_everything_unanswered(rubric):
    result = score(rubric, AnswerSet(answers={}))
    assert result.overall is None and result.stage is None
    assert all(d.score is None and d.completeness == 0 for d in result.dimensions)
    assert len(result.unanswered) == len(rubric.questions)


def test_critical_question_at_level_1_caps_the_stage_and_is_named(rubric):
    result = score(rubric, _with(rubric, 4, data__residency=1))
    assert result.uncapped_stage == "leading"
    assert result.stage == "developing"
    assert result.capped_by == ("data.residency",)


def test_dont_know_on_a_critical_question_also_caps(rubric):
    result = score(rubric, _with(rubric, 4, security__continuity=DONT_KNOW))
    assert result.stage == "developing" and result.capped_by == ("security.continuity",)
    assert result.evidence_gaps == ("security.continuity",)
    assert [g.question for g in result.gaps if g.evidence_gap] == ["security.continuity"]


def test_critical_question_at_level_2_does_not_cap(rubric):
    result = score(rubric, _with(rubric, 4, data__residency=2))
    assert result.stage == "leading" and result.capped_by == ()


def test_not_applicable_on_a_critical_question_does_not_cap(rubric):
    result = score(rubric, _with(rubric, 4, data__residency=NOT_APPLICABLE))
    assert result.stage == "leading" and result.overall == 100


def test_priority_is_gap_times_weight_times_largest_driver_factor(rubric):
    question = rubric.questions["data.residency"]  # weight 3, serves data control among others
    answers = {qid: Answer(3) for qid in rubric.questions}
    answers["data.residency"] = Answer(1)
    result = score(rubric, AnswerSet(answers=answers, drivers={"data_control": "critical",
                                                               "national_security": "not_relevant"}))
    (gap,) = result.gaps
    assert gap.priority == (3 - 1) * question.weight * 2.0
    assert gap.next_step == question.next_steps[1].action
    assert gap.horizon == question.next_steps[1].horizon


def test_organization_target_overrides_the_rubric_default(rubric):
    answers = _all(rubric, 3, targets={"data.residency": 4})
    (gap,) = score(rubric, answers).gaps
    assert (gap.question, gap.current, gap.target) == ("data.residency", 3, 4)


def test_roadmap_groups_gaps_by_horizon_in_priority_order(rubric):
    result = score(rubric, _all(rubric, 0, drivers={"national_security": "critical"}))
    roadmap = result.roadmap()
    assert list(roadmap) == ["now", "next", "later"]
    assert sum(len(g) for g in roadmap.values()) == len(result.gaps)
    for gaps in roadmap.values():
        assert [g.priority for g in gaps] == sorted((g.priority for g in gaps), reverse=True)


def test_json_shape_has_the_documented_keys(rubric):
    data = score(rubric, _all(rubric, 1)).as_dict()
    assert {"overall", "stage", "capped_by", "dimensions", "gaps"} <= set(data)
    assert set(data["dimensions"][0]) >= {"id", "score", "completeness"}
    assert set(data["gaps"][0]) >= {"question", "current", "target", "priority", "next_step", "horizon"}


# Property tests -------------------------------------------------------------------------

VALUES = st.one_of(st.none(), st.integers(0, 4), st.sampled_from([NOT_APPLICABLE, DONT_KNOW]))


@st.composite
def answer_sets(draw, rubric):
    answers = {}
    for qid in rubric.questions:
        value = draw(VALUES)
        if value is not None:
            answers[qid] = Answer(value)
    return AnswerSet(answers=answers)


def _scores(result):
    return [result.overall] + [d.score for d in result.dimensions]


@pytest.fixture(scope="module")
def shipped(rubric):
    return rubric


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_every_score_is_within_0_and_100(shipped, data):
    result = score(shipped, data.draw(answer_sets(shipped)))
    assert all(0 <= s <= 100 for s in _scores(result) if s is not None)
    assert all(0 <= d.completeness <= 1 for d in result.dimensions)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_scoring_without_gaps_gives_the_same_scores_and_stage(shipped, data):
    answers = data.draw(answer_sets(shipped))
    full, stored = score(shipped, answers), score(shipped, answers, gaps=False)
    assert stored.gaps == () and stored.evidence_gaps == ()
    assert stored == replace(full, gaps=(), evidence_gaps=())


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_raising_one_answer_never_lowers_its_dimension_or_the_index(shipped, data):
    answers = data.draw(answer_sets(shipped))
    raisable = [q for q, a in answers.answers.items() if a.value != NOT_APPLICABLE and a.level < 4]
    if not raisable:
        return
    qid = data.draw(st.sampled_from(raisable))
    before = score(shipped, answers)
    raised = dict(answers.answers, **{qid: Answer(answers.answers[qid].level + 1)})
    after = score(shipped, AnswerSet(answers=raised))
    index = [d.id for d in shipped.dimensions].index(shipped.dimension_id[qid])
    assert after.dimensions[index].score >= before.dimensions[index].score
    assert after.overall >= before.overall


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_marking_a_question_not_applicable_leaves_other_dimensions_unchanged(shipped, data):
    answers = data.draw(answer_sets(shipped))
    qid = data.draw(st.sampled_from(list(shipped.questions)))
    before = score(shipped, answers)
    after = score(shipped, AnswerSet(answers=dict(answers.answers, **{qid: Answer(NOT_APPLICABLE)})))
    own = shipped.dimension_id[qid]
    assert [d for d in after.dimensions if d.id != own] == [d for d in before.dimensions if d.id != own]


@settings(max_examples=100, deadline=None)
@given(data=st.data(), seed=st.integers())
def test_answer_order_is_irrelevant(shipped, data, seed):
    answers = data.draw(answer_sets(shipped))
    items = list(answers.answers.items())
    random.Random(seed).shuffle(items)
    assert score(shipped, AnswerSet(answers=dict(items))) == score(shipped, answers)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), bad=st.one_of(st.integers().filter(lambda i: i not in range(5)),
                                      st.text().filter(lambda t: t not in (NOT_APPLICABLE, DONT_KNOW)),
                                      st.booleans(), st.floats(allow_nan=False)))
def test_an_invalid_answer_raises_value_error_naming_the_question(shipped, data, bad):
    qid = data.draw(st.sampled_from(list(shipped.questions)))
    with pytest.raises(ValueError, match=qid.replace(".", r"\.")):
        score(shipped, AnswerSet(answers={qid: Answer(bad)}))


def test_an_unknown_question_raises_value_error_naming_it(rubric):
    with pytest.raises(ValueError, match="unknown question 'data.weather'"):
        score(rubric, AnswerSet(answers={"data.weather": Answer(2)}))
