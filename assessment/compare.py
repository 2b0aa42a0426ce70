"""Two rounds of an assessment side by side: deltas per dimension and per question. Pure.

The rounds may be on different rubric versions. What only one version has is marked as added or
removed, and a score whose questions or weights differ between the versions gets no delta: a
change of the rubric is not a change of the organization.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from .answers import AnswerSet
from .rubric import Dimension, Question, Rubric
from .scoring import Result

SAME = "same"
CHANGED = "changed"  # a dimension in both versions, scored on other questions or weights
REWORDED = "reworded"  # a question in both versions, asked in other words
ADDED = "added"  # only in the later round's version
REMOVED = "removed"  # only in the earlier round's version


class DimensionDelta(NamedTuple):
    id: str
    title: str
    before: float | None
    after: float | None
    delta: float | None  # None unless both rounds score it, and on the same questions and weights
    status: str = SAME


class QuestionDelta(NamedTuple):
    id: str
    dimension: str
    title: str
    before: int | str | None
    after: int | str | None
    delta: int | None  # between scoring levels; None when either side has none
    status: str = SAME


@dataclass(frozen=True)
class Comparison:
    overall_before: float | None
    overall_after: float | None
    overall_delta: float | None
    dimensions: tuple[DimensionDelta, ...]
    questions: tuple[QuestionDelta, ...]
    like_for_like: bool = True  # whether both versions score the index alike

    @property
    def changed(self) -> tuple[QuestionDelta, ...]:
        """The questions of both versions whose answer changed."""
        return tuple(q for q in self.questions if q.status in (SAME, REWORDED) and q.before != q.after)

    @property
    def one_version_only(self) -> tuple[QuestionDelta, ...]:
        return tuple(q for q in self.questions if q.status in (ADDED, REMOVED))


def _minus(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


def _scored_by(dimension: Dimension) -> frozenset[tuple[str, float]]:
    """What a dimension's score is computed from: its questions and their weights."""
    return frozenset((q.id, q.weight) for q in dimension.questions)


def _index_scored_by(rubric: Rubric) -> dict[str, tuple[float, frozenset]]:
    return {d.id: (d.weight, _scored_by(d)) for d in rubric.dimensions}


def _dimension_status(dimension_id: str, old: Rubric, new: Rubric) -> str:
    """The status of one of ``new``'s dimensions (those only ``old`` has are listed apart, removed)."""
    before = next((d for d in old.dimensions if d.id == dimension_id), None)
    if before is None:
        return ADDED
    after = next(d for d in new.dimensions if d.id == dimension_id)
    return SAME if _scored_by(before) == _scored_by(after) else CHANGED


def _dimensions(old: Rubric, new: Rubric, before: Result, after: Result) -> tuple[DimensionDelta, ...]:
    scores = {d.id: d for d in before.dimensions}
    later = {d.id for d in after.dimensions}
    deltas = []
    for d in after.dimensions:
        status, was = _dimension_status(d.id, old, new), scores.get(d.id)
        was_score = was.score if was else None
        deltas.append(DimensionDelta(d.id, d.title, was_score, d.score,
                                     _minus(d.score, was_score) if status == SAME else None, status))
    deltas += [DimensionDelta(d.id, d.title, d.score, None, None, REMOVED) for d in before.dimensions
               if d.id not in later]
    return tuple(deltas)


def _wording(question: Question) -> tuple:
    return question.title, question.text, question.levels


def _question(qid: str, old: Rubric, new: Rubric, before: AnswerSet, after: AnswerSet) -> QuestionDelta:
    was, now = before.answers.get(qid), after.answers.get(qid)
    if qid not in old.questions:
        status = ADDED
    elif qid not in new.questions:
        status = REMOVED
    else:
        status = SAME if _wording(old.questions[qid]) == _wording(new.questions[qid]) else REWORDED
    rubric = old if status == REMOVED else new
    delta = _minus(now.level if now else None, was.level if was else None) if status in (SAME, REWORDED) else None
    return QuestionDelta(qid, rubric.dimension_id[qid], rubric.questions[qid].title,
                         was.value if was else None, now.value if now else None, delta, status)


def compare(old: Rubric, new: Rubric, before: tuple[AnswerSet, Result], after: tuple[AnswerSet, Result]) -> Comparison:
    """Deltas from ``before`` (answered on ``old``) to ``after`` (answered on ``new``).

    The later round's dimensions and questions come first, in its rubric's order, then those
    that only the earlier round's rubric has.
    """
    alike = _index_scored_by(old) == _index_scored_by(new)
    qids = list(new.questions) + [qid for qid in old.questions if qid not in new.questions]
    questions = tuple(_question(qid, old, new, before[0], after[0]) for qid in qids)
    overall_delta = _minus(after[1].overall, before[1].overall) if alike else None
    return Comparison(before[1].overall, after[1].overall, overall_delta,
                      _dimensions(old, new, before[1], after[1]), questions, alike)
