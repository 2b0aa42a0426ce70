"""What a readiness report says: the pure content behind the PDF (and the results page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from .answers import AnswerSet
from .divergence import Summary
from .peers import PeerDataset
from .rubric import Question, Rubric
from .scoring import Gap, Result

STRENGTHS = 3
URGENT = 5


@dataclass(frozen=True)
class Strength:
    question: Question
    dimension: str
    level: int


@dataclass(frozen=True)
class Report:
    rubric: Rubric
    answers: AnswerSet
    result: Result
    peers: PeerDataset | None
    date: datetime
    workshop: Summary | None = None  # the assessment's latest workshop, if it had one

    @property
    def organization(self) -> str:
        return self.answers.organization or "Your organization"

    def strengths(self) -> list[Strength]:
        """The three strongest practices: level 3 or 4, heaviest weight first, in rubric order."""
        rows = []
        for dimension in self.rubric.dimensions:
            for question in dimension.questions:
                answer = self.answers.answers.get(question.id)
                if answer is not None and answer.level is not None and answer.level >= 3:
                    rows.append(Strength(question, dimension.title, answer.level))
        return sorted(rows, key=lambda s: (-s.level, -s.question.weight))[:STRENGTHS]

    def answered_as(self, value: str, questions: list[Question] | None = None) -> int:
        """How many answers (to these questions, or to all) are ``value``, such as "dont_know"."""
        ids = self.answers.answers.keys() if questions is None else [q.id for q in questions]
        return sum(getattr(self.answers.answers.get(qid), "value", None) == value for qid in ids)

    def urgent(self) -> list[Gap]:
        return list(self.result.gaps[:URGENT])

    def stage_name(self, stage_id: str | None) -> str:
        return next((s.name for s in self.rubric.stages if s.id == stage_id), "not scored")


def report_date(epoch: str | None) -> datetime:
    """The report's date: SOURCE_DATE_EPOCH when set (reproducible builds), else now. A value
    that is no date is a ValueError naming the variable."""
    if not epoch:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    except (ValueError, OverflowError, OSError):  # not a number; past the year 9999 or time_t
        raise ValueError(f"SOURCE_DATE_EPOCH={epoch!r}: expected a whole number of seconds since "
                         "1970-01-01 UTC, before the year 10000") from None
