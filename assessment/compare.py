"""Two rounds of an assessment side by side: deltas per dimension and per question. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from .answers import AnswerSet
from .rubric import Rubric
from .scoring import Result


class DimensionDelta(NamedTuple):
    id: str
    title: str
    before: float | None
    after: float | None
    delta: float | None


class QuestionDelta(NamedTuple):
    id: str
    dimension: str
    title: str
    before: int | str | None
    after: int | str | None
    delta: int | None  # between scoring levels; None when either side has none


@dataclass(frozen=True)
class Comparison:
    overall_before: float | None
    overall_after: float | None
    overall_delta: float | None
    dimensions: tuple[DimensionDelta, ...]
    questions: tuple[QuestionDelta, ...]

    @property
    def changed(self) -> tuple[QuestionDelta, ...]:
        return tuple(q for q in self.questions if q.before != q.after)


def _minus(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


def _question(rubric: Rubric, qid: str, before: AnswerSet, after: AnswerSet) -> QuestionDelta:
    old, new = before.answers.get(qid), after.answers.get(qid)
    delta = _minus(new.level if new else None, old.level if old else None)
    return QuestionDelta(qid, rubric.dimension_id[qid], rubric.questions[qid].title,
                         old.value if old else None, new.value if new else None, delta)


def compare(rubric: Rubric, before: tuple[AnswerSet, Result], after: tuple[AnswerSet, Result]) -> Comparison:
    """Deltas from ``before`` to ``after``, over the dimensions and questions of ``rubric``.

    Rounds may be on different rubric versions: what only one of them has shows no delta.
    """
    old = {d.id: d.score for d in before[1].dimensions}
    dimensions = tuple(DimensionDelta(d.id, d.title, old.get(d.id), d.score, _minus(d.score, old.get(d.id)))
                       for d in after[1].dimensions)
    questions = tuple(_question(rubric, qid, before[0], after[0]) for qid in rubric.questions)
    return Comparison(before[1].overall, after[1].overall, _minus(after[1].overall, before[1].overall),
                      dimensions, questions)
