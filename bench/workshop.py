"""A workshop under load: participants join at once and answer every question, against the production server.

Starts ``sovready serve`` (Granian) on a free port with an instance holding one assessment and
an open workshop on all its dimensions. Each participant (a thread with its own keep-alive
connection and cookie) opens the join link, joins with a name, then opens and saves every
dimension page, and finally its overview. All start together behind a barrier. Prints p95 latency
per request type and the throughput, then checks the database: every participant's stored answers
equal what was sent, none lost or duplicated, and no request failed (no 5xx). Exits 1 otherwise.

    .venv/bin/python -m bench.workshop [PARTICIPANTS] [WORKERS]

tests/test_workshop_load.py runs it with 20 participants.
"""

import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from assessment import accounts, records, storage, workshops
from assessment.rubrics import stored_rubric
from assessment.web import create_app
from assessment.web.server import THREADS, WORKERS
from bench import arguments
from bench.web import PASSWORD, free_port, request, start_server, stop

TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def seed(instance: Path) -> tuple[str, str, dict[str, list[str]], str]:
    """An instance with an empty assessment and a workshop on every dimension: (workshop id, code, questions, db)."""
    app = create_app(instance_path=instance)
    db = storage.connect(app.config["DATABASE"])
    user, workspace = accounts.create_first_admin(db, "bench@example.org", "Bench", PASSWORD, "Bench")
    rubric = stored_rubric(db, *app.config["DEFAULT_RUBRIC"])
    assessment_id = records.create_assessment(db, workspace, rubric, "Workshop bench", created_by=user)
    workshop_id = workshops.create_workshop(db, assessment_id, [d.id for d in rubric.dimensions], user)
    code = workshops.get_workshop(db, workshop_id).join_code
    db.close()
    questions = {d.id: [q.id for q in d.questions] for d in rubric.dimensions}
    return workshop_id, code, questions, app.config["DATABASE"]


def answers_of(number: int, question_ids: list[str]) -> dict[str, str]:
    """What participant ``number`` answers: varied levels and some "don't know"."""
    return {qid: "dont_know" if (number + i) % 7 == 0 else str((number * 3 + i) % 5)
            for i, qid in enumerate(question_ids)}


class Participant:
    """One browser: its connection, its cookie, and the time of each request by type."""

    def __init__(self, port: int, timings: dict, failures: list):
        self.port, self.cookie, self.timings, self.failures = port, "", timings, failures

    def call(self, kind: str, method: str, path: str, expected: int, form: dict | None = None) -> str:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = urlencode(form, doseq=True) if form is not None else None
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        start = time.perf_counter()
        status, response_headers, page = request(self.port, method, path, body, headers)
        self.timings.setdefault(kind, []).append(time.perf_counter() - start)
        if status != expected:
            self.failures.append((kind, path, status))
        if response_headers.get("Set-Cookie"):
            self.cookie = response_headers["Set-Cookie"].split(";")[0]
        return page

    def run(self, number: int, workshop_id: str, code: str, questions: dict, sent: dict, barrier) -> None:
        barrier.wait()
        page = self.call("join page", "GET", f"/join/{code}", 200)
        token = TOKEN.search(page).group(1)
        self.call("join", "POST", f"/join/{code}", 302, {"csrf_token": token, "display_name": f"P{number}"})
        for dimension, ids in questions.items():
            self.call("dimension page", "GET", f"/p/{workshop_id}/{dimension}", 200)
            values = answers_of(number, ids)
            form = {"csrf_token": token, **{f"{qid}-value": v for qid, v in values.items()}}
            self.call("answer submission", "POST", f"/p/{workshop_id}/{dimension}", 302, form)
            sent.setdefault(f"P{number}", {}).update(values)
        self.call("overview", "GET", f"/p/{workshop_id}", 200)


def stored(database: str, workshop_id: str) -> tuple[dict, int]:
    """Every participant's stored answers by display name, and the number of participant rows."""
    db = storage.connect(database)
    answers: dict[str, dict[str, str]] = {}
    for name, qid, value in db.execute(
            "SELECT p.display_name, a.question_id, a.value FROM participant_answers a "
            "JOIN participants p ON p.id = a.participant_id WHERE p.workshop_id = ?", [workshop_id]):
        answers.setdefault(name, {})[qid] = value
    count = db.execute("SELECT count(*) FROM participants WHERE workshop_id = ?", [workshop_id]).fetchone()[0]
    db.close()
    return answers, count


def report(timings: dict, elapsed: float) -> None:
    total = sum(len(values) for values in timings.values())
    print(f"{total} requests in {elapsed:.2f} s: {total / elapsed:.0f} requests per second")
    print(f"  {'request':<18} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind, values in timings.items():
        values = sorted(values)
        print(f"  {kind:<18} {len(values):6d} {values[len(values) // 2] * 1000:8.1f} "
              f"{values[int(len(values) * 0.95)] * 1000:8.1f} {values[-1] * 1000:8.1f}")


def verify(sent: dict, answers: dict, count: int, participants: int, failures: list) -> bool:
    problems = [f"{len(failures)} requests failed, first: {failures[:3]}"] if failures else []
    if count != participants:
        problems.append(f"{count} participants stored, {participants} joined")
    if answers != sent:
        wrong = sorted(name for name in sent.keys() | answers.keys() if sent.get(name) != answers.get(name))
        problems.append(f"stored answers differ from those sent for {len(wrong)} participants: {wrong[:5]}")
    for problem in problems:
        print(f"FAIL {problem}")
    if not problems:
        rows = sum(len(values) for values in answers.values())
        print(f"verified: {count} participants, {rows} stored answers equal those sent, no request failed")
    return not problems


def run(participants: int, workers: int | None = None) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        workshop_id, code, questions, database = seed(Path(folder))
        # More participants than the server's default cap need the setting raised (docs/workshop.md).
        (Path(folder) / "config.py").write_text(f"WORKSHOP_MAX_PARTICIPANTS = {max(participants, 200)}\n")
        port = free_port()
        server = start_server(Path(folder), port, workers)
        try:
            timings, failures, sent = {}, [], {}
            barrier = threading.Barrier(participants)
            threads = [threading.Thread(target=Participant(port, timings, failures).run,
                                        args=(n, workshop_id, code, questions, sent, barrier))
                       for n in range(participants)]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - start
        finally:
            stop(server)
        print(f"sovready serve: Granian, {workers or WORKERS} workers x {THREADS} threads; "
              f"{participants} participants, "
              f"{sum(map(len, questions.values()))} questions each")
        report(timings, elapsed)
        return verify(sent, *stored(database, workshop_id), participants, failures)


if __name__ == "__main__":
    count, workers = arguments(__doc__, 200, None)
    sys.exit(0 if run(count, workers) else 1)
