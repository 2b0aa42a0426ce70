"""What a portfolio's owner sees: distributions, ranking, common gaps and changes between rounds. Pure.

Works on the rows ``portfolios.round_rows`` reads (one per agency) and on scoring results; the
statistics themselves are ``cohorts.distribution``, the same as every other cohort's.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .cohorts import Distribution, distribution
from .scoring import Gap

TOP_GAPS = 10


@dataclass(frozen=True)
class CommonGap:
    question: str
    dimension: str
    title: str
    agencies: int
    next_step: str


@dataclass(frozen=True)
class Summary:
    """The figures of one round (optionally filtered), as the dashboard, the exports and the PDF show them."""

    rows: list[dict]
    finished: int
    overall: Distribution | None
    dimensions: Mapping[str, Distribution | None]
    ranking: list[dict]
    common_gaps: list[CommonGap]
    deltas: Mapping[int, float | None]
    median_delta: float | None
    dimension_deltas: Mapping[str, float | None]
    # Per dimension, the finished agencies' median score on the linked questions only: what the
    # survey peer reference (scored on those questions) compares with.
    linked_medians: Mapping[str, float | None]
    compared: int  # the agencies finished in this round and the previous one, which the changes are over


def group_medians(rows: list[dict], dimension_ids: list[str]) -> list[dict]:
    """Per agency type, then per size, the median score per dimension of the finished ``rows`` in it,
    as heatmap rows named after the group and its count: what a heatmap of a thousand agencies, one
    row each, cannot show."""
    groups = []
    for key in ("type", "size"):
        for value in choices(rows, key):
            members = [r for r in rows if r[key] == value]
            groups.append({"name": f"{key} {value} ({len(members)})", "dimensions": {
                d: _median(r["dimensions"].get(d) for r in members) for d in dimension_ids}})
    return groups


def filter_rows(rows: list[dict], filters: Mapping[str, str]) -> list[dict]:
    """The agencies whose type and size match the chosen filters (empty filters match all)."""
    return [r for r in rows if all(not value or r[key] == value for key, value in filters.items())]


def unfinished(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """The agencies the figures leave out, each list by name: those that have not started (not
    joined, left the round, or nothing answered yet) and those in progress."""
    waiting = sorted((r for r in rows if not r["finished"]), key=lambda r: r["name"].lower())
    return [r for r in waiting if not r["answered"]], [r for r in waiting if r["answered"]]


def choices(rows: list[dict], key: str) -> list[str]:
    """The distinct non-empty values of an agency field, for a filter's options."""
    return sorted({r[key] for r in rows if r[key]})


def _median(values: Iterable[float | None]) -> float | None:
    data = [v for v in values if v is not None]
    return statistics.median(data) if data else None


def _delta(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else round(now - before, 1)


def _median_change(pairs: Iterable[tuple[float | None, float | None]]) -> float | None:
    """The change of the median over (now, before) pairs of the same agencies, where both are scored:
    a median over different sets of agencies would show who joined or left, not a change."""
    scored = [(now, before) for now, before in pairs if now is not None and before is not None]
    return _delta(_median(now for now, _ in scored), _median(before for _, before in scored))


def common_gaps(gaps: Iterable[Iterable[Gap]], top: int = TOP_GAPS) -> list[CommonGap]:
    """The questions on which most agencies have a gap (``gaps``: each agency's), most agencies first
    (ties in rubric order of first sight)."""
    counts, first = Counter(), {}
    for agency in gaps:
        for gap in agency:
            counts[gap.question] += 1
            first.setdefault(gap.question, gap)
    return [CommonGap(q, first[q].dimension, first[q].title, n, first[q].next_step)
            for q, n in counts.most_common(top)]


def summarize(rows: list[dict], previous: list[dict], dimension_ids: list[str],
              gaps: Iterable[Iterable[Gap]], linked: list[Mapping[str, float | None]]) -> Summary:
    """The round's figures over its finished agencies; the changes over those also finished in the
    previous round. ``gaps`` holds each finished agency's gaps, ``linked`` its scores on the linked
    questions (none without survey peers)."""
    done = [r for r in rows if r["finished"]]
    before = {r["id"]: r for r in previous if r["finished"]}
    both = [(r, before[r["id"]]) for r in done if r["id"] in before]
    deltas = {now["id"]: _delta(now["overall"], then["overall"]) for now, then in both}
    dimensions = {d: distribution(r["dimensions"][d] for r in done if r["dimensions"].get(d) is not None)
                  for d in dimension_ids}
    dimension_deltas = {d: _median_change((now["dimensions"].get(d), then["dimensions"].get(d)) for now, then in both)
                        for d in dimension_ids}
    return Summary(rows, len(done), distribution(r["overall"] for r in done if r["overall"] is not None), dimensions,
                   sorted(done, key=lambda r: (-(r["overall"] or 0), r["name"].lower())), common_gaps(gaps),
                   deltas, _median_change((now["overall"], then["overall"]) for now, then in both), dimension_deltas,
                   {d: _median(scores[d] for scores in linked) for d in dimension_ids}, len(both))


# The owner's table of agencies, a page at a time: a 1,000-agency round listed whole was a page of
# several hundred KiB. Sorted and searched here, on the rows the summary has read anyway, so that
# a page costs the same queries whatever its number.

PAGE_SIZE = 50
# Each sortable column's value; None (not scored, no change, not joined) sorts last either way.
SORT_KEYS = {
    "name": lambda row, _: row["name"].lower(),
    "type": lambda row, _: row["type"].lower() or None,
    "size": lambda row, _: row["size"].lower() or None,
    "answered": lambda row, _: row["answered"] / row["total"] if row["total"] else None,
    "index": lambda row, _: row["overall"] if row["finished"] else None,
    "change": lambda row, deltas: deltas.get(row["id"]),
}


@dataclass(frozen=True)
class AgencyPage:
    """One page of the round's agencies as sorted and searched, each row with its ``rank`` (by index, None
    until finished); ``matching``: the agencies the search finds, over ``pages`` pages."""

    rows: list[dict]
    number: int
    pages: int
    matching: int


def search(rows: list[dict], words: str) -> list[dict]:
    """The agencies whose name holds ``words`` (ignoring case); all of them for no words."""
    wanted = words.strip().casefold()
    return [r for r in rows if wanted in r["name"].casefold()]


def paginate(rows: list, number: int, size: int = PAGE_SIZE) -> tuple[list, int, int]:
    """(the rows of page ``number``, that number brought within the pages, how many pages)."""
    pages = max(1, -(-len(rows) // size))
    number = min(max(number, 1), pages)
    return rows[(number - 1) * size:number * size], number, pages


def agency_page(summary: Summary, words: str, sort: str, descending: bool, number: int,
                size: int = PAGE_SIZE) -> AgencyPage:
    """Page ``number`` of the summary's agencies whose name holds ``words``, sorted by ``sort`` (a key of
    SORT_KEYS; ties by name)."""
    value = SORT_KEYS[sort]
    found = sorted(search(summary.rows, words), key=lambda r: r["name"].lower())
    scored = sorted((r for r in found if value(r, summary.deltas) is not None),
                    key=lambda r: value(r, summary.deltas), reverse=descending)  # stable: ties stay by name
    rows, number, pages = paginate(scored + [r for r in found if value(r, summary.deltas) is None], number, size)
    ranks = {r["id"]: rank for rank, r in enumerate(summary.ranking, 1)}
    return AgencyPage([{**r, "rank": ranks.get(r["id"])} for r in rows], number, pages, len(found))
