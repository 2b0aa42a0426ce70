"""The scoring engine: answers in, readiness profile with gaps and roadmap out. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from .answers import DONT_KNOW, SCORING_LEVEL, AnswerSet, answer_problem, valid_value
from .benchmark import PeerComparison, compare
from .peers import PeerDataset
from .rubric import HORIZONS, Question, Rubric, weighted_mean


# Per-item records are NamedTuples: immutable like the frozen Result, and five times cheaper to
# create than frozen dataclasses, which was most of the scoring time (bench/scoring.py).
class DimensionScore(NamedTuple):
    id: str
    title: str
    score: float | None
    completeness: float
    answered: int
    total: int


class Gap(NamedTuple):
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
    table_stakes: bool = False


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
    peers: PeerComparison | None = None

    def roadmap(self) -> dict[str, list[Gap]]:
        """Gaps grouped by the horizon of their next step, highest priority first."""
        return {h: [g for g in self.gaps if g.horizon == h] for h in HORIZONS}

    def as_dict(self) -> dict:
        """The result as plain data for JSON; scores rounded to two decimals."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["overall"] = _round(self.overall)
        data["dimensions"] = [d._asdict() | {"score": _round(d.score), "completeness": _round(d.completeness)}
                              for d in self.dimensions]
        data["gaps"] = [g._asdict() | {"priority": _round(g.priority)} for g in self.gaps]
        data["roadmap"] = {h: [g.question for g in gaps] for h, gaps in self.roadmap().items()}
        data["peers"] = self.peers.as_dict() if self.peers else None
        return data


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _level(rubric: Rubric, qid: str, answer) -> int | None:
    """An answer's scoring level; ValueError naming the question if it cannot be scored."""
    value = getattr(answer, "value", None)
    if not valid_value(value):
        raise ValueError(f"question {qid!r}: {answer_problem(answer)}")
    return SCORING_LEVEL[value]


class _Item(NamedTuple):
    """What scoring needs of one question, flattened once per rubric (the hot path reads it)."""

    id: str
    dimension: str
    title: str
    weight: float
    critical: bool
    drivers: tuple[str, ...]
    target: int
    steps: tuple[tuple[str, str], ...]


class _Plan:
    """A rubric flattened for scoring, with its priority factors memoized per driver rating."""

    def __init__(self, rubric: Rubric):
        self.dimensions = tuple((d, tuple(_item(rubric, d.id, q) for q in d.questions))
                                for d in rubric.dimensions)
        self.items = tuple(item for _, items in self.dimensions for item in items)
        self._factors: dict[tuple[float, ...], dict[str, float]] = {}

    def question_factors(self, driver_factor: dict[str, float]) -> dict[str, float]:
        """Each question's largest driver factor (1 if it serves no driver)."""
        key = tuple(driver_factor.values())
        if key not in self._factors:
            self._factors[key] = {item.id: max((driver_factor[d] for d in item.drivers), default=1.0)
                                  for item in self.items}
        return self._factors[key]


def _item(rubric: Rubric, dimension: str, question: Question) -> _Item:
    steps = tuple((question.next_steps[level].action, question.next_steps[level].horizon)
                  for level in sorted(question.next_steps))
    return _Item(question.id, dimension, question.title, question.weight, question.critical,
                 tuple(question.drivers), question.target or rubric.default_target, steps)


class _Identity:
    """Hashes a rubric by identity: pydantic's frozen hash would hash every field."""

    __slots__ = ("rubric",)

    def __init__(self, rubric: Rubric):
        self.rubric = rubric

    def __hash__(self) -> int:
        return id(self.rubric)

    def __eq__(self, other) -> bool:
        return self.rubric is other.rubric


@lru_cache(maxsize=32)
def _plan(key: _Identity) -> _Plan:
    return _Plan(key.rubric)


_new_tuple = tuple.__new__


class _Tally:
    """What one pass over the answers collects besides the dimension scores."""

    def __init__(self, answers: AnswerSet, factors: dict[str, float], limit: int, gaps: bool = True):
        self.given, self.targets, self.factors, self.limit = answers.answers, answers.targets, factors, limit
        self.wants_gaps = gaps
        self.gaps: list[Gap] = []
        self.blockers: list[str] = []
        self.unanswered: list[str] = []

    def gap(self, item: _Item, level: int, dont_know: bool) -> None:
        target = self.targets.get(item.id) or item.target
        if self.wants_gaps and level < target:
            action, horizon = item.steps[level]
            # Gap(...) goes through NamedTuple's generated Python __new__; building the tuple
            # directly is three times cheaper, and this is the hot path (bench/scoring.py).
            self.gaps.append(_new_tuple(Gap, (item.id, item.dimension, item.title, level, target,
                                              (target - level) * item.weight * self.factors[item.id],
                                              action, horizon, item.critical, dont_know, False)))
        if item.critical and level <= self.limit:
            self.blockers.append(item.id)


