"""A portfolio of 1,000 agencies with complete answers: dashboard, CSV export and PDF.

Seeds a real SQLite file directly (one transaction of bulk inserts, as bench/cohorts.py does),
then times the owner's pages through the Flask test client, in the same process, and the
worker's rendering of the PDF (the request only computes the digest of its figures).
Targets on 2 cores: dashboard < 1 s, CSV < 2 s, PDF report page < 1 s, PDF < 10 s.

    .venv/bin/python -m bench.portfolio [N]
"""

import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from assessment import accounts, jobs, portfolio_report, portfolios, records, storage
from assessment.answers import Answer, AnswerSet
from assessment.rubrics import stored_rubric
from assessment.scoring import score
from assessment.web import create_app
from bench import arguments

PASSWORD = "load test password 123"  # noqa: S105 (a throwaway account's; no 'bench': its email is bench@)
TYPES, SIZES = ["ministry", "regulator", "agency", "municipality"], ["small", "medium", "large"]


def _answers(rubric, rng) -> AnswerSet:
    return AnswerSet(answers={q: Answer(rng.randint(0, 4)) for q in rubric.questions})


def _agency_rows(db, rubric, portfolio_id, round_id, count):
    """The rows of every table an agency touches: workspace, agency, assessment, answers, scores, link."""
    rng, stamp = random.Random(7), storage.now()
    tables = {name: [] for name in ("workspaces", "agencies", "assessments", "answers", "scores", "links")}
    for i in range(count):
        workspace, aid, answers = 1000 + i, f"pf-{i:05d}", _answers(rubric, rng)
        result = score(rubric, answers)
        tables["workspaces"].append((workspace, f"Agency {i}", stamp))
        tables["agencies"].append((i + 1, portfolio_id, f"Agency {i:04d}", rng.choice(TYPES), rng.choice(SIZES),
                                   "", workspace, stamp, stamp))
        tables["assessments"].append((aid, workspace, f"Agency {i}", f"Agency {i}", rubric.id, rubric.version,
                                      stamp, stamp))
        tables["answers"] += [(aid, q, str(a.value), stamp) for q, a in answers.answers.items()]
        total = len(rubric.questions)
        tables["scores"] += [(aid, d.id, rubric.id, rubric.version, d.score, 1.0, d.answered, d.total, None, None)
                             for d in result.dimensions]
        tables["scores"].append((aid, records.OVERALL, rubric.id, rubric.version, result.overall, 1.0, total, total,
                                 result.stage, json.dumps({d.id: d.score for d in result.dimensions})))
        tables["links"].append((round_id, i + 1, aid))
    return tables


INSERTS = {
    "workspaces": "INSERT INTO workspaces (id, name, created_at) VALUES (?,?,?)",
    "agencies": "INSERT INTO portfolio_agencies (id, portfolio_id, name, type, size, contact, workspace_id, "
                "invited_at, joined_at) VALUES (?,?,?,?,?,?,?,?,?)",
    "assessments": "INSERT INTO assessments (id, workspace_id, title, organization, rubric_id, rubric_version, "
                   "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
    "answers": "INSERT INTO answers (assessment_id, question_id, value, updated_at) VALUES (?,?,?,?)",
    "scores": "INSERT INTO scores VALUES (?,?,?,?,?,?,?,?,?,?)",
    "links": "INSERT INTO round_assessments (round_id, agency_id, assessment_id) VALUES (?,?,?)",
}


def seed(db, rubric, count: int) -> int:
    _, workspace = accounts.create_first_admin(db, "bench@example.org", "Bench", PASSWORD, "Bench office")
    portfolio_id = portfolios.create_portfolio(db, workspace, "Bench portfolio", rubric, "2026", None)
    round_id = portfolios.rounds(db, portfolio_id)[0]["id"]
    tables = _agency_rows(db, rubric, portfolio_id, round_id, count)
    with storage.write_transaction(db):
        for name, sql in INSERTS.items():
            db.conn.executemany(sql, tables[name])
    return portfolio_id


def timed(client, url: str, runs: int) -> tuple[float, int]:
    """The median time of ``runs`` GETs after one warm-up, and the response's size."""
    size = len(client.get(url).data)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code  # noqa: S101 (a benchmark's sanity check)
    return statistics.median(times), size


def main():
    (count,) = arguments(__doc__, 1000)
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, instance_path=Path(folder))
        db = storage.connect(app.config["DATABASE"])
        start = time.perf_counter()
        portfolio_id = seed(db, stored_rubric(db, *app.config["DEFAULT_RUBRIC"]), count)
        print(f"seeded {count} agencies with complete answers in {time.perf_counter() - start:.1f} s")
        client = app.test_client()
        client.post("/login", data={"email": "bench@example.org", "password": PASSWORD})
        for label, url, runs, target in (("dashboard", f"/portfolios/{portfolio_id}", 5, 1),
                                         ("CSV export", f"/portfolios/{portfolio_id}/export.csv", 5, 2),
                                         ("PDF report page", f"/portfolios/{portfolio_id}/report", 5, 1)):
            seconds, size = timed(client, url, runs)
            print(f"{label}: {seconds:.2f} s (median of {runs}, target < {target} s, {_verdict(seconds, target)}); "
                  f"{size / 1024:.0f} KiB")
        # The PDF itself is rendered by the worker, never in a request: time that work here.
        inputs = jobs.portfolio_inputs(db, portfolio_id, portfolios.rounds(db, portfolio_id)[0]["id"])
        start = time.perf_counter()
        pdf = portfolio_report.render_pdf(**inputs)
        seconds = time.perf_counter() - start
        print(f"PDF, rendered by the worker: {seconds:.2f} s (target < 10 s, {_verdict(seconds, 10)}); "
              f"{len(pdf) / 1024:.0f} KiB")


def _verdict(seconds: float, target: float) -> str:
    return "ok" if seconds < target else "MISSED"


if __name__ == "__main__":
    main()
