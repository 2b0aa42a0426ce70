"""Cohort statistics over 10,000 stored assessments (target: under 200 ms).

Seeds a real SQLite file with N scored assessments (one organization each, all opted in, in
one workspace), then times, in the same run, the query that selects the cohort and the
statistics over it, for the whole instance and for the workspace, with and without a filter.

    .venv/bin/python -m bench.cohorts [N]
"""

import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from assessment import accounts, records, storage
from assessment.cohorts import Member, cohort_stats
from assessment.paths import DEFAULT_RUBRIC
from assessment.rubrics import add_rubric
from assessment.scoring import score
from bench import arguments
from bench.scoring import make_answer_sets

REGIONS = ["us", "europe", "apac", "other_americas", "mea"]


def seed(db, rubric, count: int) -> int:
    _, workspace = accounts.create_first_admin(db, "bench@example.org", "Bench", "load test password 123", "Bench")
    rng = random.Random(7)
    assessments, scores = [], []
    for i, answers in enumerate(make_answer_sets(rubric, count)):
        result = score(rubric, answers)
        aid = f"bench-{i:05d}"
        assessments.append((aid, workspace, f"Org {i}", f"Org {i}", json.dumps({"region": rng.choice(REGIONS)}),
                            rubric.id, rubric.version, 1, storage.now(), storage.now()))
        summary = json.dumps({d.id: d.score for d in result.dimensions})
        rows = [(d.id, d.score, d.completeness, None, None) for d in result.dimensions] + \
            [(records.OVERALL, result.overall, 1.0, result.stage, summary)]
        scores += [(aid, dim, rubric.id, rubric.version, s, c, 0, 0, stage, dims) for dim, s, c, stage, dims in rows]
    with storage.write_transaction(db):
        db.conn.executemany("INSERT INTO assessments (id, workspace_id, title, organization, profile, rubric_id, "
                            "rubric_version, opt_in_benchmark, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                            assessments)
        db.conn.executemany("INSERT INTO scores VALUES (?,?,?,?,?,?,?,?,?,?)", scores)
    return workspace


def timed(fn, runs=5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main():
    (count,) = arguments(__doc__, 10_000)
    with tempfile.TemporaryDirectory() as folder:
        db = storage.init(Path(folder) / "bench.db")
        rubric, _ = add_rubric(db, DEFAULT_RUBRIC.read_text(encoding="utf-8"), DEFAULT_RUBRIC.name)
        workspace = seed(db, rubric, count)
        own = Member("me", 50.0, {})
        query = timed(lambda: records.cohort_members(db, rubric.id, rubric.version))
        members = records.cohort_members(db, rubric.id, rubric.version)
        stats = timed(lambda: cohort_stats(members, own))
        total = timed(lambda: cohort_stats(records.cohort_members(db, rubric.id, rubric.version), own))
        scoped = timed(lambda: cohort_stats(records.cohort_members(db, rubric.id, rubric.version, workspace),
                                            own, {"region": "europe"}))
        print(f"{count} stored assessments, {len(members)} in the instance cohort")
        print(f"select the cohort: {query:.1f} ms; statistics: {stats:.1f} ms (medians of 5)")
        print(f"instance cohort, select and statistics: {total:.1f} ms (target < 200 ms)")
        print(f"workspace cohort filtered by region: {scoped:.1f} ms")


if __name__ == "__main__":
    main()