def _dimension_score(rubric: Rubric, dimension, items: tuple[_Item, ...], tally: _Tally) -> DimensionScore:
    total = weights = answered = 0
    for item in items:
        answer = tally.given.get(item.id)
        if answer is None:
            tally.unanswered.append(item.id)
            continue
        answered += 1
        value = answer.value
        # Plain levels, the common case, skip the function call (bench/scoring.py).
        level = value if value.__class__ is int and 0 <= value <= 4 else _level(rubric, item.id, answer)
        if level is not None:
            total += level * 25.0 * item.weight
            weights += item.weight
            if level < 4:  # level 4 meets every target and caps nothing
                tally.gap(item, level, value == DONT_KNOW)
    return DimensionScore(dimension.id, dimension.title, total / weights if weights else None,
                          answered / len(items), answered, len(items))


def stage_for(rubric: Rubric, overall: float) -> str:
    """The highest stage whose threshold the overall index reaches."""
    return [s.id for s in rubric.stages if overall >= s.min_score][-1]


def _capped(rubric: Rubric, stage: str, capped_by: tuple[str, ...]) -> str:
    order = [s.id for s in rubric.stages]
    cap = rubric.weakest_link.cap_stage
    return cap if capped_by and order.index(stage) > order.index(cap) else stage


def driver_factors(rubric: Rubric, importance: dict[str, str]) -> dict[str, float]:
    """Each driver's priority factor from the organization's ratings (the default if unrated)."""
    factors = rubric.importance_factor
    return {d.id: factors[importance.get(d.id, rubric.default_importance)] for d in rubric.drivers}


def _check_known(rubric: Rubric, answers: AnswerSet) -> None:
    unknown = answers.answers.keys() - rubric.questions.keys()
    if unknown:
        raise ValueError(f"unknown question {min(unknown)!r} for rubric {rubric.id!r}")


def _raise_table_stakes(gaps: list[Gap], stakes: frozenset[str], factor: float) -> list[Gap]:
    return [g._replace(priority=g.priority * factor, table_stakes=True) if g.question in stakes else g
            for g in gaps]


def score(rubric: Rubric, answers: AnswerSet, peers: PeerDataset | None = None, *, gaps: bool = True) -> Result:
    """Score an answer set against a rubric, and compare it with survey peers when given.

    ``gaps=False`` leaves out the gaps (and so the roadmap), for the scores every save stores:
    they were a third of scoring, which every answer submission does.
    ValueError names any question the rubric cannot score.
    """
    _check_known(rubric, answers)
    plan = _plan(_Identity(rubric))
    factors = plan.question_factors(driver_factors(rubric, answers.drivers))
    tally = _Tally(answers, factors, rubric.weakest_link.max_level, gaps)
    dimensions = tuple(_dimension_score(rubric, d, items, tally) for d, items in plan.dimensions)
    overall = weighted_mean([(d.score, dim.weight) for d, (dim, _) in zip(dimensions, plan.dimensions, strict=True)
                             if d.score is not None])
    uncapped = stage_for(rubric, overall) if overall is not None else None
    stage = _capped(rubric, uncapped, tally.blockers) if uncapped else None
    comparison = compare(rubric, peers, answers) if peers is not None else None
    gaps = tally.gaps if comparison is None else _raise_table_stakes(
        tally.gaps, comparison.table_stakes, rubric.table_stakes.factor)
    evidence_gaps = tuple(g.question for g in gaps if g.evidence_gap)
    # A stable sort of gaps in rubric order: ties go to critical questions, then rubric order.
    gaps.sort(key=lambda g: (-g.priority, not g.critical))
    return Result(
        rubric=rubric.id, rubric_version=rubric.version,
        overall=overall, stage=stage, uncapped_stage=uncapped,
        capped_by=tuple(tally.blockers) if stage != uncapped else (),
        dimensions=dimensions, gaps=tuple(gaps), evidence_gaps=evidence_gaps,
        unanswered=tuple(tally.unanswered), peers=comparison,
    )
