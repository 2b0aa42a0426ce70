"""The scoring engine: answers in, readiness profile with gaps and roadmap out. Pure."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .answers import DONT_KNOW, NOT_APPLICABLE, AnswerSet, answer_problem
from .rubric import HORIZONS, Question, Rubric


@dataclass(frozen=True, slots=True)
class DimensionScore:
    id: str
    title: str
    score: float | None
    completeness: float
    answered: int
    total: int


@dataclass(frozen=True, slots=True)
class Gap:
    question: str
    dimension: str
    title: str
    current: int
    target: int
    priority: float
    next_step: str
    horizon: str
    critical: bool
    evidence_gap: bool


@dataclass(frozen=True, slots=True)
class Result:
    rubric: str
    rubric_version: str
    overall: float | None
    stage: str | None
    uncapped_stage: str | None
    capped_by: tuple[str, ...]
    dimensions: tuple[DimensionScore, ...]
    gaps: tuple[Gap, ...]
    evidence_gaps: tuple[str, ...]
    unanswered: tuple[str, ...]

    def roadmap(self) -> dict[str, list[Gap]]:
        """Gaps grouped by the horizon of their next step, highest priority first."""
        return {h: [g for g in self.gaps if g.horizon == h] for h in HORIZONS}

    def as_dict(self) -> dict:
        data = asdict(self)
        data["roadmap"] = {h: [g.question for g in gaps] for h, gaps in self.roadmap().items()}
        return data


def check_answers(rubric: Rubric, answers: AnswerSet) -> None:
    """Raise ValueError naming the first question whose answer the rubric cannot score."""
    for qid, answer in answers.answers.items():
        if qid not in rubric.questions:
            raise ValueError(f"unknown question {qid!r} for rubric {rubric.id!r}")
        problem = answer_problem(answer)
        if problem:
            raise ValueError(f"question {qid!r}: {problem}")


def weighted_mean(pairs: list[tuple[float, float]]) -> float | None:
    """Mean of (value, weight) pairs, or None when there is nothing to average."""
    total = sum(weight for _, weight in pairs)
    return sum(value * weight for value, weight in pairs) / total if total else None


def _dimension_score(dimension, answers) -> DimensionScore:
    scored, answered = [], 0
    for question in dimension.questions:
        answer = answers.get(question.id)
        if answer is None:
            continue
        answered += 1
        if answer.value != NOT_APPLICABLE:
            scored.append((answer.level * 25.0, question.weight))
    total = len(dimension.questions)
    return DimensionScore(dimension.id, dimension.title, weighted_mean(scored),
                          answered / total, answered, total)


def stage_for(rubric: Rubric, overall: float) -> str:
    """The highest stage whose threshold the overall index reaches."""
    return [s.id for s in rubric.stages if overall >= s.min_score][-1]


def _capped(rubric: Rubric, stage: str, capped_by: tuple[str, ...]) -> str:
    order = [s.id for s in rubric.stages]
    cap = rubric.weakest_link.cap_stage
    return cap if capped_by and order.index(stage) > order.index(cap) else stage


def _critical_blockers(rubric: Rubric, answers) -> tuple[str, ...]:
    limit = rubric.weakest_link.max_level
    return tuple(qid for qid, question in rubric.questions.items()
                 if question.critical and qid in answers
                 and answers[qid].level is not None and answers[qid].level <= limit)


def driver_factor(rubric: Rubric, question: Question, importance: dict) -> float:
    """The largest importance factor among the drivers the question serves (1 if none)."""
    factors = rubric.importance_factor
    default = rubric.default_importance
    return max((factors[importance.get(d, default)] for d in question.drivers), default=1.0)


def _gaps(rubric: Rubric, answers: AnswerSet) -> list[Gap]:
    gaps = []
    for qid, answer in answers.answers.items():
        level = answer.level
        question = rubric.questions[qid]
        target = answers.targets.get(qid) or rubric.target(question)
        if level is None or level >= target:
            continue
        step = question.next_steps[level]
        priority = (target - level) * question.weight * driver_factor(rubric, question, answers.drivers)
        gaps.append(Gap(qid, rubric.dimension_of[qid].id, question.title, level, target,
                        round(priority, 2), step.action, step.horizon, question.critical,
                        answer.value == DONT_KNOW))
    order = {qid: i for i, qid in enumerate(rubric.questions)}
    gaps.sort(key=lambda g: (-g.priority, not g.critical, order[g.question]))
    return gaps


def score(rubric: Rubric, answers: AnswerSet) -> Result:
    """Score an answer set against a rubric."""
    check_answers(rubric, answers)
    given = answers.answers
    dimensions = tuple(_dimension_score(d, given) for d in rubric.dimensions)
    overall = weighted_mean([(d.score, dim.weight) for d, dim in zip(dimensions, rubric.dimensions)
                             if d.score is not None])
    capped_by = _critical_blockers(rubric, given)
    uncapped = stage_for(rubric, overall) if overall is not None else None
    stage = _capped(rubric, uncapped, capped_by) if uncapped else None
    return Result(
        rubric=rubric.id, rubric_version=rubric.version,
        overall=overall, stage=stage, uncapped_stage=uncapped,
        capped_by=capped_by if stage != uncapped else (),
        dimensions=dimensions, gaps=tuple(_gaps(rubric, answers)),
        evidence_gaps=tuple(q for q, a in given.items() if a.value == DONT_KNOW),
        unanswered=tuple(q for q in rubric.questions if q not in given),
    )
