"""Divergence of a group's answers, for workshops: pure functions of answer values, no database."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from .answers import normalize_value
from .rubric import LEVELS

FLAG_SPREAD = 2  # a spread of two levels or more is flagged for discussion
DISPUTED = 5  # how many of the most disputed questions the report lists


@dataclass(frozen=True)
class Spread:
    """How a group answered one question: counts per level 0 to 4, and the answers without a level."""

    question_id: str
    counts: tuple[int, ...]
    other: int  # not applicable or don't know
    median: int | None
    spread: int | None  # highest level minus lowest

    @property
    def flagged(self) -> bool:
        return self.spread is not None and self.spread >= FLAG_SPREAD

    @property
    def answered(self) -> int:
        return sum(self.counts) + self.other


def spread_of(question_id: str, values: Iterable[str]) -> Spread:
    """The distribution of one question's answer values ('0' to '4', 'not_applicable', 'dont_know')."""
    normalized = [normalize_value(v) for v in values]
    levels = [v for v in normalized if isinstance(v, int)]
    others = len(normalized) - len(levels)
    counts = tuple(levels.count(level) for level in LEVELS)
    if not levels:
        return Spread(question_id, counts, others, None, None)
    return Spread(question_id, counts, others, statistics.median_low(levels), max(levels) - min(levels))


def divergence(question_ids: list[str], answers: dict[str, list[str]]) -> list[Spread]:
    """Every question's spread, most divergent first (then in the order given)."""
    spreads = [spread_of(q, list(answers.get(q, []))) for q in question_ids]
    return sorted(spreads, key=lambda s: -(s.spread if s.spread is not None else -1))


@dataclass(frozen=True)
class Summary:
    """A workshop as the report shows it: participants, every question's spread, the consensus."""

    participants: int
    spreads: tuple[Spread, ...]  # most divergent first
    consensus: dict[str, tuple[int, str]] = field(default_factory=dict)  # question id -> (level, rationale)

    def disputed(self) -> list[Spread]:
        """The flagged questions, most divergent first, at most DISPUTED of them."""
        return [s for s in self.spreads if s.flagged][:DISPUTED]
