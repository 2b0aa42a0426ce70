"""Live cohorts: how an organization compares with the other assessments kept in the tool. Pure.

A cohort is a set of organizations' latest scores (the same workspace, a portfolio, a workshop,
or every assessment on the instance whose owner opted in); storage selects the members, this
module computes the statistics. Below MIN_COHORT organizations nothing is shown, so that no
organization's answers can be inferred from the figures.

The instance-wide cohort is seen by people who did not choose its members, and any account can
put organizations of its own in it (an import, opted in, takes seconds): with four such decoys,
a cohort of five was the decoys and one real organization, whose exact scores its minimum or
maximum then showed. So it is shown without the viewer's own workspaces, withheld below
MIN_COHORT *other workspaces*, and without minimum and maximum (each is one organization's exact
score). This does not stop someone with several accounts in several workspaces (docs/security.md).
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Iterable, Mapping
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
    workspace: int | None = None  # the workspace a stored assessment is kept in


@dataclass(frozen=True)
class Distribution:
    n: int
    minimum: float | None  # None where the extremes are withheld (the instance-wide cohort)
    q1: float
    median: float
    q3: float
    maximum: float | None


@dataclass(frozen=True)
class CohortStats:
    size: int
    withheld: str | None
    filters: Mapping[str, str]
    overall: Distribution | None = None
    dimensions: Mapping[str, Distribution | None] = field(default_factory=dict)
    percentile: float | None = None
    dimension_percentiles: Mapping[str, float | None] = field(default_factory=dict)
    workspaces: int | None = None  # the other workspaces the members come from, instance-wide
    extremes: bool = True  # whether the distributions give minimum and maximum


def distribution(values: Iterable[float], extremes: bool = True) -> Distribution | None:
    """Minimum, quartiles, median and maximum (inclusive method), or None for fewer than two values.
    Without ``extremes``, minimum and maximum are None."""
    data = sorted(values)
    if len(data) < 2:
        return None
    q1, median, q3 = statistics.quantiles(data, n=4, method="inclusive")
    low, high = (data[0], data[-1]) if extremes else (None, None)
    return Distribution(len(data), low, q1, median, q3, high)


def percentile_of(value: float | None, values: list[float]) -> float | None:
    """Share of values below ``value``, counting ties as half (0 to 100)."""
    if value is None or not values:
        return None
    below = sum(v < value for v in values)
    ties = sum(v == value for v in values)
    return 100 * (below + ties / 2) / len(values)


def _matches(member: Member, filters: Mapping[str, str]) -> bool:
    return all(member.profile.get(key) == value for key, value in filters.items())


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def withheld_message(size: int, workspaces: int | None = None) -> str:
    """Why a cohort of ``size`` organizations (from ``workspaces`` other workspaces, instance-wide)
    shows nothing."""
    if workspaces is None:
        return (f"This cohort has {_counted(size, 'organization')}. Statistics are shown from "
                f"{MIN_COHORT} organizations upwards, so that no organization's answers can be inferred.")
    return (f"This cohort has {_counted(size, 'organization')} from {_counted(workspaces, 'other workspace')}. "
            f"Statistics are shown from {MIN_COHORT} workspaces other than yours upwards, so that no "
            f"organization's answers can be inferred, and no organizations of your own can make up the numbers.")


def cohort_stats(members: Iterable[Member], own: Member | None = None, filters: Mapping[str, str] | None = None,
                 viewer_workspaces: Collection[int] | None = None) -> CohortStats:
    """Statistics of a cohort, filtered by profile, and ``own``'s percentile among the others.

    ``viewer_workspaces``, for the instance-wide cohort: the workspaces of whoever sees it, whose
    organizations are left out; the cohort is then withheld below MIN_COHORT other workspaces,
    and its distributions have no minimum and maximum (see the module's docstring)."""
    filters = {k: v for k, v in (filters or {}).items() if v}
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise ValueError(f"unknown cohort filter {sorted(unknown)[0]!r}: use {', '.join(FILTERS)}")
    instance = viewer_workspaces is not None
    others = [m for m in members if _matches(m, filters) and (own is None or m.organization != own.organization)
              and not (instance and m.workspace in viewer_workspaces)]
    size = len({m.organization for m in others})
    workspaces = len({m.workspace for m in others}) if instance else None
    if (workspaces if instance else size) < MIN_COHORT:
        return CohortStats(size, withheld_message(size, workspaces), filters, workspaces=workspaces)
    overall = [m.overall for m in others if m.overall is not None]
    keys = sorted({k for m in others for k in m.dimensions})
    by_dimension = {k: [m.dimensions[k] for m in others if m.dimensions.get(k) is not None] for k in keys}
    return CohortStats(
        size, None, filters, distribution(overall, not instance),
        {k: distribution(v, not instance) for k, v in by_dimension.items()},
        percentile_of(own.overall, overall) if own else None,
        {k: percentile_of(own.dimensions.get(k), v) for k, v in by_dimension.items()} if own else {},
        workspaces, not instance,
    )
