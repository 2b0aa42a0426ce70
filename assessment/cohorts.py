"""Live cohorts: how an organization compares with the other assessments kept in the tool. Pure.

A cohort is a set of organizations' latest scores (the same workspace, a portfolio, a workshop,
or every assessment on the instance whose owner opted in); storage selects the members, this
module computes the statistics. Below MIN_COHORT organizations nothing is shown, so that no
organization's answers can be inferred from the figures.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

MIN_COHORT = 5
FILTERS = ("region", "org_type", "size")


@dataclass(frozen=True)
class Member:
    """One organization's latest scores in a cohort."""

    organization: str
    overall: float | None
    dimensions: Mapping[str, float | None]
    profile: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Distribution:
    n: int
    minimum: float
    q1: float
    median: float
    q3: float
    maximum: float


@dataclass(frozen=True)
class CohortStats:
    size: int
    withheld: str | None
    filters: Mapping[str, str]
    overall: Distribution | None = None
    dimensions: Mapping[str, Distribution | None] = field(default_factory=dict)
    percentile: float | None = None
    dimension_percentiles: Mapping[str, float | None] = field(default_factory=dict)


def distribution(values: Iterable[float]) -> Distribution | None:
    """Minimum, quartiles, median and maximum (inclusive method), or None for fewer than two values."""
    data = sorted(values)
    if len(data) < 2:
        return None
    q1, median, q3 = statistics.quantiles(data, n=4, method="inclusive")
    return Distribution(len(data), data[0], q1, median, q3, data[-1])


def percentile_of(value: float | None, values: list[float]) -> float | None:
    """Share of values below ``value``, counting ties as half (0 to 100)."""
    if value is None or not values:
        return None
    below = sum(v < value for v in values)
    ties = sum(v == value for v in values)
    return 100 * (below + ties / 2) / len(values)


def _matches(member: Member, filters: Mapping[str, str]) -> bool:
    return all(member.profile.get(key) == value for key, value in filters.items())


def withheld_message(size: int) -> str:
    return (f"This cohort has {size} organization{'s' if size != 1 else ''}. Statistics are shown from "
            f"{MIN_COHORT} organizations upwards, so that no organization's answers can be inferred.")


def cohort_stats(members: Iterable[Member], own: Member | None = None,
                 filters: Mapping[str, str] | None = None) -> CohortStats:
    """Statistics of a cohort, filtered by profile, and ``own``'s percentile among the others."""
    filters = {k: v for k, v in (filters or {}).items() if v}
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise ValueError(f"unknown cohort filter {sorted(unknown)[0]!r}: use {', '.join(FILTERS)}")
    others = [m for m in members if _matches(m, filters) and (own is None or m.organization != own.organization)]
    size = len({m.organization for m in others})
    if size < MIN_COHORT:
        return CohortStats(size, withheld_message(size), filters)
    overall = [m.overall for m in others if m.overall is not None]
    keys = sorted({k for m in others for k in m.dimensions})
    by_dimension = {k: [m.dimensions[k] for m in others if m.dimensions.get(k) is not None] for k in keys}
    return CohortStats(
        size, None, filters, distribution(overall), {k: distribution(v) for k, v in by_dimension.items()},
        percentile_of(own.overall, overall) if own else None,
        {k: percentile_of(own.dimensions.get(k), v) for k, v in by_dimension.items()} if own else {},
    )
